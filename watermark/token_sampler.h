// Candidate selection and sampling shared by every scheme: temperature,
// top-k and top-p (nucleus), then either multinomial sampling with a seeded
// splitmix64 stream or a caller-supplied argmax rule (keyed Gumbel-max).
//
// Ties are broken by the smaller token id, so results are identical on every
// platform. Thread-safety: pure functions over caller-owned workspaces.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace telltale {

struct SamplingParams {
  float temperature = 1.0f;  // > 0
  int32_t top_k = 0;         // 0 disables
  float top_p = 1.0f;        // in (0, 1]; 1 disables
};

// Reused across steps so sampling allocates only when the vocabulary grows.
struct SampleWorkspace {
  std::vector<float> logits;     // biased copy for bias schemes
  std::vector<int32_t> ids;      // candidate ids, best first
  std::vector<double> probs;     // their renormalized probabilities
  std::vector<uint32_t> slots;   // PRF slots for gumbel
  std::vector<uint64_t> contexts;
  std::vector<uint8_t> blocks;   // PRF blocks of a whole vocabulary (gumbel)
};

// splitmix64: the reference stream for multinomial draws (docs/SPEC.md).
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
// Uniform double in [0, 1) from the top 53 bits.
inline double UniformDouble(uint64_t& state) { return (SplitMix64(state) >> 11) * 0x1.0p-53; }

Status ValidateSamplingParams(const SamplingParams& p);

// Fills ws.ids / ws.probs with the candidates that survive temperature,
// top-k and top-p, with probabilities renormalized to sum to 1. Candidates
// are in id order when neither top-k nor top-p applies (no O(V log V) sort on
// the hot path), else by probability (descending, ties by smaller id).
// Fails on empty logits, NaN/+inf logits, or all -inf logits.
Status SelectCandidates(std::span<const float> logits, const SamplingParams& p, SampleWorkspace& ws);

// Multinomial draw from ws.ids / ws.probs.
int32_t DrawCandidate(const SampleWorkspace& ws, uint64_t& rng);

}  // namespace telltale
