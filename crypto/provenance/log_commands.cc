// CLI: telltale log init | append | checkpoint | prove | consistency | verify-proof | audit | entry
#include <cstdio>
#include <memory>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/signing_key.h"
#include "crypto/provenance/transparency_log.h"

namespace telltale::provenance {
namespace {

int Failed(const Status& s) {
  std::fprintf(stderr, "telltale: verification failed: %s\n", s.message().c_str());
  return cli::kExitNotFound;
}

StatusOr<int> Init(const std::string& db, const std::string& origin) {
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Create(db, origin));
  std::printf("%s\n", log.origin().c_str());
  return cli::kExitFound;
}

StatusOr<int> Append(const std::string& db, const std::vector<std::string>& files) {
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  for (const std::string& f : files) {
    TT_ASSIGN_OR_RETURN(std::string data, ReadFile(f, 16u << 20));
    StatusOr<uint64_t> index = log.Append(data);
    if (!index.ok()) return index.status().WithContext(f);
    // Printed only after COMMIT returned: this line is the acknowledgement.
    std::printf("%llu\n", static_cast<unsigned long long>(*index));
    std::fflush(stdout);
  }
  return cli::kExitFound;
}

StatusOr<int> MakeCheckpoint(const std::string& db, const std::string& key_path, const std::string& out) {
  TT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKeyFile(key_path));
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  TT_ASSIGN_OR_RETURN(StoredCheckpoint cp, log.SignCheckpoint(key));
  if (out.empty() || out == "-") std::fputs(cp.note.c_str(), stdout);
  else TT_RETURN_IF_ERROR(WriteFileAtomically(out, cp.note));
  return cli::kExitFound;
}

StatusOr<int> Prove(const std::string& db, uint64_t index, uint64_t size, const std::string& out) {
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  TT_ASSIGN_OR_RETURN(InclusionBundle b, ProveInclusion(log, index, size));
  TT_ASSIGN_OR_RETURN(std::string text, ToCanonicalFile(b.ToJson()));
  TT_RETURN_IF_ERROR(WriteFileAtomically(out, text));
  return cli::kExitFound;
}

StatusOr<int> Consistency(const std::string& db, uint64_t from, uint64_t to, const std::string& out) {
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  TT_ASSIGN_OR_RETURN(ConsistencyBundle b, ProveConsistency(log, from, to));
  TT_ASSIGN_OR_RETURN(std::string text, ToCanonicalFile(b.ToJson()));
  TT_RETURN_IF_ERROR(WriteFileAtomically(out, text));
  return cli::kExitFound;
}

StatusOr<int> VerifyProof(const std::string& path, const std::string& key_path, const std::string& previous) {
  TT_ASSIGN_OR_RETURN(PublicKey key, LoadPublicKeyFile(key_path));
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 64u << 20));
  StatusOr<Json> j = ParseCanonicalFile(text, "proof bundle " + path);
  if (!j.ok()) return Failed(j.status());
  std::string type = j->is_object() && j->contains("type") && (*j)["type"].is_string() ? (*j)["type"].get<std::string>() : "";
  if (type == "telltale-log-consistency/v1") {
    StatusOr<ConsistencyBundle> b = ConsistencyBundle::FromJson(*j);
    if (!b.ok()) return Failed(b.status());
    StatusOr<Checkpoint> cp = VerifyConsistencyBundle(*b, key);
    if (!cp.ok()) return Failed(cp.status());
    std::printf("verified: checkpoint of size %llu extends the earlier checkpoint\n",
                static_cast<unsigned long long>(cp->size));
    return cli::kExitFound;
  }
  StatusOr<InclusionBundle> b = InclusionBundle::FromJson(*j);
  if (!b.ok()) return Failed(b.status());
  StatusOr<Checkpoint> cp = VerifyInclusionBundle(*b, key);
  if (!cp.ok()) return Failed(cp.status());
  if (!previous.empty()) {
    // A checkpoint the verifier saw earlier must not be larger: logs only grow.
    TT_ASSIGN_OR_RETURN(std::string prev_text, ReadFile(previous, 1 << 20));
    StatusOr<Checkpoint> prev = OpenSignedCheckpoint(prev_text, key);
    if (!prev.ok()) return Failed(prev.status().WithContext("previous"));
    if (prev->size > cp->size) {
      return Failed(Status::InvalidArgument("checkpoint: the tree shrank from " + std::to_string(prev->size) + " to " +
                                            std::to_string(cp->size) + " entries"));
    }
    if (prev->size == cp->size && prev->root != cp->root) {
      return Failed(Status::InvalidArgument("checkpoint: same size as the previous checkpoint with a different root (fork)"));
    }
  }
  std::printf("verified: entry %llu is in the checkpoint of %s at size %llu\n", static_cast<unsigned long long>(b->index),
              cp->origin.c_str(), static_cast<unsigned long long>(cp->size));
  return cli::kExitFound;
}

