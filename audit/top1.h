// Top1Index: the argmax of one logit row, shared by every reading mode
// (TupleScorer::AddLogits for the Python/torch path, GgufReader for GGUF)
// so that both take the same prediction from the same logits.
//
// Rule: NaN never wins; ties go to the lowest id; a row of only NaN gives 0.
// The max runs on GCC/Clang vectors of 4 floats with two accumulators:
// lane-wise `x > m ? x : m` is exactly MAXPS (a NaN x compares false and
// keeps m), which compilers do not form from a scalar loop without
// -ffast-math; a second pass returns the first index equal to the maximum.
// Pure function, thread-safe; `row` must hold `n` >= 0 floats.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace telltale {

inline int64_t Top1Index(const float* row, int64_t n) {
  typedef float Vec4 __attribute__((vector_size(16)));
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  Vec4 m0 = {kNegInf, kNegInf, kNegInf, kNegInf}, m1 = m0;
  int64_t v = 0;
  for (; v + 8 <= n; v += 8) {
    Vec4 x0, x1;
    std::memcpy(&x0, row + v, sizeof x0);
    std::memcpy(&x1, row + v + 4, sizeof x1);
    m0 = x0 > m0 ? x0 : m0;
    m1 = x1 > m1 ? x1 : m1;
  }
  float best = kNegInf;
  for (; v < n; ++v) best = row[v] > best ? row[v] : best;
  for (int k = 0; k < 4; ++k) {
    best = m0[k] > best ? m0[k] : best;
    best = m1[k] > best ? m1[k] : best;
  }
  for (v = 0; v < n; ++v) {
    if (row[v] == best) return v;
  }
  return 0;
}

}  // namespace telltale
