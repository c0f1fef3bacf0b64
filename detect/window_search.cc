#include "detect/window_search.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <vector>

#include "detect/null_distribution.h"

namespace telltale {

namespace {

// The window family, in a fixed order that depends only on (m, min_window):
// the whole sequence, then for each L = min_window * 2^j < m the windows
// starting at multiples of ceil(L/2) plus the one ending at the last token.
template <typename Fn>
int64_t ForEachWindow(int64_t m, int32_t min_window, Fn&& fn) {
  int64_t tested = 1;
  fn(int64_t{0}, m);
  for (int64_t len = min_window; len < m; len *= 2) {
    const int64_t stride = (len + 1) / 2;
    int64_t start = 0;
    for (; start + len <= m; start += stride, ++tested) fn(start, len);
    if ((m - len) % stride != 0) {
      fn(m - len, len);
      ++tested;
    }
  }
  return tested;
}

std::vector<double> PrefixSums(std::span<const double> values) {
  std::vector<double> prefix(values.size() + 1, 0.0);
  for (size_t k = 0; k < values.size(); ++k) prefix[k + 1] = prefix[k] + values[k];
  return prefix;
}

}  // namespace

namespace {

struct Hit {
  int64_t begin, end;  // scored-token indices [begin, end)
  double log_p;
};

// The minimal hits, merged where they overlap or touch, as spans.
std::vector<WindowMatch> SpansFromHits(std::vector<Hit> hits, std::span<const int64_t> positions,
                                       const std::vector<double>& prefix, int64_t m, int64_t count) {
  if (hits.empty()) return {};
  const double log_count = std::log(static_cast<double>(count));
  // Keep the minimal hits: a significant window that contains a smaller
  // significant one says less about where the mark is (otherwise the whole
  // document would swallow every local span). suffix_min_end[i] is the least
  // end of a smaller hit beginning at or after i; windows of one length never
  // contain each other, so lengths are processed as levels.
  if (hits.front().end - hits.front().begin == m) {
    std::rotate(hits.begin(), hits.begin() + 1, hits.end());  // whole sequence last: it is the longest
  }
  std::vector<int64_t> suffix_min_end(static_cast<size_t>(m) + 2, INT64_MAX);
  std::vector<Hit> minimal;
  for (size_t i = 0; i < hits.size();) {
    size_t j = i;
    const int64_t len = hits[i].end - hits[i].begin;
    while (j < hits.size() && hits[j].end - hits[j].begin == len) ++j;
    for (size_t k = i; k < j; ++k) {
      if (suffix_min_end[static_cast<size_t>(hits[k].begin)] > hits[k].end) minimal.push_back(hits[k]);
    }
    for (size_t k = i; k < j; ++k) {
      int64_t& e = suffix_min_end[static_cast<size_t>(hits[k].begin)];
      e = std::min(e, hits[k].end);
    }
    for (int64_t b = m - 1; b >= 0; --b) {
      suffix_min_end[static_cast<size_t>(b)] =
          std::min(suffix_min_end[static_cast<size_t>(b)], suffix_min_end[static_cast<size_t>(b) + 1]);
    }
    i = j;
  }
  hits.swap(minimal);
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.begin < b.begin; });
  std::vector<WindowMatch> spans;
  int64_t cur_end = -1;
  double cur_log_p = 0;
  auto close = [&]() {
    WindowMatch& s = spans.back();
    s.end = positions[cur_end - 1] + 1;
    s.scored = cur_end - s.begin;  // s.begin holds the scored index until closed
    s.score = prefix[cur_end] - prefix[s.begin];
    s.begin = positions[s.begin];
    s.log10_p = cur_log_p * kLog10E;
    s.log10_p_corrected = std::min(0.0, (log_count + cur_log_p) * kLog10E);
    s.windows_tested = count;
  };
  for (const Hit& h : hits) {
    if (!spans.empty() && h.begin <= cur_end) {
      cur_end = std::max(cur_end, h.end);
      cur_log_p = std::min(cur_log_p, h.log_p);
      continue;
    }
    if (!spans.empty()) close();
    spans.push_back(WindowMatch{});
    spans.back().begin = h.begin;
    cur_end = h.end;
    cur_log_p = h.log_p;
  }
  if (!spans.empty()) close();
  return spans;
}

}  // namespace

WindowAnalysis AnalyzeWindows(const SchemeSpec& spec, std::span<const double> values,
                              std::span<const int64_t> positions, int32_t min_window,
                              std::optional<double> span_log10_threshold) {
  WindowAnalysis out;
  const int64_t m = static_cast<int64_t>(values.size());
  if (m == 0) return out;
  const std::vector<double> prefix = PrefixSums(values);
  // The family's size is known before any tail is computed (it depends on m
  // and min_window only), so the span test can run inside the same pass.
  const int64_t count = ForEachWindow(m, min_window, [](int64_t, int64_t) {});
  const double log_count = std::log(static_cast<double>(count));
  WindowMatch best;
  double best_log_p = 1.0;  // above any log p
  std::vector<Hit> hits;    // in family order: the whole sequence, then by increasing length
  ForEachWindow(m, min_window, [&](int64_t begin, int64_t len) {
    const double score = prefix[begin + len] - prefix[begin];
    const double log_p = LogNullTail(spec, score, len);
    if (log_p < best_log_p) {
      best_log_p = log_p;
      best.begin = positions[begin];
      best.end = positions[begin + len - 1] + 1;
      best.scored = len;
      best.score = score;
    }
    if (span_log10_threshold && (log_count + log_p) * kLog10E <= *span_log10_threshold) {
      hits.push_back({begin, begin + len, log_p});
    }
  });
  best.windows_tested = count;
  best.log10_p = best_log_p * kLog10E;
  best.log10_p_corrected = std::min(0.0, (log_count + best_log_p) * kLog10E);
  out.best = best;
  out.spans = SpansFromHits(std::move(hits), positions, prefix, m, count);
  return out;
}

std::optional<WindowMatch> SearchWindows(const SchemeSpec& spec, std::span<const double> values,
                                         std::span<const int64_t> positions, int32_t min_window) {
  return AnalyzeWindows(spec, values, positions, min_window, std::nullopt).best;
}

std::vector<WindowMatch> SignificantSpans(const SchemeSpec& spec, std::span<const double> values,
                                          std::span<const int64_t> positions, int32_t min_window,
                                          double log10_threshold) {
  return AnalyzeWindows(spec, values, positions, min_window, log10_threshold).spans;
}

}  // namespace telltale
