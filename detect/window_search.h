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

#include "detect/detector.h"

namespace telltale {

// values[k]: score of the k-th scored token (0/1 or gumbel score);
// positions[k]: its token position. Returns nullopt when values is empty.
std::optional<WindowMatch> SearchWindows(const SchemeSpec& spec, std::span<const double> values,
                                         std::span<const int64_t> positions, int32_t min_window);

}  // namespace telltale
