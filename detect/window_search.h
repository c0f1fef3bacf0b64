// Window search for partly watermarked text: the best-scoring window of
// consecutive scored tokens, with a Bonferroni-corrected p-value.
//
// Windows (over the m scored tokens, in order): the whole sequence, and for
// each length L = min_window * 2^j < m, windows starting at multiples of
// ceil(L/2) plus the window ending at the last scored token. The count M is a
// fixed function of (m, min_window), decided before looking at the data, so
// p_corrected = min(1, M * min_w p_w) is valid by the union bound.
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "detect/detector.h"

namespace telltale {

// values[k]: score of the k-th scored token (0/1 or gumbel score);
// positions[k]: its token position. Returns nullopt when values is empty.
std::optional<WindowMatch> SearchWindows(const SchemeSpec& spec, std::span<const double> values,
                                         std::span<const int64_t> positions, int32_t min_window);

// Where the mark is: the windows of the same fixed family whose corrected
// log10 p (log10 M + log10 p_w) is at most log10_threshold and which contain
// no smaller such window, with overlapping or touching ones (in scored-token
// order) merged into one span. Under
// the null, P(any span) <= 10^log10_threshold by the same union bound, so a
// caller that lowers the threshold by log10 K covers K keys as well.
// A span's begin/end/scored/score describe the union; log10_p and
// log10_p_corrected are those of its most significant member window (the
// union itself was chosen by the data, so its own tail would not be valid).
// Spans come in position order; empty when no window qualifies.
std::vector<WindowMatch> SignificantSpans(const SchemeSpec& spec, std::span<const double> values,
                                          std::span<const int64_t> positions, int32_t min_window,
                                          double log10_threshold);

// Both of the above from one pass over the window family (each window's tail
// is evaluated once): `best` as SearchWindows returns it, `spans` as
// SignificantSpans returns it when span_log10_threshold is set (else empty).
struct WindowAnalysis {
  std::optional<WindowMatch> best;
  std::vector<WindowMatch> spans;
};
WindowAnalysis AnalyzeWindows(const SchemeSpec& spec, std::span<const double> values,
                              std::span<const int64_t> positions, int32_t min_window,
                              std::optional<double> span_log10_threshold);

}  // namespace telltale