StatusOr<int> Audit(const std::string& db, const std::string& key_path) {
  TT_ASSIGN_OR_RETURN(PublicKey key, LoadPublicKeyFile(key_path));
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  Status s = log.Audit(key);
  if (!s.ok()) return Failed(s);
  TT_ASSIGN_OR_RETURN(uint64_t size, log.Size());
  std::printf("verified: %llu entries, every leaf hash and stored checkpoint consistent\n",
              static_cast<unsigned long long>(size));
  return cli::kExitFound;
}

StatusOr<int> Entry(const std::string& db, uint64_t index, const std::string& out) {
  TT_ASSIGN_OR_RETURN(TransparencyLog log, TransparencyLog::Open(db));
  TT_ASSIGN_OR_RETURN(std::string data, log.Entry(index));
  TT_RETURN_IF_ERROR(WriteFileAtomically(out, data));
  return cli::kExitFound;
}

void SetupLogCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* logc = root.add_subcommand("log", "Append-only transparency log (SQLite, RFC 6962, signed-note checkpoints)");
  logc->require_subcommand(1);
  struct Args {
    std::string db, origin, key, out, previous;
    std::vector<std::string> files;
    uint64_t index = 0, size = 0, from = 0, to = 0;
  };
  auto a = std::make_shared<Args>();

  CLI::App* init = logc->add_subcommand("init", "Create an empty log");
  init->add_option("--db", a->db, "Log database file")->required();
  init->add_option("--origin", a->origin, "Log origin (the checkpoint signing key's name)")->required();
  init->callback([&result, a] { cli::RunCommand(result, [&] { return Init(a->db, a->origin); }); });

  CLI::App* append = logc->add_subcommand("append", "Durably append files as entries; prints each index once it is on disk");
  append->add_option("--db", a->db, "Log database file")->required();
  append->add_option("files", a->files, "Entry files (e.g. DSSE envelopes)")->required();
  append->callback([&result, a] { cli::RunCommand(result, [&] { return Append(a->db, a->files); }); });

  CLI::App* cp = logc->add_subcommand("checkpoint", "Sign and store a checkpoint of the current tree");
  cp->add_option("--db", a->db, "Log database file")->required();
  cp->add_option("--signing-key", a->key, "Log signing key (its name is the origin)")->required();
  cp->add_option("-o,--output", a->out, "Checkpoint note file (default stdout)");
  cp->callback([&result, a] { cli::RunCommand(result, [&] { return MakeCheckpoint(a->db, a->key, a->out); }); });

  CLI::App* prove = logc->add_subcommand("prove", "Write an offline inclusion proof bundle (entry, proof, checkpoint)");
  prove->add_option("--db", a->db, "Log database file")->required();
  prove->add_option("--index", a->index, "Entry index")->required();
  prove->add_option("--size", a->size, "Checkpoint size to prove against (default: latest)");
  prove->add_option("-o,--output", a->out, "Proof bundle to write")->required();
  prove->callback([&result, a] { cli::RunCommand(result, [&] { return Prove(a->db, a->index, a->size, a->out); }); });

  CLI::App* cons = logc->add_subcommand("consistency", "Write a consistency proof bundle between two checkpoints");
  cons->add_option("--db", a->db, "Log database file")->required();
  cons->add_option("--from", a->from, "Older checkpoint size")->required();
  cons->add_option("--to", a->to, "Newer checkpoint size (default: latest)");
  cons->add_option("-o,--output", a->out, "Proof bundle to write")->required();
  cons->callback([&result, a] { cli::RunCommand(result, [&] { return Consistency(a->db, a->from, a->to, a->out); }); });

  CLI::App* vp = logc->add_subcommand("verify-proof", "Verify an inclusion or consistency bundle offline (exit 0 verified, 1 failed)");
  vp->add_option("bundle", a->out, "Proof bundle")->required();
  vp->add_option("--log-key", a->key, "Log verifier key file")->required();
  vp->add_option("--previous", a->previous, "A checkpoint seen earlier; the proof's checkpoint must not be smaller");
  vp->callback([&result, a] { cli::RunCommand(result, [&] { return VerifyProof(a->out, a->key, a->previous); }); });

  CLI::App* audit = logc->add_subcommand("audit", "Recheck every entry and stored checkpoint (exit 0 consistent, 1 not)");
  audit->add_option("--db", a->db, "Log database file")->required();
  audit->add_option("--log-key", a->key, "Log verifier key file")->required();
  audit->callback([&result, a] { cli::RunCommand(result, [&] { return Audit(a->db, a->key); }); });

  CLI::App* entry = logc->add_subcommand("entry", "Write one entry's bytes to a file");
  entry->add_option("--db", a->db, "Log database file")->required();
  entry->add_option("--index", a->index, "Entry index")->required();
  entry->add_option("-o,--output", a->out, "File to write")->required();
  entry->callback([&result, a] { cli::RunCommand(result, [&] { return Entry(a->db, a->index, a->out); }); });
}

}  // namespace
}  // namespace telltale::provenance

TELLTALE_REGISTER_CLI(43, telltale::provenance::SetupLogCommands);
