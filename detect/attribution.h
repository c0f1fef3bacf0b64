// Multi-key attribution: which of K keys (e.g. one per tenant) marked a text.
//
// Each key gets its own exact p-value; Holm's step-down procedure controls the
// family-wise error over the K keys, so "key j matched" is claimed at level
// alpha only when key j's Holm-adjusted p <= alpha. The best key is the one
// with the smallest raw p (ties: the earlier key); its adjusted p equals
// min(1, K * p_min).
// Thread-safety: pure function over const detectors.
#pragma once

#include <span>
#include <vector>

#include "detect/detector.h"

namespace telltale {

struct Attribution {
  std::vector<Detection> per_key;       // in the order of the detectors
  std::vector<double> holm_log10_p;     // adjusted, same order
  size_t best = 0;                      // index of the best-matching key
};

// Keys that share one scheme are scored in one pass (Detector::ScoreKeys),
// which also feeds `sink` if given; keys of different schemes are scored one
// by one (then `sink` must be null).
StatusOr<Attribution> AttributeKeys(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                                    const DetectOptions& options, const TupleSink* sink = nullptr);
// The same into *out, reusing its vectors' storage (a scan attributes
// millions of short documents). On failure *out is unspecified.
Status AttributeKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                         const DetectOptions& options, const TupleSink* sink, Attribution* out);

}  // namespace telltale
