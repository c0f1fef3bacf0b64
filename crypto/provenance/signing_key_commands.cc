// CLI: telltale key signing-gen | signing-pub
#include <cstdio>
#include <memory>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/provenance/signing_key.h"

namespace telltale::provenance {
namespace {

StatusOr<int> SigningGen(const std::string& name, const std::string& out) {
  TT_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate(name));
  TT_RETURN_IF_ERROR(key.Save(out));
  std::printf("%s\n", key.public_key().VerifierKey().c_str());
  return cli::kExitFound;
}

StatusOr<int> SigningPub(const std::string& path, const std::string& format, const std::string& out) {
  TT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKeyFile(path));
  std::string text;
  if (format == "pem") {
    TT_ASSIGN_OR_RETURN(text, key.public_key().ToPem());
  } else if (format == "verifier") {
    text = key.public_key().VerifierKey() + "\n";
  } else {
    return Status::InvalidArgument("--format must be pem or verifier, got '" + format + "'");
  }
  if (out.empty() || out == "-") {
    std::fputs(text.c_str(), stdout);
  } else {
    TT_RETURN_IF_ERROR(WriteFileAtomically(out, text, 0644));
  }
  return cli::kExitFound;
}

void SetupSigningKeyCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* key = root.get_subcommand("key");
  struct GenArgs {
    std::string name, out;
  };
  auto g = std::make_shared<GenArgs>();
  CLI::App* gen = key->add_subcommand(
      "signing-gen", "Generate an Ed25519 signing key for statements and checkpoints (mode 0600); prints its verifier key");
  gen->add_option("--name", g->name, "Signer name; for a log key, the log origin (e.g. log.example.com/telltale)")->required();
  gen->add_option("-o,--output", g->out, "Signing key file to write")->required();
  gen->callback([&result, g] { cli::RunCommand(result, [&] { return SigningGen(g->name, g->out); }); });

  struct PubArgs {
    std::string key, format = "verifier", out;
  };
  auto p = std::make_shared<PubArgs>();
  CLI::App* pub = key->add_subcommand("signing-pub", "Export a signing key's public key (PEM SubjectPublicKeyInfo or signed-note verifier key)");
  pub->add_option("key", p->key, "Signing key file")->required();
  pub->add_option("--format", p->format, "pem | verifier (default verifier)");
  pub->add_option("-o,--output", p->out, "Output file (default stdout)");
  pub->callback([&result, p] { cli::RunCommand(result, [&] { return SigningPub(p->key, p->format, p->out); }); });
}

}  // namespace
}  // namespace telltale::provenance

TELLTALE_REGISTER_CLI(40, telltale::provenance::SetupSigningKeyCommands);
