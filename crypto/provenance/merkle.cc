#include "crypto/provenance/merkle.h"

#include <algorithm>
#include <cstring>

namespace telltale::provenance {
namespace {

uint64_t SplitPoint(uint64_t n) {  // largest power of two < n, for n >= 2
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

bool Equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void InclusionPath(std::span<const Hash> d, uint64_t m, std::vector<Hash>* out) {
  if (d.size() <= 1) return;
  uint64_t k = SplitPoint(d.size());
  if (m < k) {
    InclusionPath(d.subspan(0, k), m, out);
    out->push_back(MerkleRoot(d.subspan(k)));
  } else {
    InclusionPath(d.subspan(k), m - k, out);
    out->push_back(MerkleRoot(d.subspan(0, k)));
  }
}

void SubProof(uint64_t m, std::span<const Hash> d, bool complete, std::vector<Hash>* out) {
  uint64_t n = d.size();
  if (m == n) {
    if (!complete) out->push_back(MerkleRoot(d));
    return;
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, d.subspan(0, k), complete, out);
    out->push_back(MerkleRoot(d.subspan(k)));
  } else {
    SubProof(m - k, d.subspan(k), false, out);
    out->push_back(MerkleRoot(d.subspan(0, k)));
  }
}

}  // namespace

Hash MerkleLeafHash(std::span<const uint8_t> entry) {
  Sha256 h;
  const uint8_t prefix = 0x00;
  h.Update(std::span<const uint8_t>(&prefix, 1));
  h.Update(entry);
  return h.Finish();
}

Hash MerkleNodeHash(const Hash& left, const Hash& right) {
  Sha256 h;
  const uint8_t prefix = 0x01;
  h.Update(std::span<const uint8_t>(&prefix, 1));
  h.Update(left);
  h.Update(right);
  return h.Finish();
}

Hash MerkleEmptyRoot() { return Sha256Of(std::string_view()); }

Hash MerkleRoot(std::span<const Hash> leaves) {
  if (leaves.empty()) return MerkleEmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  // Bottom-up with RFC 6962's promotion of the unpaired right node, which
  // equals the recursive MTH definition and avoids deep recursion.
  std::vector<Hash> level(leaves.begin(), leaves.end());
  while (level.size() > 1) {
    size_t out = 0;
    for (size_t i = 0; i < level.size(); i += 2) {
      level[out++] = i + 1 < level.size() ? MerkleNodeHash(level[i], level[i + 1]) : level[i];
    }
    level.resize(out);
  }
  return level[0];
}

StatusOr<std::vector<Hash>> MerkleInclusionProof(std::span<const Hash> leaves, uint64_t index) {
  if (index >= leaves.size()) {
    return Status::InvalidArgument("inclusion proof: index " + std::to_string(index) +
                                   " is not below tree size " + std::to_string(leaves.size()));
  }
  std::vector<Hash> proof;
  InclusionPath(leaves, index, &proof);
  return proof;
}

StatusOr<std::vector<Hash>> MerkleConsistencyProof(std::span<const Hash> leaves, uint64_t size1) {
  if (size1 == 0 || size1 > leaves.size()) {
    return Status::InvalidArgument("consistency proof: old size " + std::to_string(size1) +
                                   " must be in 1.." + std::to_string(leaves.size()));
  }
  std::vector<Hash> proof;
  SubProof(size1, leaves, true, &proof);
  return proof;
}

Status VerifyMerkleInclusion(uint64_t index, uint64_t size, std::span<const uint8_t> leaf_hash,
                             std::span<const Hash> proof, std::span<const uint8_t> root) {
  if (index >= size) {
    return Status::InvalidArgument("inclusion proof: leaf index " + std::to_string(index) +
                                   " is not below tree size " + std::to_string(size));
  }
  if (leaf_hash.size() != 32) return Status::InvalidArgument("inclusion proof: leaf hash is not 32 bytes");
  uint64_t fn = index, sn = size - 1;
  std::vector<uint8_t> r(leaf_hash.begin(), leaf_hash.end());
  for (const Hash& p : proof) {
    if (sn == 0) return Status::InvalidArgument("inclusion proof: too many hashes (" + std::to_string(proof.size()) + ")");
    Sha256 h;
    const uint8_t one = 0x01;
    h.Update(std::span<const uint8_t>(&one, 1));
    if ((fn & 1) == 1 || fn == sn) {
      h.Update(p);
      h.Update(r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      h.Update(r);
      h.Update(p);
    }
    Hash next = h.Finish();
    r.assign(next.begin(), next.end());
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::InvalidArgument("inclusion proof: too few hashes (" + std::to_string(proof.size()) + ")");
  if (!Equal(r, root)) return Status::InvalidArgument("inclusion proof: computed root does not match the tree root");
  return Status::Ok();
}

Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                               std::span<const uint8_t> root1, std::span<const uint8_t> root2) {
  if (size1 > size2) {
    return Status::InvalidArgument("consistency proof: the tree shrank from " + std::to_string(size1) + " to " +
                                   std::to_string(size2) + " entries");
  }
  if (size1 == 0) return Status::InvalidArgument("consistency proof: old tree size 0 proves nothing");
  if (size1 == size2) {
    if (!proof.empty()) return Status::InvalidArgument("consistency proof: sizes are equal but the proof is not empty");
    if (!Equal(root1, root2)) return Status::InvalidArgument("consistency proof: equal sizes with different roots");
    return Status::Ok();
  }
  if (proof.empty()) return Status::InvalidArgument("consistency proof: empty proof for different sizes");
  std::vector<Hash> path;
  bool power_of_two = (size1 & (size1 - 1)) == 0;
  if (power_of_two) {
    if (root1.size() != 32) return Status::InvalidArgument("consistency proof: old root is not 32 bytes");
    Hash first{};
    std::memcpy(first.data(), root1.data(), 32);
    path.push_back(first);
  }
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return Status::InvalidArgument("consistency proof: too many hashes (" + std::to_string(proof.size()) + ")");
    if ((fn & 1) == 1 || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::InvalidArgument("consistency proof: too few hashes (" + std::to_string(proof.size()) + ")");
  if (!Equal(fr, root1)) return Status::InvalidArgument("consistency proof: computed old root does not match");
  if (!Equal(sr, root2)) return Status::InvalidArgument("consistency proof: computed new root does not match");
  return Status::Ok();
}

}  // namespace telltale::provenance
