// Baselines measured in the same run as Telltale: a faithful C++ rendering of
// how the widely used reference implementation (Kirchenbauer et al.'s
// WatermarkLogitsProcessor) computes green lists: seed a generator from the
// previous token, draw a full random permutation of the vocabulary, and take
// its first gamma*V entries. Detection re-derives the permutation per token.
// std::mt19937_64 + Fisher-Yates stands in for torch.randperm; it is, if
// anything, faster than the Python original, so ratios are conservative.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace telltale::bench {

class ReferenceStyleKgw {
 public:
  ReferenceStyleKgw(int64_t vocab, double gamma, float delta, uint64_t key)
      : vocab_(vocab), green_count_(static_cast<int64_t>(gamma * vocab)), delta_(delta), key_(key), perm_(vocab) {}

  void Apply(int32_t prev, float* logits) {
    Permute(prev);
    for (int64_t i = 0; i < green_count_; ++i) logits[perm_[i]] += delta_;
  }

  bool IsGreen(int32_t prev, int32_t token) {
    Permute(prev);
    return std::find(perm_.begin(), perm_.begin() + green_count_, token) != perm_.begin() + green_count_;
  }

 private:
  void Permute(int32_t prev) {
    std::mt19937_64 rng(key_ * 15485863ULL + static_cast<uint64_t>(prev));
    std::iota(perm_.begin(), perm_.end(), 0);
    std::shuffle(perm_.begin(), perm_.end(), rng);
  }
  int64_t vocab_, green_count_;
  float delta_;
  uint64_t key_;
  std::vector<int32_t> perm_;
};

}  // namespace telltale::bench
