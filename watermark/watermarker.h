// Watermarker: the generation side of every scheme.
//
//   auto wm = Watermarker::Create(key, SchemeSpec::Parse("kgw:gamma=0.25").value());
//   wm->Apply(context, logits);            // bias schemes: in place
//   wm->Sample(context, logits, params, rng, ws);   // any scheme
//
// `context` is every token before the one being generated, oldest first
// (prompt included). Only its last h tokens matter, except with skip_repeat,
// which looks for an earlier occurrence of the current context window.
// A context shorter than the scheme needs leaves logits untouched (and
// Sample draws without watermark); detection skips those positions too.
//
// Ownership: owns its PRF key schedule (wiped on destruction); move-only.
// Logits, contexts and workspaces are caller-owned; nothing is retained.
// Thread-safety: every method is const and may run concurrently on one
// Watermarker, as long as each thread passes its own SampleWorkspace.
// Allocation: Apply/ApplyBatch/GreenBitmap never allocate; Sample allocates
// only the first time a workspace sees a larger vocabulary.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "crypto/secret_key.h"
#include "watermark/keyed_prf.h"
#include "watermark/scheme_spec.h"
#include "watermark/token_sampler.h"

namespace telltale {

using LogitsMatrixMap =
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

using ConstLogitsMatrixMap =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

enum class HalfFormat { kFloat16, kBFloat16 };

class Watermarker {
 public:
  static StatusOr<Watermarker> Create(const SecretKey& key, const SchemeSpec& spec);

  const SchemeSpec& spec() const { return spec_; }

  // Adds delta to the logits of green tokens (kgw, unigram). Fails with
  // FailedPrecondition for sampling schemes and InvalidArgument for empty
  // logits or negative token ids in the context.
  Status Apply(std::span<const int32_t> context, std::span<float> logits) const;
  // The same on IEEE binary16 or bfloat16 logits (round to nearest even).
  Status ApplyHalf(std::span<const int32_t> context, std::span<uint16_t> logits, HalfFormat format) const;

  // Row b's context is tokens[offsets[b] .. offsets[b+1]); offsets has
  // logits.rows() + 1 non-decreasing entries.
  Status ApplyBatch(std::span<const int32_t> tokens, std::span<const int64_t> offsets, LogitsMatrixMap logits) const;

  // Green list of the next token as a bitmap: bit t of words[t / 64] is set
  // iff token t is green. words.size() must be >= ceil(vocab / 64). Returns
  // false in *watermarked when the context is too short or repeated.
  Status GreenBitmap(std::span<const int32_t> context, int64_t vocab, std::span<uint64_t> words,
                     bool* watermarked) const;

  // Draws the next token. Gumbel: keyed Gumbel-max over the candidate
  // distribution (deterministic given the context; rng untouched unless the
  // context is unwatermarked). Bias schemes: Apply, then multinomial
  // sampling with `rng` (a splitmix64 state the caller seeds).
  StatusOr<int32_t> Sample(std::span<const int32_t> context, std::span<const float> logits,
                           const SamplingParams& params, uint64_t& rng, SampleWorkspace& ws) const;

  // Sample over a sparse candidate set, for samplers that run after top-k /
  // top-p (llama.cpp chains): exactly Sample(context, dense, {}, rng, ws)
  // where dense has vocab entries, logits[i] at ids[i] (a later duplicate id
  // wins) and -inf elsewhere, token for token and rng for rng, but in
  // O(n log n) for n candidates instead of O(vocab). Sampling schemes only
  // (FailedPrecondition otherwise: a bias scheme's candidates need Apply on
  // the model's full logits first). ids must lie in [0, vocab).
  StatusOr<int32_t> SampleCandidates(std::span<const int32_t> context, std::span<const int32_t> ids,
                                     std::span<const float> logits, int64_t vocab, uint64_t& rng,
                                     SampleWorkspace& ws) const;

  // Sample for every row: row b uses context tokens[offsets[b] ..
  // offsets[b+1]), logits row b and its own rng state rngs[b]; writes out[b].
  Status SampleBatch(std::span<const int32_t> tokens, std::span<const int64_t> offsets, ConstLogitsMatrixMap logits,
                     const SamplingParams& params, std::span<uint64_t> rngs, SampleWorkspace& ws,
                     std::span<int32_t> out) const;

  // True when the next token is watermarked for this context (long enough,
  // and not a repeat under skip_repeat).
  bool ContextIsWatermarked(std::span<const int32_t> context) const;

 private:
  Watermarker(SchemeSpec spec, KeyedPrf prf);
  // Green flags (one byte per token) of the tokens in n_blocks raw PRF blocks.
  void GreenMask(const uint8_t* blocks, size_t n_blocks, uint8_t* mask) const;
  // Walks the vocabulary in chunks: for left/unigram contexts it first offers
  // the raw PRF blocks to on_blocks(first, count, blocks, n_blocks), which
  // returns true if it consumed them; otherwise add(first, count, mask) gets
  // one green flag per token.
  // Keyed Gumbel-max over ws.ids / ws.probs (filled by candidate selection)
  // for a vocabulary of `vocab` tokens; shared by Sample and SampleCandidates
  // so that the two cannot drift apart.
  StatusOr<int32_t> GumbelSelect(std::span<const int32_t> context, size_t vocab, uint64_t& rng,
                                 SampleWorkspace& ws) const;
  template <typename AddFn, typename BlocksFn>
  Status ForEachGreenChunk(std::span<const int32_t> context, int64_t vocab, AddFn&& add, BlocksFn&& on_blocks) const;

  SchemeSpec spec_;
  KeyedPrf prf_;
  std::vector<uint8_t> byte_masks_;  // 256 x 8: PRF byte -> green flags (s <= 4)
};

}  // namespace telltale
