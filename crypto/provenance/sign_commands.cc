// CLI: telltale sign generation-batch | detection-report, telltale verify
#include <cstdio>
#include <memory>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/provenance/commitment.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/evidence.h"
#include "crypto/provenance/merkle.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/signing_key.h"
#include "crypto/provenance/tool_info.h"

namespace telltale::provenance {
namespace {

struct BatchArgs {
  std::string signing_key, opening, model, start, end, responses, out;
  std::vector<std::string> policy;
};

StatusOr<int> SignBatch(const BatchArgs& a) {
  TT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKeyFile(a.signing_key));
  TT_ASSIGN_OR_RETURN(CommitmentOpening o, LoadOpeningFile(a.opening));
  GenerationBatchPredicate p;
  p.model = a.model;
  p.tokenizer_digest = o.params.tokenizer_digest;
  p.scheme = o.params.scheme;
  p.tenant = o.params.tenant;
  p.region = o.params.region;
  p.window_start = a.start;
  p.window_end = a.end;
  p.key_commitment = ComputeCommitment(o);
  if (p.model.empty()) return Status::InvalidArgument("--model must not be empty");
  TT_RETURN_IF_ERROR(CheckUtcTime(a.start, "--start"));
  TT_RETURN_IF_ERROR(CheckUtcTime(a.end, "--end"));
  if (a.end < a.start) return Status::InvalidArgument("--end is before --start");
  for (const std::string& kv : a.policy) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("--policy '" + kv + "': expected key=value");
    p.policy[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // One response per line; the tree's entries are the responses' SHA-256
  // digests, so a single response can later be proven without the others.
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(a.responses));
  std::vector<Hash> leaves;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = std::string_view(text).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    leaves.push_back(MerkleLeafHash(Sha256Of(line)));
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  if (leaves.empty()) return Status::InvalidArgument("responses file " + a.responses + " holds no responses");
  p.responses = leaves.size();
  p.response_root = MerkleRoot(leaves);
  TT_ASSIGN_OR_RETURN(std::string payload, SerializeStatement(p.ToStatement()));
  TT_ASSIGN_OR_RETURN(std::string env, SignEnvelope(kInTotoPayloadType, payload, key).Serialize());
  TT_RETURN_IF_ERROR(WriteFileAtomically(a.out, env));
  std::printf("%s\n", HashHex(p.response_root).c_str());
  return cli::kExitFound;
}

StatusOr<int> SignReport(const std::string& signing_key, const std::string& report, uint64_t line, const std::string& out) {
  TT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKeyFile(signing_key));
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(report, 64u << 20));
  TT_ASSIGN_OR_RETURN(Hash tool, ToolSha256());
  TT_ASSIGN_OR_RETURN(std::string env, SignDetectionReport(text, line, key, ToolVersion(), tool));
  TT_RETURN_IF_ERROR(WriteFileAtomically(out, env));
  return cli::kExitFound;
}

StatusOr<int> Verify(const std::string& envelope_path, const std::string& key_path) {
  TT_ASSIGN_OR_RETURN(PublicKey key, LoadPublicKeyFile(key_path));
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(envelope_path, 64u << 20));
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "telltale: verification failed: %s\n", s.message().c_str());
    return cli::kExitNotFound;
  };
  StatusOr<DsseEnvelope> env = ParseEnvelope(text);
  if (!env.ok()) return fail(env.status());
  Status sig = VerifyEnvelope(*env, key);
  if (!sig.ok()) return fail(sig);
  if (env->payload_type != kInTotoPayloadType) return fail(Status::InvalidArgument("envelope: payloadType is not in-toto"));
  StatusOr<Statement> st = ParseStatement(env->payload);
  if (!st.ok()) return fail(st.status());
  Status pred = Status::Ok();
  if (st->predicate_type == kKeyCommitmentPredicate) pred = KeyCommitmentPredicate::FromStatement(*st).status();
  else if (st->predicate_type == kGenerationBatchPredicate) pred = GenerationBatchPredicate::FromStatement(*st).status();
  else if (st->predicate_type == kDetectionReportPredicate) pred = DetectionReportPredicate::FromStatement(*st).status();
  if (!pred.ok()) return fail(pred);
  std::printf("verified: %s statement signed by %s\n%s\n", st->predicate_type.c_str(), key.Fingerprint().c_str(),
              env->payload.c_str());
  return cli::kExitFound;
}

void SetupSignCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* sign = root.add_subcommand("sign", "Sign in-toto statements (DSSE, Ed25519)");
  sign->require_subcommand(1);

  auto b = std::make_shared<BatchArgs>();
  CLI::App* batch = sign->add_subcommand("generation-batch", "Sign a generation-batch statement; prints the responses' Merkle root");
  batch->add_option("--signing-key", b->signing_key, "Signing key file")->required();
  batch->add_option("--opening", b->opening, "The key's commitment opening (scheme, tokenizer, tenant, region, commitment)")->required();
  batch->add_option("--model", b->model, "Model id")->required();
  batch->add_option("--start", b->start, "Window start, YYYY-MM-DDTHH:MM:SSZ")->required();
  batch->add_option("--end", b->end, "Window end, YYYY-MM-DDTHH:MM:SSZ")->required();
  batch->add_option("--responses", b->responses, "File with one response per line")->required();
  batch->add_option("--policy", b->policy, "Policy entries key=value (e.g. do_not_train=true)");
  batch->add_option("-o,--output", b->out, "DSSE envelope to write")->required();
  batch->callback([&result, b] { cli::RunCommand(result, [&] { return SignBatch(*b); }); });

  struct ReportArgs {
    std::string key, report, out;
    uint64_t line = 0;
  };
  auto r = std::make_shared<ReportArgs>();
  CLI::App* report = sign->add_subcommand("detection-report", "Sign a detection-report statement over a `telltale detect --json` file");
  report->add_option("--signing-key", r->key, "Signing key file")->required();
  report->add_option("--report", r->report, "Detection report (JSON lines)")->required();
  report->add_option("--line", r->line, "0-based line of the document (default 0)");
  report->add_option("-o,--output", r->out, "DSSE envelope to write")->required();
  report->callback([&result, r] { cli::RunCommand(result, [&] { return SignReport(r->key, r->report, r->line, r->out); }); });

  auto v = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* verify = root.add_subcommand("verify", "Verify a DSSE envelope and its statement (exit 0 verified, 1 failed)");
  verify->add_option("envelope", v->first, "DSSE envelope file")->required();
  verify->add_option("--key", v->second, "Signer public key (PEM or verifier key file)")->required();
  verify->callback([&result, v] { cli::RunCommand(result, [&] { return Verify(v->first, v->second); }); });
}

}  // namespace
}  // namespace telltale::provenance

TELLTALE_REGISTER_CLI(42, telltale::provenance::SetupSignCommands);
