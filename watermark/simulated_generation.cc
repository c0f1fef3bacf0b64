#include "watermark/simulated_generation.h"

namespace telltale {

StatusOr<std::vector<int32_t>> GenerateSimulated(const SimulatedLm& lm, const Watermarker* wm,
                                                 const SimulatedGenerationParams& p) {
  if (p.length < 0 || p.prompt_tokens < 0) return Status::InvalidArgument("length and prompt must be >= 0");
  TT_RETURN_IF_ERROR(ValidateSamplingParams(p.sampling));
  uint64_t rng = p.seed;
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(p.prompt_tokens + p.length));
  for (int32_t i = 0; i < p.prompt_tokens; ++i) out.push_back(static_cast<int32_t>(SplitMix64(rng) % lm.vocab()));
  std::vector<float> logits(static_cast<size_t>(lm.vocab()));
  SampleWorkspace ws;
  const bool plain = p.sampling.temperature == 1.0f && p.sampling.top_k == 0 && p.sampling.top_p == 1.0f;
  for (int64_t t = 0; t < p.length; ++t) {
    if (wm == nullptr && plain) {
      out.push_back(lm.SampleNext(out, rng));  // O(log V) fast path, same distribution
      continue;
    }
    lm.Logits(out, logits);
    if (wm == nullptr) {
      TT_RETURN_IF_ERROR(SelectCandidates(logits, p.sampling, ws));
      out.push_back(DrawCandidate(ws, rng));
    } else {
      TT_ASSIGN_OR_RETURN(int32_t next, wm->Sample(out, logits, p.sampling, rng, ws));
      out.push_back(next);
    }
  }
  return out;
}

}  // namespace telltale
