#include "crypto/provenance/commitment.h"

#include <sodium.h>

#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/key_file.h"
#include "crypto/provenance/json_fields.h"
#include "crypto/provenance/merkle.h"
#include "crypto/private_file.h"
#include "watermark/scheme_spec.h"

namespace telltale::provenance {
namespace {
constexpr char kDomain[] = "telltale/key-commitment/v1";
constexpr char kOpeningType[] = "telltale-key-opening/v1";
}  // namespace

Status ValidateCommitmentParams(const CommitmentParams& p) {
  StatusOr<SchemeSpec> spec = SchemeSpec::Parse(p.scheme);
  if (!spec.ok()) return spec.status().WithContext("commitment scheme");
  if (spec->ToString() != p.scheme) {
    return Status::InvalidArgument("commitment scheme '" + p.scheme + "' is not canonical; use '" +
                                   spec->ToString() + "'");
  }
  TT_RETURN_IF_ERROR(CheckLowerHex(p.tokenizer_digest, 64, "tokenizer digest"));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(p.tenant, "tenant"));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(p.region, "region"));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(p.epoch, "epoch"));
  return Status::Ok();
}

StatusOr<CommitmentOpening> CreateOpening(const CommitmentParams& params, SecretKey key) {
  TT_RETURN_IF_ERROR(ValidateCommitmentParams(params));
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  CommitmentOpening o{params, {}, std::move(key)};
  randombytes_buf(o.salt.data(), o.salt.size());
  return o;
}

Hash ComputeCommitment(const CommitmentOpening& o) {
  Sha256 h;
  h.UpdateLengthPrefixed(std::string_view(kDomain));
  h.UpdateLengthPrefixed(o.params.scheme);
  h.UpdateLengthPrefixed(o.params.tokenizer_digest);
  h.UpdateLengthPrefixed(o.params.tenant);
  h.UpdateLengthPrefixed(o.params.region);
  h.UpdateLengthPrefixed(o.params.epoch);
  h.UpdateLengthPrefixed(o.salt);
  h.UpdateLengthPrefixed(o.key.bytes());
  return h.Finish();
}

StatusOr<Json> OpeningToJson(const CommitmentOpening& o) {
  return Json{{"type", kOpeningType},
              {"scheme", o.params.scheme},
              {"tokenizer_digest", o.params.tokenizer_digest},
              {"tenant", o.params.tenant},
              {"region", o.params.region},
              {"epoch", o.params.epoch},
              {"salt", HexEncode(o.salt)},
              {"key", HexEncode(o.key.bytes())}};
}

StatusOr<CommitmentOpening> OpeningFromJson(const Json& j) {
  const std::string w = "opening";
  TT_RETURN_IF_ERROR(ExpectMembers(j, {"type", "scheme", "tokenizer_digest", "tenant", "region", "epoch", "salt", "key"}, w));
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", w));
  if (type != kOpeningType) return Status::Unimplemented(w + ".type: '" + type + "' is not " + kOpeningType);
  CommitmentParams p;
  TT_ASSIGN_OR_RETURN(p.scheme, GetString(j, "scheme", w));
  TT_ASSIGN_OR_RETURN(p.tokenizer_digest, GetString(j, "tokenizer_digest", w));
  TT_ASSIGN_OR_RETURN(p.tenant, GetString(j, "tenant", w));
  TT_ASSIGN_OR_RETURN(p.region, GetString(j, "region", w));
  TT_ASSIGN_OR_RETURN(p.epoch, GetString(j, "epoch", w));
  Status valid = ValidateCommitmentParams(p);
  if (!valid.ok()) return valid.WithContext(w);
  TT_ASSIGN_OR_RETURN(std::string salt_hex, GetString(j, "salt", w));
  TT_RETURN_IF_ERROR(CheckLowerHex(salt_hex, 64, w + ".salt"));
  TT_ASSIGN_OR_RETURN(std::string key_hex, GetString(j, "key", w));
  Status hex_ok = CheckLowerHex(key_hex, 64, w + ".key");
  uint8_t raw[kSecretKeyBytes];
  if (hex_ok.ok()) hex_ok = HexDecode(key_hex, raw, w + ".key");
  StatusOr<SecretKey> key = hex_ok.ok() ? SecretKey::FromBytes(raw) : StatusOr<SecretKey>(hex_ok);
  sodium_memzero(raw, sizeof raw);
  sodium_memzero(key_hex.data(), key_hex.size());
  if (!key.ok()) return key.status();
  CommitmentOpening o{std::move(p), {}, std::move(key).value()};
  TT_RETURN_IF_ERROR(HexDecode(salt_hex, o.salt, w + ".salt"));
  return o;
}

