#include "watermark/simulated_lm.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "watermark/context_hash.h"
#include "watermark/token_sampler.h"

namespace telltale {
namespace {

double ZipfEntropyBits(int32_t vocab, double s) {
  double z = 0, acc = 0;
  for (int32_t r = 0; r < vocab; ++r) z += std::pow(r + 1.0, -s);
  for (int32_t r = 0; r < vocab; ++r) {
    const double p = std::pow(r + 1.0, -s) / z;
    acc -= p * std::log2(p);
  }
  return acc;
}

}  // namespace

double SimulatedLm::ExponentForEntropy(int32_t vocab, double bits) {
  double lo = 0.0, hi = 20.0;  // entropy falls as the exponent grows
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (ZipfEntropyBits(vocab, mid) > bits) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

StatusOr<SimulatedLm> SimulatedLm::Create(int32_t vocab, double zipf_exponent, uint64_t seed) {
  if (vocab < 2) return Status::InvalidArgument("simulated LM vocabulary must have at least 2 tokens");
  if (!(zipf_exponent >= 0 && zipf_exponent < 50)) {
    return Status::InvalidArgument("simulated LM Zipf exponent must lie in [0, 50)");
  }
  return SimulatedLm(vocab, zipf_exponent, seed);
}

SimulatedLm::SimulatedLm(int32_t vocab, double s, uint64_t seed)
    : vocab_(vocab), seed_(seed), rank_logits_(static_cast<size_t>(vocab)), rank_cdf_(static_cast<size_t>(vocab)) {
  double z = 0;
  for (int32_t r = 0; r < vocab; ++r) {
    rank_logits_[r] = static_cast<float>(-s * std::log(r + 1.0));
    z += std::exp(static_cast<double>(rank_logits_[r]));
  }
  double cum = 0;
  for (int32_t r = 0; r < vocab; ++r) {
    const double p = std::exp(static_cast<double>(rank_logits_[r])) / z;
    if (p > 0) entropy_bits_ -= p * std::log2(p);
    cum += p;
    rank_cdf_[r] = cum;
  }
}

void SimulatedLm::Mapping(std::span<const int32_t> context, uint64_t* a, uint64_t* b) const {
  const uint64_t prev = context.empty() ? 0 : static_cast<uint32_t>(context.back());
  const uint64_t h = Fmix64(seed_ ^ Fmix64(prev + 1));
  const uint64_t v = static_cast<uint64_t>(vocab_);
  uint64_t mult = 1 + h % (v - 1);
  while (std::gcd(mult, v) != 1) mult = mult % (v - 1) + 1;
  *a = mult;
  *b = (h >> 32) % v;
}

void SimulatedLm::Logits(std::span<const int32_t> context, std::span<float> out) const {
  uint64_t a, b;
  Mapping(context, &a, &b);
  uint64_t t = b;
  const uint64_t v = static_cast<uint64_t>(vocab_);
  for (int32_t r = 0; r < vocab_; ++r) {
    out[t] = rank_logits_[r];
    t += a;
    if (t >= v) t -= v;
  }
}

int32_t SimulatedLm::SampleNext(std::span<const int32_t> context, uint64_t& rng) const {
  const double u = UniformDouble(rng) * rank_cdf_.back();
  const auto it = std::upper_bound(rank_cdf_.begin(), rank_cdf_.end(), u);
  const uint64_t r = std::min<uint64_t>(static_cast<uint64_t>(it - rank_cdf_.begin()), vocab_ - 1);
  uint64_t a, b;
  Mapping(context, &a, &b);
  return static_cast<int32_t>((a * r + b) % static_cast<uint64_t>(vocab_));
}

}  // namespace telltale
