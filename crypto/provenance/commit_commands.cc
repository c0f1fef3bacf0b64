// CLI: telltale commit create | publish | verify
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/key_file.h"
#include "crypto/provenance/commitment.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/signing_key.h"
#include "watermark/scheme_spec.h"

namespace telltale::provenance {
namespace {

struct CreateArgs {
  std::string key, scheme, tokenizer, tenant, region, epoch, out;
};

StatusOr<int> Create(const CreateArgs& a) {
  TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(a.key));
  CommitmentParams p{a.scheme, a.tokenizer, a.tenant, a.region, a.epoch};
  // A derived key file carries its labels; use them, and refuse a contradiction.
  if (kf.kind == KeyFile::Kind::kDerived) {
    for (auto [flag, given, stored] : {std::tuple{"--tenant", &p.tenant, kf.labels.tenant},
                                       std::tuple{"--region", &p.region, kf.labels.region},
                                       std::tuple{"--epoch", &p.epoch, kf.labels.epoch}}) {
      if (given->empty()) *given = stored;
      else if (*given != stored) {
        return Status::InvalidArgument(std::string(flag) + " '" + *given + "' contradicts the key file's '" + stored + "'");
      }
    }
  }
  for (auto [flag, v] : {std::pair{"--tenant", &p.tenant}, std::pair{"--region", &p.region}, std::pair{"--epoch", &p.epoch}}) {
    if (v->empty()) return Status::InvalidArgument(std::string(flag) + " is required for a master key file");
  }
  StatusOr<SchemeSpec> spec = SchemeSpec::Parse(p.scheme);
  if (!spec.ok()) return spec.status().WithContext("--scheme");
  p.scheme = spec->ToString();  // commit to the canonical form
  TT_ASSIGN_OR_RETURN(CommitmentOpening o, CreateOpening(p, std::move(kf.key)));
  TT_RETURN_IF_ERROR(SaveOpeningFile(o, a.out));
  std::printf("%s\n", HashHex(ComputeCommitment(o)).c_str());
  return cli::kExitFound;
}

struct PublishArgs {
  std::vector<std::string> openings;
  std::string epoch, signing_key, out, membership_dir;
};

StatusOr<int> Publish(const PublishArgs& a) {
  TT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKeyFile(a.signing_key));
  std::vector<Hash> commitments;
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const std::string& path : a.openings) {
    TT_ASSIGN_OR_RETURN(CommitmentOpening o, LoadOpeningFile(path));
    if (o.params.epoch != a.epoch) {
      return Status::InvalidArgument("opening file " + path + ": epoch '" + o.params.epoch + "' is not --epoch '" + a.epoch + "'");
    }
    std::string name = o.params.tenant + "." + o.params.region + ".json";
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("opening file " + path + ": a second commitment for tenant " + o.params.tenant +
                                     " in region " + o.params.region);
    }
    commitments.push_back(ComputeCommitment(o));
    names.push_back(name);
  }
  KeyCommitmentPredicate pred{a.epoch, commitments.size(), CommitmentSetRoot(commitments)};
  TT_RETURN_IF_ERROR(ValidateKeyLabel(a.epoch, "--epoch"));
  TT_ASSIGN_OR_RETURN(std::string payload, SerializeStatement(pred.ToStatement()));
  TT_ASSIGN_OR_RETURN(std::string envelope, SignEnvelope(kInTotoPayloadType, payload, key).Serialize());
  std::error_code ec;
  std::filesystem::create_directories(a.membership_dir, ec);
  if (ec) return Status::Unavailable("cannot create " + a.membership_dir + ": " + ec.message());
  for (size_t i = 0; i < commitments.size(); ++i) {
    TT_ASSIGN_OR_RETURN(CommitmentMembership m, ProveMembership(commitments, i));
    TT_ASSIGN_OR_RETURN(std::string text, ToCanonicalFile(MembershipToJson(m)));
    TT_RETURN_IF_ERROR(WriteFileAtomically(a.membership_dir + "/" + names[i], text));
  }
  TT_RETURN_IF_ERROR(WriteFileAtomically(a.out, envelope));
  std::printf("%s\n", HashHex(pred.set_root).c_str());
  return cli::kExitFound;
}

