#include "detect/null_distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/small_buffer.h"

namespace telltale {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// Stop summing once a term is this small relative to the running sum.
constexpr double kRelTol = 1e-18;

double LogChoose(int64_t n, int64_t k) {
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1);
}

double LogBinomialTerm(int64_t j, int64_t n, double log_p, double log_q) {
  return LogChoose(n, j) + static_cast<double>(j) * log_p + static_cast<double>(n - j) * log_q;
}

}  // namespace

double LogBinomialUpperTail(int64_t k, int64_t n, double p) {
  if (k <= 0) return 0.0;
  if (k > n) return kNegInf;
  const double q = 1.0 - p, log_p = std::log(p), log_q = std::log1p(-p), odds = p / q;
  if (static_cast<double>(k) >= static_cast<double>(n) * p) {
    // Terms decrease from j = k upwards: sum them relative to the first.
    double t = 1.0, sum = 1.0;
    for (int64_t j = k; j < n; ++j) {
      t *= static_cast<double>(n - j) / static_cast<double>(j + 1) * odds;
      sum += t;
      if (t < sum * kRelTol) break;
    }
    return LogBinomialTerm(k, n, log_p, log_q) + std::log(sum);
  }
  // k below the mean: P(X >= k) = 1 - P(X <= k-1), and the lower tail's terms
  // decrease from j = k-1 downwards.
  double t = 1.0, sum = 1.0;
  for (int64_t j = k - 1; j > 0; --j) {
    t *= static_cast<double>(j) / static_cast<double>(n - j + 1) / odds;
    sum += t;
    if (t < sum * kRelTol) break;
  }
  const double lower = std::exp(LogBinomialTerm(k - 1, n, log_p, log_q)) * sum;
  return std::log1p(-std::min(lower, 1.0));
}

double LogGammaUpperTail(double s, int64_t n) {
  if (n <= 0 || s <= 0) return 0.0;
  const double log_s = std::log(s);
  auto log_term = [&](int64_t j) { return -s + static_cast<double>(j) * log_s - std::lgamma(static_cast<double>(j) + 1); };
  if (s >= static_cast<double>(n - 1)) {
    // Q(n, s) = e^-s sum_{j<n} s^j/j!; the terms decrease from j = n-1 down.
    double t = 1.0, sum = 1.0;
    for (int64_t j = n - 1; j > 0; --j) {
      t *= static_cast<double>(j) / s;
      sum += t;
      if (t < sum * kRelTol) break;
    }
    return log_term(n - 1) + std::log(sum);
  }
  // s below the mode: Q = 1 - P with P = e^-s sum_{j>=n} s^j/j!, decreasing up.
  double t = 1.0, sum = 1.0;
  for (int64_t j = n;; ++j) {
    t *= s / static_cast<double>(j + 1);
    sum += t;
    if (t < sum * kRelTol) break;
  }
  const double lower = std::exp(log_term(n)) * sum;
  return std::log1p(-std::min(lower, 1.0));
}

std::vector<double> HolmAdjustLog(std::span<const double> log_p) {
  std::vector<double> adjusted(log_p.size());
  HolmAdjustLogInto(log_p, adjusted.data());
  return adjusted;
}

void HolmAdjustLogInto(std::span<const double> log_p, double* adjusted) {
  const size_t k = log_p.size();
  constexpr size_t kSmall = 16;
  SmallBuffer<size_t, kSmall> order_storage(k);
  const std::span<size_t> order = order_storage.span();
  std::iota(order.begin(), order.end(), size_t{0});
  const auto less = [&](size_t a, size_t b) { return log_p[a] < log_p[b]; };
  if (k <= kSmall) {
    // A scan asks this for every document over a few keys: an insertion
    // sort (stable, like stable_sort) without stable_sort's buffer.
    for (size_t i = 1; i < k; ++i) {
      const size_t x = order[i];
      size_t j = i;
      for (; j > 0 && less(x, order[j - 1]); --j) order[j] = order[j - 1];
      order[j] = x;
    }
  } else {
    std::stable_sort(order.begin(), order.end(), less);
  }
  double running = kNegInf;
  for (size_t rank = 0; rank < k; ++rank) {
    const double v = std::min(0.0, std::log(static_cast<double>(k - rank)) + log_p[order[rank]]);
    running = std::max(running, v);
    adjusted[order[rank]] = running;
  }
}

}  // namespace telltale
