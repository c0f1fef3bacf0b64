// CLI: telltale timestamp request | verify, telltale evidence build | verify
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/provenance/evidence.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/timestamp.h"
#include "crypto/provenance/tool_info.h"

namespace telltale::provenance {
namespace {

StatusOr<int> TsRequest(const std::string& data_path, const std::string& out) {
  TT_ASSIGN_OR_RETURN(std::string data, ReadFile(data_path));
  TT_ASSIGN_OR_RETURN(std::string der, CreateTimestampRequest(AsByteSpan(data)));
  TT_RETURN_IF_ERROR(WriteFileAtomically(out, der));
  return cli::kExitFound;
}

StatusOr<int> TsVerify(const std::string& data_path, const std::string& tsr_path, const std::string& ca_path) {
  TT_ASSIGN_OR_RETURN(std::string data, ReadFile(data_path));
  TT_ASSIGN_OR_RETURN(std::string tsr, ReadFile(tsr_path, 1 << 20));
  TT_ASSIGN_OR_RETURN(std::string ca, ReadFile(ca_path, 1 << 20));
  StatusOr<TimestampInfo> info = VerifyTimestamp(tsr, AsByteSpan(data), ca);
  if (!info.ok()) {
    std::fprintf(stderr, "telltale: verification failed: %s\n", info.status().message().c_str());
    return cli::kExitNotFound;
  }
  std::printf("verified: %s existed at %s (TSA %s, serial %s, policy %s)\n", data_path.c_str(), info->gen_time.c_str(),
              info->tsa_subject.c_str(), info->serial.c_str(), info->policy.c_str());
  return cli::kExitFound;
}

struct BuildArgs {
  std::string opening, membership, db, log_key, checkpoint, timestamp, tsa_ca, report, signing_key, out;
  uint64_t commitment_entry = 0, report_line = 0;
  std::optional<uint64_t> batch_entry;
};

StatusOr<int> Build(const BuildArgs& a) {
  TT_ASSIGN_OR_RETURN(CommitmentOpening opening, LoadOpeningFile(a.opening));
  TT_ASSIGN_OR_RETURN(std::string mtext, ReadFile(a.membership, 1 << 20));
  StatusOr<Json> mj = ParseCanonicalFile(mtext, "membership file " + a.membership);
  if (!mj.ok()) return mj.status();
  TT_ASSIGN_OR_RETURN(CommitmentMembership membership, MembershipFromJson(*mj));
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(a.db));
  TT_ASSIGN_OR_RETURN(PublicKey log_key, LoadPublicKeyFile(a.log_key));
  TT_ASSIGN_OR_RETURN(SigningKey signer, LoadSigningKeyFile(a.signing_key));
  EvidenceInputs in;
  in.opening = &opening;
  in.membership = membership;
  in.log = &log;
  in.log_key = log_key;
  in.commitment_entry = a.commitment_entry;
  TT_ASSIGN_OR_RETURN(in.timestamped_checkpoint, ReadFile(a.checkpoint, 1 << 20));
  TT_ASSIGN_OR_RETURN(in.timestamp_der, ReadFile(a.timestamp, 1 << 20));
  in.batch_entry = a.batch_entry;
  TT_ASSIGN_OR_RETURN(in.report_text, ReadFile(a.report, 64u << 20));
  in.report_line = a.report_line;
  TT_ASSIGN_OR_RETURN(in.tsa_ca_pem, ReadFile(a.tsa_ca, 1 << 20));
  in.signer = &signer;
  in.tool_version = ToolVersion();
  TT_ASSIGN_OR_RETURN(in.tool_sha256, ToolSha256());
  TT_ASSIGN_OR_RETURN(std::string bundle, BuildEvidence(in));
  // Never hand out a bundle that does not verify.
  TrustAnchors trust{log_key, signer.public_key(), in.tsa_ca_pem, in.tool_sha256};
  EvidenceReport report = VerifyEvidence(bundle, trust);
  if (!report.AllVerified()) {
    std::fputs(report.ToText().c_str(), stderr);
    return Status::FailedPrecondition("evidence: the assembled bundle does not verify; not written");
  }
  TT_RETURN_IF_ERROR(WriteFileAtomically(a.out, bundle, 0600));  // holds the opened key
  std::printf("wrote %s (%zu bytes)\n", a.out.c_str(), bundle.size());
  return cli::kExitFound;
}

struct VerifyArgs {
  std::string bundle, log_key, signer_key, tsa_ca;
};

StatusOr<int> VerifyBundle(const VerifyArgs& a) {
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(a.bundle, 256u << 20));
  TrustAnchors trust;
  if (!a.log_key.empty()) {
    TT_ASSIGN_OR_RETURN(trust.log_key, LoadPublicKeyFile(a.log_key));
  }
  if (!a.signer_key.empty()) {
    TT_ASSIGN_OR_RETURN(trust.signer_key, LoadPublicKeyFile(a.signer_key));
  }
  if (!a.tsa_ca.empty()) {
    TT_ASSIGN_OR_RETURN(trust.tsa_ca_pem, ReadFile(a.tsa_ca, 1 << 20));
  }
  StatusOr<Hash> self = ToolSha256();
  if (self.ok()) trust.tool_sha256 = *self;
  EvidenceReport report = VerifyEvidence(text, trust);
  std::fputs(report.ToText().c_str(), stdout);
  return report.AllVerified() ? cli::kExitFound : cli::kExitNotFound;
}

void SetupEvidenceCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* ts = root.add_subcommand("timestamp", "RFC 3161 time-stamp requests and verification");
  ts->require_subcommand(1);
  auto tr = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* req = ts->add_subcommand("request", "Write a DER TimeStampReq for SHA-256 of a file (send it to a TSA)");
  req->add_option("file", tr->first, "File to time-stamp (e.g. a checkpoint note)")->required();
  req->add_option("-o,--output", tr->second, "Request file (.tsq)")->required();
  req->callback([&result, tr] { cli::RunCommand(result, [&] { return TsRequest(tr->first, tr->second); }); });
  struct TsVerifyArgs {
    std::string file, response, ca;
  };
  auto tv = std::make_shared<TsVerifyArgs>();
  CLI::App* tsv = ts->add_subcommand("verify", "Verify a TSA response over a file (exit 0 verified, 1 failed)");
  tsv->add_option("file", tv->file, "The time-stamped file")->required();
  tsv->add_option("--response", tv->response, "DER TimeStampResp (.tsr)")->required();
  tsv->add_option("--ca", tv->ca, "TSA root CA certificate(s), PEM")->required();
  tsv->callback([&result, tv] { cli::RunCommand(result, [&] { return TsVerify(tv->file, tv->response, tv->ca); }); });

  CLI::App* ev = root.add_subcommand("evidence", "Evidence bundles an auditor verifies offline");
  ev->require_subcommand(1);
  auto b = std::make_shared<BuildArgs>();
  CLI::App* build = ev->add_subcommand("build", "Pack opening, proofs, TSA token and a signed detection report");
  build->add_option("--opening", b->opening, "Commitment opening file")->required();
  build->add_option("--membership", b->membership, "Commitment set membership file")->required();
  build->add_option("--db", b->db, "Log database")->required();
  build->add_option("--log-key", b->log_key, "Log verifier key file")->required();
  build->add_option("--commitment-entry", b->commitment_entry, "Log index of the key-commitment envelope")->required();
  build->add_option("--checkpoint", b->checkpoint, "The time-stamped checkpoint note")->required();
  build->add_option("--timestamp", b->timestamp, "TSA response (.tsr) over that checkpoint")->required();
  build->add_option("--tsa-ca", b->tsa_ca, "TSA root CA certificate, PEM")->required();
  build->add_option("--batch-entry", b->batch_entry, "Log index of a generation-batch envelope");
  build->add_option("--report", b->report, "Detection report (`telltale detect --json` output)")->required();
  build->add_option("--report-line", b->report_line, "0-based line of the report (default 0)");
  build->add_option("--signing-key", b->signing_key, "Key that signs the detection-report statement (and signed the commitments)")->required();
  build->add_option("-o,--output", b->out, "Bundle file to write (mode 0600: it holds the opened key)")->required();
  build->callback([&result, b] { cli::RunCommand(result, [&] { return Build(*b); }); });

  auto v = std::make_shared<VerifyArgs>();
  CLI::App* verify = ev->add_subcommand("verify", "Check every link of a bundle offline and print the chain of claims");
  verify->add_option("bundle", v->bundle, "Evidence bundle")->required();
  verify->add_option("--log-key", v->log_key, "Pin the log verifier key");
  verify->add_option("--signer-key", v->signer_key, "Pin the statement signer key");
  verify->add_option("--tsa-ca", v->tsa_ca, "Pin the TSA root CA certificate");
  verify->callback([&result, v] { cli::RunCommand(result, [&] { return VerifyBundle(*v); }); });
}

}  // namespace
}  // namespace telltale::provenance

TELLTALE_REGISTER_CLI(44, telltale::provenance::SetupEvidenceCommands);