StatusOr<int> VerifyOpening(const std::string& opening_path, const std::string& membership_path) {
  TT_ASSIGN_OR_RETURN(CommitmentOpening o, LoadOpeningFile(opening_path));
  Hash c = ComputeCommitment(o);
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(membership_path, 1 << 20));
  StatusOr<Json> j = ParseCanonicalFile(text, "membership file " + membership_path);
  if (!j.ok()) return j.status();
  TT_ASSIGN_OR_RETURN(CommitmentMembership m, MembershipFromJson(*j));
  if (m.commitment != c) {
    std::fprintf(stderr, "telltale: verification failed: opening: recomputed commitment %s is not %s\n",
                 HashHex(c).c_str(), HashHex(m.commitment).c_str());
    return cli::kExitNotFound;
  }
  Status s = VerifyMembership(m);
  if (!s.ok()) {
    std::fprintf(stderr, "telltale: verification failed: membership: %s\n", s.message().c_str());
    return cli::kExitNotFound;
  }
  std::printf("commitment %s verified: member %llu of %llu, set root %s\n", HashHex(c).c_str(),
              static_cast<unsigned long long>(m.index), static_cast<unsigned long long>(m.size), HashHex(m.root).c_str());
  return cli::kExitFound;
}

// Hands an opened key to the detector: an auditor re-runs `telltale detect`
// with it and compares the output with the signed report byte for byte.
StatusOr<int> ExportKey(const std::string& opening_path, const std::string& out) {
  TT_ASSIGN_OR_RETURN(CommitmentOpening o, LoadOpeningFile(opening_path));
  KeyFile file{KeyFile::Kind::kMaster, {}, {}, std::move(o.key)};
  TT_RETURN_IF_ERROR(SaveKeyFile(file, out));
  std::printf("%s\n", file.key.KeyId().c_str());
  return cli::kExitFound;
}

void SetupCommitCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* commit = root.add_subcommand("commit", "Salted commitments to watermark keys, per-epoch commitment sets");
  commit->require_subcommand(1);

  auto c = std::make_shared<CreateArgs>();
  CLI::App* create = commit->add_subcommand("create", "Commit to a key; writes the opening (mode 0600), prints the commitment");
  create->add_option("--key", c->key, "Watermark key file (tenant/region/epoch default to a derived key's labels)")->required();
  create->add_option("--scheme", c->scheme, "Scheme spec (stored in canonical form)")->required();
  create->add_option("--tokenizer-digest", c->tokenizer, "Hex SHA-256 of the tokenizer file")->required();
  create->add_option("--tenant", c->tenant, "Tenant pseudonym");
  create->add_option("--region", c->region, "Region");
  create->add_option("--epoch", c->epoch, "Epoch");
  create->add_option("-o,--output", c->out, "Opening file to write (secret: holds the key)")->required();
  create->callback([&result, c] { cli::RunCommand(result, [&] { return Create(*c); }); });

  auto p = std::make_shared<PublishArgs>();
  CLI::App* publish = commit->add_subcommand(
      "publish", "Build an epoch's commitment set, sign its key-commitment statement, write membership proofs");
  publish->add_option("openings", p->openings, "Opening files of the epoch (one per tenant and region)")->required();
  publish->add_option("--epoch", p->epoch, "Epoch")->required();
  publish->add_option("--signing-key", p->signing_key, "Signing key file")->required();
  publish->add_option("-o,--output", p->out, "DSSE envelope to write")->required();
  publish->add_option("--membership-dir", p->membership_dir, "Directory for <tenant>.<region>.json membership proofs")->required();
  publish->callback([&result, p] { cli::RunCommand(result, [&] { return Publish(*p); }); });

  auto e = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* exp = commit->add_subcommand("export-key", "Write an opening's key as a key file (mode 0600) to re-run detection; prints its key id");
  exp->add_option("opening", e->first, "Opening file")->required();
  exp->add_option("-o,--output", e->second, "Key file to write")->required();
  exp->callback([&result, e] { cli::RunCommand(result, [&] { return ExportKey(e->first, e->second); }); });

  auto v = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* verify = commit->add_subcommand("verify", "Recompute a commitment from its opening and check its set membership");
  verify->add_option("opening", v->first, "Opening file")->required();
  verify->add_option("membership", v->second, "Membership proof file")->required();
  verify->callback([&result, v] { cli::RunCommand(result, [&] { return VerifyOpening(v->first, v->second); }); });
}

}  // namespace
}  // namespace telltale::provenance

TELLTALE_REGISTER_CLI(41, telltale::provenance::SetupCommitCommands);
