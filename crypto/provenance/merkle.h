// RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.
//
//   leaf hash  = SHA-256(0x00 || entry)
//   node hash  = SHA-256(0x01 || left || right)
//   empty root = SHA-256("")
//   MTH(D[n]) splits at k, the largest power of two smaller than n.
//
// Proof generation works over a caller-owned array of leaf hashes (the log
// loads them from SQLite); it costs O(n) hashes per call, which is fine for
// logs of millions of entries and keeps the stored state minimal.
//
// Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 literally.
// Roots and leaf hashes are taken as byte spans of any length, so malformed
// inputs (wrong lengths) simply fail to match instead of being rejected
// earlier with a different error. Consistency proofs are defined only for
// 0 < size1 <= size2; size1 == 0 is refused because it proves nothing.
// Every failure says which check failed.
// Thread-safety: reentrant, no shared state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {

Hash MerkleLeafHash(std::span<const uint8_t> entry);
Hash MerkleNodeHash(const Hash& left, const Hash& right);
Hash MerkleEmptyRoot();

// MTH over leaf hashes (the empty array gives MerkleEmptyRoot()).
Hash MerkleRoot(std::span<const Hash> leaves);

// PATH(index, D[n]) with n = leaves.size(); InvalidArgument when index >= n.
StatusOr<std::vector<Hash>> MerkleInclusionProof(std::span<const Hash> leaves, uint64_t index);

// PROOF(size1, D[n]); InvalidArgument unless 0 < size1 <= n.
StatusOr<std::vector<Hash>> MerkleConsistencyProof(std::span<const Hash> leaves, uint64_t size1);

Status VerifyMerkleInclusion(uint64_t index, uint64_t size, std::span<const uint8_t> leaf_hash,
                             std::span<const Hash> proof, std::span<const uint8_t> root);

Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                               std::span<const uint8_t> root1, std::span<const uint8_t> root2);

}  // namespace telltale::provenance
