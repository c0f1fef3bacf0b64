// Goodness-of-fit helpers for the statistical tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "detect/null_distribution.h"

namespace telltale::testing {

// One-sample Kolmogorov-Smirnov test against U(0,1): returns the p-value,
// using Stephens' finite-sample correction of the Kolmogorov distribution.
inline double KsUniformPValue(std::vector<double> u) {
  std::sort(u.begin(), u.end());
  const double n = static_cast<double>(u.size());
  double d = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    d = std::max({d, (i + 1) / n - u[i], u[i] - i / n});
  }
  const double lambda = (std::sqrt(n) + 0.12 + 0.11 / std::sqrt(n)) * d;
  double q = 0;
  for (int j = 1; j <= 100; ++j) q += (j % 2 ? 2.0 : -2.0) * std::exp(-2.0 * j * j * lambda * lambda);
  return std::clamp(q, 0.0, 1.0);
}

// Two-sided interval [lo, hi] holding Bin(n, p) with probability >= 1 - a.
inline std::pair<int64_t, int64_t> BinomialInterval(int64_t n, double p, double a) {
  int64_t hi = 0;
  while (std::exp(LogBinomialUpperTail(hi + 1, n, p)) > a / 2) ++hi;
  int64_t lo = hi;
  while (lo > 0 && 1.0 - std::exp(LogBinomialUpperTail(lo, n, p)) > a / 2) --lo;
  return {lo, hi};
}

}  // namespace telltale::testing
