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

#include "watermark/scheme_spec.h"

namespace telltale {

// Number of previous tokens that make up "the context" for skip_repeat and
// for context-only dedup: h for left seeding and gumbel, h-1 for self
// seeding, 0 for unigram (those features do not apply).
inline int RepeatWindow(const SchemeSpec& s) {
  if (s.family == SchemeFamily::kUnigram) return 0;
  return s.seeding == Seeding::kSelf && s.family == SchemeFamily::kKgw ? s.h - 1 : s.h;
}

// The PRF context of the token at position i of `tokens` (the token itself is
// tokens[i]). Returns false when fewer previous tokens exist than the scheme
// needs: generation leaves such positions unwatermarked and detection does
// not score them, so both sides agree without padding conventions.
inline bool ScoringContext(const SchemeSpec& s, const int32_t* tokens, int64_t i, uint64_t* ctx) {
  if (s.family == SchemeFamily::kUnigram) {
    *ctx = 0;
    return true;
  }
  if (s.family == SchemeFamily::kKgw && s.seeding == Seeding::kSelf) {
    if (i < s.h - 1) return false;
    *ctx = SelfContextHash(tokens + i - (s.h - 1), s.h - 1, tokens[i]);
    return true;
  }
  if (i < s.h) return false;
  *ctx = LeftContextHash(tokens + i - s.h, s.h);
  return true;
}

}  // namespace telltale
