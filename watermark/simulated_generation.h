// Generation loops over SimulatedLm, shared by `telltale generate`, the demo,
// the statistical tests and the benchmarks, so all of them exercise exactly
// the production Watermarker::Sample path.
// Thread-safety: reentrant; each call uses its own workspace.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "watermark/simulated_lm.h"
#include "watermark/watermarker.h"

namespace telltale {

struct SimulatedGenerationParams {
  int64_t length = 200;        // tokens to generate after the prompt
  SamplingParams sampling;     // temperature / top-k / top-p
  uint64_t seed = 1;           // seeds both the prompt and the sampling stream
  int32_t prompt_tokens = 4;   // random prompt prepended (returned too)
};

// Returns prompt + continuation. With watermarker == nullptr the continuation
// is unwatermarked (plain multinomial sampling from the same distribution).
StatusOr<std::vector<int32_t>> GenerateSimulated(const SimulatedLm& lm, const Watermarker* watermarker,
                                                 const SimulatedGenerationParams& params);

}  // namespace telltale
