// Exact tail probabilities of Telltale's null distributions, in log space.
//
// Under the null (text independent of the key), each deduplicated scored
// token is an independent draw: green with probability gamma (kgw, unigram),
// or a score -log(1 - r) with r uniform (gumbel), whose sum over n tokens is
// Gamma(n, 1). These functions return natural logs so p-values far below
// 1e-300 (e.g. log p = -1.4e6 for 10^6 green tokens) stay exact; callers
// convert with kLog10E for reporting.
//
// Accuracy: relative error of p about 1e-13 or better across the whole range
// (the terms are summed from the largest downward with a ratio recurrence,
// so nothing cancels). All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace telltale {

inline constexpr double kLog10E = 0.43429448190325182765;

// log P(X >= k), X ~ Binomial(n, p), 0 < p < 1. k <= 0 gives 0; k > n gives -inf.
double LogBinomialUpperTail(int64_t k, int64_t n, double p);

// log P(G >= s), G ~ Gamma(shape n, scale 1), n >= 0 an integer (the sum of n
// independent Exp(1) scores). n == 0 or s <= 0 gives 0.
double LogGammaUpperTail(double s, int64_t n);

// Holm's step-down adjustment of K natural-log p-values (family-wise error
// control over the K keys tried). Returns adjusted log p-values in input order.
std::vector<double> HolmAdjustLog(std::span<const double> log_p);
// The same into adjusted[0, log_p.size()), allocating nothing for up to 16
// keys (a scan adjusts every document's few keys). `adjusted` may be
// log_p's own storage: each value is read before it is overwritten.
void HolmAdjustLogInto(std::span<const double> log_p, double* adjusted);

}  // namespace telltale
