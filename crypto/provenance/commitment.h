// Salted hash commitments to watermark keys, and per-epoch commitment sets.
//
//   C = SHA-256(lp("telltale/key-commitment/v1") || lp(scheme) ||
//               lp(tokenizer_digest) || lp(tenant) || lp(region) ||
//               lp(epoch) || lp(salt) || lp(key))
// lp = 4-byte big-endian length, then the bytes. The 32-byte random salt
// keeps C hiding even when the parameters are guessable; SHA-256 makes it
// binding. `scheme` must be a canonical SchemeSpec string and
// `tokenizer_digest` 64 lower-case hex digits.
//
// A commitment set is the RFC 6962 tree whose leaf entries are the 32-byte
// commitments of one epoch, in the order given; membership of one tenant is
// shown by an inclusion proof, so opening one tenant reveals nothing about
// the others.
//
// Ownership: an opening holds the key (a SecretKey, wiped on destruction).
// Opening files contain the key in hex, so they are written with mode 0600
// and refused when group/other-readable.
// Thread-safety: reentrant.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/sha256.h"
#include "crypto/secret_key.h"

namespace telltale::provenance {

struct CommitmentParams {
  std::string scheme;            // canonical scheme spec
  std::string tokenizer_digest;  // hex SHA-256 of the tokenizer model
  std::string tenant, region, epoch;
};

struct CommitmentOpening {
  CommitmentParams params;
  std::array<uint8_t, 32> salt{};
  SecretKey key;
};

struct CommitmentMembership {
  Hash commitment{};
  uint64_t index = 0, size = 0;
  Hash root{};
  std::vector<Hash> proof;
};

Status ValidateCommitmentParams(const CommitmentParams& params);
StatusOr<CommitmentOpening> CreateOpening(const CommitmentParams& params, SecretKey key);
Hash ComputeCommitment(const CommitmentOpening& opening);

// Opening as JSON (the "opening" object of docs/spec/provenance.md).
StatusOr<Json> OpeningToJson(const CommitmentOpening& opening);
StatusOr<CommitmentOpening> OpeningFromJson(const Json& j);
Status SaveOpeningFile(const CommitmentOpening& opening, const std::string& path);
StatusOr<CommitmentOpening> LoadOpeningFile(const std::string& path);

// Commitment set over `commitments`: the root and each member's proof.
Hash CommitmentSetRoot(const std::vector<Hash>& commitments);
StatusOr<CommitmentMembership> ProveMembership(const std::vector<Hash>& commitments, uint64_t index);
Status VerifyMembership(const CommitmentMembership& m);

Json MembershipToJson(const CommitmentMembership& m);
StatusOr<CommitmentMembership> MembershipFromJson(const Json& j);

}  // namespace telltale::provenance
