#include "crypto/provenance/log_proof.h"

#include "common/base64.h"
#include "crypto/provenance/json_fields.h"
#include "crypto/provenance/merkle.h"

namespace telltale::provenance {
namespace {
constexpr char kInclusionType[] = "telltale-log-inclusion/v1";
constexpr char kConsistencyType[] = "telltale-log-consistency/v1";

Status CheckType(const Json& j, const char* want, const std::string& w) {
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", w));
  if (type != want) return Status::Unimplemented(w + ".type: '" + type + "' is not " + want);
  return Status::Ok();
}
}  // namespace

StatusOr<std::string> ToCanonicalFile(const Json& j) {
  TT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(j));
  return text + "\n";
}

StatusOr<Json> ParseCanonicalFile(std::string_view text, const std::string& what) {
  if (text.empty() || text.back() != '\n') return Status::InvalidArgument(what + ": must end with one newline");
  std::string_view body = text.substr(0, text.size() - 1);
  TT_ASSIGN_OR_RETURN(Json j, ParseJsonStrict(body, what));
  TT_ASSIGN_OR_RETURN(std::string canon, CanonicalJson(j));
  if (canon != body) return Status::InvalidArgument(what + ": not in RFC 8785 canonical form");
  return j;
}

Json InclusionBundle::ToJson() const {
  return Json{{"type", kInclusionType}, {"index", index}, {"entry", Base64Encode(entry)},
              {"proof", HashListToJson(proof)}, {"checkpoint", checkpoint}};
}

StatusOr<InclusionBundle> InclusionBundle::FromJson(const Json& j) {
  const std::string w = "inclusion proof";
  TT_RETURN_IF_ERROR(ExpectMembers(j, {"type", "index", "entry", "proof", "checkpoint"}, w));
  TT_RETURN_IF_ERROR(CheckType(j, kInclusionType, w));
  InclusionBundle b;
  TT_ASSIGN_OR_RETURN(b.index, GetUint(j, "index", w));
  TT_ASSIGN_OR_RETURN(std::string entry64, GetString(j, "entry", w));
  TT_ASSIGN_OR_RETURN(b.entry, Base64Decode(entry64, w + ".entry"));
  TT_ASSIGN_OR_RETURN(b.proof, GetHashList(j, "proof", w));
  TT_ASSIGN_OR_RETURN(b.checkpoint, GetString(j, "checkpoint", w));
  return b;
}

Json ConsistencyBundle::ToJson() const {
  return Json{{"type", kConsistencyType}, {"old_checkpoint", old_checkpoint}, {"new_checkpoint", new_checkpoint},
              {"proof", HashListToJson(proof)}};
}

StatusOr<ConsistencyBundle> ConsistencyBundle::FromJson(const Json& j) {
  const std::string w = "consistency proof";
  TT_RETURN_IF_ERROR(ExpectMembers(j, {"type", "old_checkpoint", "new_checkpoint", "proof"}, w));
  TT_RETURN_IF_ERROR(CheckType(j, kConsistencyType, w));
  ConsistencyBundle b;
  TT_ASSIGN_OR_RETURN(b.old_checkpoint, GetString(j, "old_checkpoint", w));
  TT_ASSIGN_OR_RETURN(b.new_checkpoint, GetString(j, "new_checkpoint", w));
  TT_ASSIGN_OR_RETURN(b.proof, GetHashList(j, "proof", w));
  return b;
}

StatusOr<InclusionBundle> ProveInclusion(TransparencyLog& log, uint64_t index, uint64_t size) {
  StatusOr<StoredCheckpoint> cp = size == 0 ? log.LatestCheckpoint() : log.CheckpointAt(size);
  if (!cp.ok()) return cp.status();
  if (index >= cp->size) {
    return Status::OutOfRange("entry " + std::to_string(index) + " is not covered by the checkpoint of size " +
                              std::to_string(cp->size) + "; run 'telltale log checkpoint' first");
  }
  TT_ASSIGN_OR_RETURN(std::vector<Hash> leaves, log.LeafHashes(cp->size));
  if (MerkleRoot(leaves) != cp->root) {
    return Status::DataLoss("log entries no longer match the checkpoint of size " + std::to_string(cp->size));
  }
  InclusionBundle b;
  b.index = index;
  TT_ASSIGN_OR_RETURN(b.entry, log.Entry(index));
  TT_ASSIGN_OR_RETURN(b.proof, MerkleInclusionProof(leaves, index));
  b.checkpoint = cp->note;
  return b;
}

StatusOr<ConsistencyBundle> ProveConsistency(TransparencyLog& log, uint64_t old_size, uint64_t new_size) {
  TT_ASSIGN_OR_RETURN(StoredCheckpoint old_cp, log.CheckpointAt(old_size));
  StatusOr<StoredCheckpoint> new_cp = new_size == 0 ? log.LatestCheckpoint() : log.CheckpointAt(new_size);
  if (!new_cp.ok()) return new_cp.status();
  if (new_cp->size < old_cp.size) {
    return Status::InvalidArgument("consistency: new checkpoint (size " + std::to_string(new_cp->size) +
                                   ") is older than the old one (size " + std::to_string(old_size) + ")");
  }
  TT_ASSIGN_OR_RETURN(std::vector<Hash> leaves, log.LeafHashes(new_cp->size));
  ConsistencyBundle b;
  b.old_checkpoint = old_cp.note;
  b.new_checkpoint = new_cp->note;
  TT_ASSIGN_OR_RETURN(b.proof, MerkleConsistencyProof(leaves, old_cp.size));
  return b;
}

StatusOr<Checkpoint> VerifyInclusionBundle(const InclusionBundle& b, const PublicKey& log_key) {
  TT_ASSIGN_OR_RETURN(Checkpoint cp, OpenSignedCheckpoint(b.checkpoint, log_key));
  Status s = VerifyMerkleInclusion(b.index, cp.size, MerkleLeafHash(AsByteSpan(b.entry)), b.proof, cp.root);
  if (!s.ok()) return s.WithContext("entry " + std::to_string(b.index));
  return cp;
}

StatusOr<Checkpoint> VerifyConsistencyBundle(const ConsistencyBundle& b, const PublicKey& log_key) {
  StatusOr<Checkpoint> old_cp = OpenSignedCheckpoint(b.old_checkpoint, log_key);
  if (!old_cp.ok()) return old_cp.status().WithContext("old");
  StatusOr<Checkpoint> new_cp = OpenSignedCheckpoint(b.new_checkpoint, log_key);
  if (!new_cp.ok()) return new_cp.status().WithContext("new");
  TT_RETURN_IF_ERROR(VerifyMerkleConsistency(old_cp->size, new_cp->size, b.proof, old_cp->root, new_cp->root));
  return *new_cp;
}

}  // namespace telltale::provenance
