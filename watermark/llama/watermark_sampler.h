// WatermarkSampler: a llama.cpp sampler (llama_sampler_i) that watermarks
// with a telltale Watermarker.
//
//   auto wm = std::make_shared<const Watermarker>(Watermarker::Create(key, spec).value());
//   llama_sampler* s = WatermarkSampler::New(wm, llama_vocab_n_tokens(vocab), seed).value();
//   llama_sampler_chain_add(chain, s);   // the chain takes ownership
//
// Bias schemes (kgw, unigram) add delta to the logit of every green
// candidate. Greenness is looked up by token id in a bitmap of the whole
// vocabulary, so the sampler is correct on any candidate subset in any
// order; it is meant to go FIRST in the chain (before penalties, top-k,
// top-p, temperature) so that the bias acts on the model's own logits, as
// the detector's null model assumes. It never selects a token.
//
// Sampling schemes (gumbel) select the token (set cur_p->selected) by keyed
// Gumbel-max over the candidates that reach it, and so replace `dist`: put
// it LAST, after top-k/top-p/temperature. A reduced candidate array is
// handled exactly like the same distribution over the full vocabulary
// (absent ids at -inf): few candidates go through
// Watermarker::SampleCandidates, many are scattered into a dense row; both
// give the same token.
//
// accept() appends the token to the context (prompt tokens included when the
// caller feeds them, as llama-server and common_sampler do); only the last h
// tokens are kept unless skip_repeat needs the whole history. reset() clears
// the context and restores the initial rng seed; clone() copies context and
// rng, so clones evolve independently; the Watermarker itself is shared
// (immutable, thread-safe) between clones.
//
// Edge cases: a full-size array (n_vocab entries) is assumed to hold each id
// once, as llama.cpp's arrays do (a duplicated green id outside its own
// position might then be missed); any order is fine. Candidate ids outside
// [0, n_vocab) are left untouched (bias)
// or ignored (gumbel); if gumbel sampling fails (every candidate at -inf)
// the highest-logit candidate is selected so the caller never reads index -1.
// Thread-safety: one sampler per sequence; its calls must not overlap.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "watermark/watermarker.h"

struct llama_sampler;
struct llama_token_data_array;

namespace telltale {

class WatermarkSampler {
 public:
  // Returns a new llama_sampler owning a WatermarkSampler (freed by
  // llama_sampler_free, or by the chain it is added to).
  static StatusOr<llama_sampler*> New(std::shared_ptr<const Watermarker> wm, int32_t n_vocab, uint64_t seed);

  // True when this llama_sampler was created by New (safe on any sampler).
  static bool Is(const llama_sampler* smpl);
  // The state behind a sampler made by New, or nullptr for other samplers.
  static WatermarkSampler* From(llama_sampler* smpl);

  WatermarkSampler(std::shared_ptr<const Watermarker> wm, int32_t n_vocab, uint64_t seed);

  void Accept(int32_t token);
  void Apply(llama_token_data_array* cur_p);
  void Reset();

  const Watermarker& watermarker() const { return *wm_; }
  // Steps applied so far and how many of them saw all n_vocab candidates.
  uint64_t steps() const { return steps_; }
  uint64_t full_candidate_steps() const { return full_steps_; }
  // Steps whose context was long enough (and not a repeat) to watermark.
  uint64_t watermarked_steps() const { return watermarked_steps_; }

 private:
  void ApplyBias(llama_token_data_array* cur_p);
  void ApplySampling(llama_token_data_array* cur_p);
  StatusOr<int32_t> SampleToken(const llama_token_data_array* cur_p);
  void TrimContext();

  std::shared_ptr<const Watermarker> wm_;
  int32_t n_vocab_;
  uint64_t seed_;
  uint64_t rng_;
  std::vector<int32_t> context_;
  // Scratch reused across steps (never shared between clones).
  std::vector<uint64_t> green_;  // bias schemes: green-list bitmap, ceil(n_vocab / 64) words
  std::vector<float> dense_;     // sampling schemes, many candidates: dense logits row
  std::vector<int32_t> ids_;     // sampling schemes, few candidates: their ids and logits
  std::vector<float> logits_;
  SampleWorkspace ws_;
  uint64_t steps_ = 0, full_steps_ = 0, watermarked_steps_ = 0;
};

}  // namespace telltale
