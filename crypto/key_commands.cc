// CLI: telltale keygen | key derive | key id
#include <cstdio>
#include <memory>

#include "cli/cli_command.h"
#include "crypto/key_file.h"

namespace telltale {
namespace {

StatusOr<int> Keygen(const std::string& out) {
  TT_ASSIGN_OR_RETURN(SecretKey key, SecretKey::Generate());
  KeyFile file{KeyFile::Kind::kMaster, {}, {}, std::move(key)};
  TT_RETURN_IF_ERROR(SaveKeyFile(file, out));
  std::printf("%s\n", file.key.KeyId().c_str());
  return cli::kExitFound;
}

StatusOr<int> Derive(const std::string& master_path, const KeyLabels& labels, const std::string& out) {
  TT_ASSIGN_OR_RETURN(KeyFile master, LoadKeyFile(master_path));
  if (master.kind != KeyFile::Kind::kMaster) {
    return Status::InvalidArgument("key file " + master_path +
                                   " holds a derived key; derive tenant keys from a master key");
  }
  TT_ASSIGN_OR_RETURN(SecretKey sub, DeriveTenantKey(master.key, labels));
  KeyFile file{KeyFile::Kind::kDerived, master.key.KeyId(), labels, std::move(sub)};
  TT_RETURN_IF_ERROR(SaveKeyFile(file, out));
  std::printf("%s\n", file.key.KeyId().c_str());
  return cli::kExitFound;
}

StatusOr<int> PrintKeyId(const std::string& path) {
  TT_ASSIGN_OR_RETURN(KeyFile file, LoadKeyFile(path));
  std::printf("%s\n", file.key.KeyId().c_str());
  return cli::kExitFound;
}

void SetupKeyCommands(CLI::App& root, cli::RunResult& result) {
  auto keygen_out = std::make_shared<std::string>();
  CLI::App* keygen = root.add_subcommand("keygen", "Generate a 256-bit master key (file mode 0600); prints its key id");
  keygen->add_option("-o,--output", *keygen_out, "Key file to write (atomically)")->required();
  keygen->callback([&result, keygen_out] { cli::RunCommand(result, [&] { return Keygen(*keygen_out); }); });

  CLI::App* key = root.add_subcommand("key", "Inspect and derive keys");
  key->require_subcommand(1);

  struct DeriveArgs {
    std::string master, out;
    KeyLabels labels;
  };
  auto d = std::make_shared<DeriveArgs>();
  CLI::App* derive = key->add_subcommand("derive", "Derive a tenant key: HKDF-SHA256(master; tenant, region, epoch)");
  derive->add_option("master", d->master, "Master key file")->required();
  derive->add_option("--tenant", d->labels.tenant, "Tenant label")->required();
  derive->add_option("--region", d->labels.region, "Region label")->required();
  derive->add_option("--epoch", d->labels.epoch, "Epoch label (e.g. 2026-11)")->required();
  derive->add_option("-o,--output", d->out, "Key file to write (atomically, mode 0600)")->required();
  derive->callback([&result, d] { cli::RunCommand(result, [&] { return Derive(d->master, d->labels, d->out); }); });

  auto id_path = std::make_shared<std::string>();
  CLI::App* id = key->add_subcommand("id", "Print a key's id (a fingerprint that reveals nothing about the key)");
  id->add_option("file", *id_path, "Key file")->required();
  id->callback([&result, id_path] { cli::RunCommand(result, [&] { return PrintKeyId(*id_path); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(10, telltale::SetupKeyCommands);
