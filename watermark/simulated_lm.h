// SimulatedLm: a cheap, deterministic stand-in for a language model, used by
// the demo, the statistical tests and the power benchmarks.
//
// Next-token logits are a Zipf law over ranks, logit(rank r) = -s * ln(r + 1),
// and the mapping from ranks to token ids is a bijection r -> (a*r + b) mod V
// chosen by hashing (seed, previous token). So the distribution depends on
// context, has a controlled entropy (ExponentForEntropy), and produces the
// repeated n-grams real text has, which is what dedup must handle.
// It is not a model of language: use the reference LM (datasets/) for claims
// about real text.
// Thread-safety: immutable after construction; all methods const.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace telltale {

class SimulatedLm {
 public:
  static StatusOr<SimulatedLm> Create(int32_t vocab, double zipf_exponent, uint64_t seed);
  // Zipf exponent giving `bits` of entropy per token at this vocabulary size.
  static double ExponentForEntropy(int32_t vocab, double bits);

  int32_t vocab() const { return vocab_; }
  double entropy_bits() const { return entropy_bits_; }

  // Writes the next-token logits for `context` (only its last token is used;
  // an empty context uses token 0) into out, which must hold vocab() floats.
  void Logits(std::span<const int32_t> context, std::span<float> out) const;
  // Unwatermarked draw from the same distribution, O(log V).
  int32_t SampleNext(std::span<const int32_t> context, uint64_t& rng) const;

 private:
  SimulatedLm(int32_t vocab, double s, uint64_t seed);
  void Mapping(std::span<const int32_t> context, uint64_t* a, uint64_t* b) const;
  int32_t vocab_;
  uint64_t seed_;
  double entropy_bits_ = 0;
  std::vector<float> rank_logits_;
  std::vector<double> rank_cdf_;
};

}  // namespace telltale