Status SaveOpeningFile(const CommitmentOpening& opening, const std::string& path) {
  TT_ASSIGN_OR_RETURN(Json j, OpeningToJson(opening));
  TT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(j));
  text += "\n";
  Status s = WriteFileAtomically(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  // nlohmann's string copies of the key hex cannot be reached to wipe; they
  // hold hex of a key the caller is about to hand to an auditor anyway.
  return s;
}

StatusOr<CommitmentOpening> LoadOpeningFile(const std::string& path) {
  char buf[8192];
  size_t used = 0;
  Status read = ReadPrivateFile(path, "opening file", buf, sizeof buf, &used);
  StatusOr<CommitmentOpening> out = Status::Internal("unreachable");
  if (read.ok()) {
    StatusOr<Json> j = ParseJsonStrict(std::string_view(buf, used), "opening file " + path);
    out = j.ok() ? OpeningFromJson(*j) : StatusOr<CommitmentOpening>(j.status());
    if (!out.ok()) out = out.status().WithContext("opening file " + path);
  } else {
    out = read;
  }
  sodium_memzero(buf, sizeof buf);
  return out;
}

Hash CommitmentSetRoot(const std::vector<Hash>& commitments) {
  std::vector<Hash> leaves;
  leaves.reserve(commitments.size());
  for (const Hash& c : commitments) leaves.push_back(MerkleLeafHash(c));
  return MerkleRoot(leaves);
}

StatusOr<CommitmentMembership> ProveMembership(const std::vector<Hash>& commitments, uint64_t index) {
  std::vector<Hash> leaves;
  for (const Hash& c : commitments) leaves.push_back(MerkleLeafHash(c));
  CommitmentMembership m;
  TT_ASSIGN_OR_RETURN(m.proof, MerkleInclusionProof(leaves, index));
  m.commitment = commitments[index];
  m.index = index;
  m.size = commitments.size();
  m.root = MerkleRoot(leaves);
  return m;
}

Status VerifyMembership(const CommitmentMembership& m) {
  return VerifyMerkleInclusion(m.index, m.size, MerkleLeafHash(m.commitment), m.proof, m.root);
}

Json MembershipToJson(const CommitmentMembership& m) {
  return Json{{"commitment", HashHex(m.commitment)}, {"index", m.index}, {"size", m.size},
              {"root", HashHex(m.root)}, {"proof", HashListToJson(m.proof)}};
}

StatusOr<CommitmentMembership> MembershipFromJson(const Json& j) {
  const std::string w = "membership";
  TT_RETURN_IF_ERROR(ExpectMembers(j, {"commitment", "index", "size", "root", "proof"}, w));
  CommitmentMembership m;
  TT_ASSIGN_OR_RETURN(m.commitment, GetHash(j, "commitment", w));
  TT_ASSIGN_OR_RETURN(m.index, GetUint(j, "index", w));
  TT_ASSIGN_OR_RETURN(m.size, GetUint(j, "size", w));
  TT_ASSIGN_OR_RETURN(m.root, GetHash(j, "root", w));
  TT_ASSIGN_OR_RETURN(m.proof, GetHashList(j, "proof", w));
  return m;
}

}  // namespace telltale::provenance
