#include "detect/window_search.h"

#include <cmath>
#include <vector>

#include "detect/null_distribution.h"

namespace telltale {

std::optional<WindowMatch> SearchWindows(const SchemeSpec& spec, std::span<const double> values,
                                         std::span<const int64_t> positions, int32_t min_window) {
  const int64_t m = static_cast<int64_t>(values.size());
  if (m == 0) return std::nullopt;
  std::vector<double> prefix(static_cast<size_t>(m) + 1, 0.0);
  for (int64_t k = 0; k < m; ++k) prefix[k + 1] = prefix[k] + values[k];

  WindowMatch best;
  double best_log_p = 1.0;  // above any log p
  int64_t tested = 0;
  auto test = [&](int64_t begin, int64_t len) {
    ++tested;
    const double score = prefix[begin + len] - prefix[begin];
    const double log_p = LogNullTail(spec, score, len);
    if (log_p < best_log_p) {
      best_log_p = log_p;
      best.begin = positions[begin];
      best.end = positions[begin + len - 1] + 1;
      best.scored = len;
      best.score = score;
    }
  };
  test(0, m);
  for (int64_t len = min_window; len < m; len *= 2) {
    const int64_t stride = (len + 1) / 2;
    int64_t start = 0;
    for (; start + len <= m; start += stride) test(start, len);
    if ((m - len) % stride != 0) test(m - len, len);
  }
  best.windows_tested = tested;
  best.log10_p = best_log_p * kLog10E;
  best.log10_p_corrected = std::min(0.0, (std::log(static_cast<double>(tested)) + best_log_p) * kLog10E);
  return best;
}

}  // namespace telltale
