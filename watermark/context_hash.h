// Context hashing: how the tokens before (and, for self-seeding, at) a
// position become the 64-bit context that seeds the keyed PRF.
//
// These functions are unkeyed on purpose: secrecy comes from the AES key in
// KeyedPrf; the hash only has to be injective or nearly so. fmix64 (the
// MurmurHash3 finalizer) is a bijection on 64-bit words, so h=1 left-hashing
// and the (y, t) pairs of self-hashing never collide. Exact definitions and
// vectors: docs/SPEC.md, section Context hashing.
//
// Token ids are non-negative int32; callers validate that before hashing.
#pragma once

#include <algorithm>
#include <cstdint>

namespace telltale {

constexpr uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// Left hash over window[0..h), oldest first: c = 0; c = fmix64(c ^ y).
inline uint64_t LeftContextHash(const int32_t* window, int h) {
  uint64_t c = 0;
  for (int i = 0; i < h; ++i) c = Fmix64(c ^ static_cast<uint32_t>(window[i]));
  return c;
}

// Anchored min-hash (Kirchenbauer et al. 2023b, "SelfHash"): the minimum over
// y in {previous h-1 tokens, candidate} of fmix64(y << 32 | candidate). The
// candidate is the anchor, so the seed depends on the token being scored.
inline uint64_t SelfContextHash(const int32_t* previous, int count, int32_t candidate) {
  const uint64_t t = static_cast<uint32_t>(candidate);
  uint64_t m = Fmix64(t << 32 | t);
  for (int i = 0; i < count; ++i) m = std::min(m, Fmix64(uint64_t{static_cast<uint32_t>(previous[i])} << 32 | t));
  return m;
}

}  // namespace telltale
