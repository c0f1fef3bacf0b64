#include "detect/null_distribution.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace telltale {
namespace {

// Direct summation in long double: fine for small n, the independent check.
long double BruteBinomialTail(int n, int k, long double p) {
  long double sum = 0;
  for (int j = k; j <= n; ++j) {
    long double c = std::lgamma(static_cast<long double>(n) + 1) - std::lgamma(static_cast<long double>(j) + 1) -
                    std::lgamma(static_cast<long double>(n - j) + 1);
    sum += std::exp(c + j * std::log(p) + (n - j) * std::log1p(-p));
  }
  return sum;
}

long double BruteGammaTail(int n, long double s) {
  long double sum = 0, term = 1;
  for (int j = 0; j < n; ++j) {
    if (j > 0) term *= s / j;
    sum += term;
  }
  return std::exp(-s) * sum;
}

TEST(Binomial, MatchesDirectSummationForSmallN) {
  for (double p : {0.5, 0.25, 0.3000030517578125, 0.125, 0.9}) {
    for (int n : {1, 2, 5, 17, 60, 200}) {
      for (int k = 0; k <= n; ++k) {
        const long double want = BruteBinomialTail(n, k, p);
        const double got = std::exp(LogBinomialUpperTail(k, n, p));
        EXPECT_NEAR(got, static_cast<double>(want), 1e-12 * static_cast<double>(want) + 1e-300)
            << "n=" << n << " k=" << k << " p=" << p;
      }
    }
  }
}

TEST(Binomial, KnownValue) {
  // P(Bin(100, 1/2) >= 60) = 0.028443966820490...
  EXPECT_NEAR(std::exp(LogBinomialUpperTail(60, 100, 0.5)), 0.02844396682049039, 1e-15);
}

TEST(Binomial, StaysExactFarBelowDoubleRange) {
  // All of 10^6 tokens green at gamma 1/4: p = 4^-10^6, log10 p = -602059.99...
  const double lp = LogBinomialUpperTail(1000000, 1000000, 0.25) * kLog10E;
  EXPECT_NEAR(lp, -1000000 * std::log10(4.0), 1e-6);
  // Just below the maximum: p = C(n, n-1) q p^(n-1) + p^n.
  const double n = 1000, p = 0.25;
  const double want = std::log(n * 0.75 / p + 1) + n * std::log(p);
  EXPECT_NEAR(LogBinomialUpperTail(999, 1000, 0.25), want, 1e-9 * std::fabs(want));
  EXPECT_TRUE(std::isfinite(LogBinomialUpperTail(300000, 400000, 0.25)));
  EXPECT_LT(LogBinomialUpperTail(300000, 400000, 0.25) * kLog10E, -10000);
}

TEST(Binomial, Edges) {
  EXPECT_EQ(LogBinomialUpperTail(0, 10, 0.25), 0.0);
  EXPECT_EQ(LogBinomialUpperTail(-3, 10, 0.25), 0.0);
  EXPECT_EQ(LogBinomialUpperTail(11, 10, 0.25), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(LogBinomialUpperTail(0, 0, 0.25), 0.0);
  // Monotone in k.
  double prev = 0;
  for (int k = 0; k <= 5000; k += 50) {
    const double v = LogBinomialUpperTail(k, 5000, 0.25);
    EXPECT_LE(v, prev + 1e-15);
    prev = v;
  }
}

TEST(Gamma, MatchesClosedFormsAndDirectSums) {
  for (double s : {0.1, 1.0, 3.5, 20.0, 150.0}) {
    EXPECT_NEAR(LogGammaUpperTail(s, 1), -s, 1e-12);
    EXPECT_NEAR(LogGammaUpperTail(s, 2), -s + std::log1p(s), 1e-12);
  }
  for (int n : {1, 3, 10, 50, 200}) {
    for (double s : {0.5, 5.0, 40.0, 120.0, 300.0}) {
      const long double want = BruteGammaTail(n, s);
      EXPECT_NEAR(std::exp(LogGammaUpperTail(s, n)), static_cast<double>(want), 1e-12 * static_cast<double>(want) + 1e-300)
          << "n=" << n << " s=" << s;
    }
  }
}

TEST(Gamma, FarTail) {
  // Dominated by the j = n-1 term: log Q ~ -s + (n-1) log s - log (n-1)! + log(1 + (n-1)/s + ...).
  const double s = 1e6, n = 10;
  double series = 0, t = 1;
  for (int j = 9; j >= 0; --j) {
    series += t;
    t *= j / s;
  }
  const double want = -s + (n - 1) * std::log(s) - std::lgamma(n) + std::log(series);
  EXPECT_NEAR(LogGammaUpperTail(s, 10), want, 1e-9 * std::fabs(want));
  EXPECT_EQ(LogGammaUpperTail(0.0, 5), 0.0);
  EXPECT_EQ(LogGammaUpperTail(3.0, 0), 0.0);
}

TEST(Holm, StepDownAdjustment) {
  std::vector<double> lp = {std::log(0.01), std::log(0.04), std::log(0.03)};
  auto adj = HolmAdjustLog(lp);
  EXPECT_NEAR(std::exp(adj[0]), 0.03, 1e-12);
  EXPECT_NEAR(std::exp(adj[1]), 0.06, 1e-12);
  EXPECT_NEAR(std::exp(adj[2]), 0.06, 1e-12);
  auto capped = HolmAdjustLog(std::vector<double>{std::log(0.6), std::log(0.9)});
  EXPECT_EQ(capped[0], 0.0);
  EXPECT_EQ(capped[1], 0.0);
}

// The allocation-free form, in place and out of place, on both sides of its
// 16-key stack buffer and with ties (which must keep input order).
TEST(Holm, IntoMatchesTheVectorFormInPlaceAndForManyKeys) {
  for (size_t k : {size_t{1}, size_t{2}, size_t{16}, size_t{17}, size_t{100}}) {
    std::vector<double> lp(k);
    for (size_t j = 0; j < k; ++j) lp[j] = -static_cast<double>((j * 7919) % 13) * 0.7 - 0.01;
    const std::vector<double> want = HolmAdjustLog(lp);
    std::vector<double> out(k, 99.0);
    HolmAdjustLogInto(lp, out.data());
    EXPECT_EQ(out, want) << k;
    std::vector<double> in_place = lp;
    HolmAdjustLogInto(in_place, in_place.data());
    EXPECT_EQ(in_place, want) << k;
  }
}

}  // namespace
}  // namespace telltale
