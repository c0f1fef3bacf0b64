// SignificantSpans: where in a document the mark is. The spans must find
// separated watermarked regions, agree with SearchWindows' best window, and
// keep the family-wise error of the window family under the null.
#include "detect/window_search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "watermark/scheme_spec.h"

namespace telltale {
namespace {

SchemeSpec Kgw() { return SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value(); }

// Bernoulli scores: probability `green` inside [lo, hi), gamma elsewhere.
std::vector<double> Bernoulli(std::mt19937_64& rng, int64_t m, double gamma,
                              std::vector<std::pair<int64_t, int64_t>> marked, double green) {
  std::vector<double> v(static_cast<size_t>(m));
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t k = 0; k < m; ++k) {
    double p = gamma;
    for (auto [lo, hi] : marked) {
      if (k >= lo && k < hi) p = green;
    }
    v[static_cast<size_t>(k)] = u(rng) < p ? 1.0 : 0.0;
  }
  return v;
}

std::vector<int64_t> Positions(int64_t m, int64_t offset) {
  std::vector<int64_t> p(static_cast<size_t>(m));
  for (int64_t k = 0; k < m; ++k) p[static_cast<size_t>(k)] = offset + 2 * k;  // gaps: unscored tokens
  return p;
}

TEST(SignificantSpans, FindsTwoSeparatedRegions) {
  std::mt19937_64 rng(7);
  const int64_t m = 1200;
  const auto v = Bernoulli(rng, m, 0.25, {{100, 300}, {800, 1000}}, 0.9);
  const auto pos = Positions(m, 5);
  const auto spans = SignificantSpans(Kgw(), v, pos, 32, -6);
  ASSERT_EQ(spans.size(), 2u);
  // Each span overlaps its region and stays away from the other one.
  EXPECT_LT(spans[0].begin, pos[300]);
  EXPECT_GT(spans[0].end, pos[100]);
  EXPECT_LT(spans[0].end, pos[800]);
  EXPECT_GT(spans[1].begin, pos[300]);
  EXPECT_LT(spans[1].begin, pos[1000]);
  EXPECT_GT(spans[1].end, pos[800]);
  for (const WindowMatch& s : spans) {
    EXPECT_LE(s.log10_p_corrected, -6);
    EXPECT_NEAR(s.log10_p_corrected, s.log10_p + std::log10(static_cast<double>(s.windows_tested)), 1e-9);
    EXPECT_GT(s.scored, 0);
    EXPECT_LE(s.score, static_cast<double>(s.scored));
  }
}

TEST(SignificantSpans, ContainsTheBestWindowAndRespectsTheThreshold) {
  std::mt19937_64 rng(11);
  const int64_t m = 700;
  const auto v = Bernoulli(rng, m, 0.25, {{200, 330}}, 0.85);
  const auto pos = Positions(m, 0);
  const WindowMatch best = *SearchWindows(Kgw(), v, pos, 32);
  const auto spans = SignificantSpans(Kgw(), v, pos, 32, best.log10_p_corrected);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_LE(spans[0].begin, best.begin);
  EXPECT_GE(spans[0].end, best.end);
  EXPECT_DOUBLE_EQ(spans[0].log10_p_corrected, best.log10_p_corrected);
  EXPECT_EQ(spans[0].windows_tested, best.windows_tested);
  // Just below the best window's corrected p, nothing qualifies.
  EXPECT_TRUE(SignificantSpans(Kgw(), v, pos, 32, best.log10_p_corrected - 1e-6).empty());
  EXPECT_TRUE(SignificantSpans(Kgw(), {}, {}, 32, 0).empty());
}

// A strong short burst inside a weakly marked document: the burst is the
// span, not the whole document (which is significant too, but contains it).
TEST(SignificantSpans, PrefersTheSmallestSignificantWindows) {
  std::mt19937_64 rng(5);
  const int64_t m = 1024;
  const auto v = Bernoulli(rng, m, 0.25, {{512, 600}}, 1.0);
  const auto pos = Positions(m, 0);
  const auto spans = SignificantSpans(Kgw(), v, pos, 32, -4);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_GE(spans[0].begin, pos[512 - 32]);
  EXPECT_LE(spans[0].end, pos[600 + 32]);
}

// Under the null (green ~ Bernoulli(gamma) everywhere), P(any span) must not
// exceed alpha: the Bonferroni factor is what keeps it there (without it the
// minimum over ~90 windows would fire in roughly half the documents).
TEST(SignificantSpans, FamilyWiseErrorUnderTheNull) {
  std::mt19937_64 rng(2026);
  const double alpha = 0.05;
  const int trials = 2000;
  int fired = 0;
  for (int t = 0; t < trials; ++t) {
    const int64_t m = 300 + (t % 5) * 50;
    const auto v = Bernoulli(rng, m, 0.25, {}, 0);
    if (!SignificantSpans(Kgw(), v, Positions(m, 0), 16, std::log10(alpha)).empty()) ++fired;
  }
  // Binomial(2000, 0.05): mean 100, sd 9.7; four sd above the mean.
  EXPECT_LE(fired, 139) << fired << " of " << trials << " null documents had a span at alpha " << alpha;
}

TEST(SignificantSpans, GumbelScores) {
  const SchemeSpec gumbel = SchemeSpec::Parse("gumbel:h=1").value();
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> null_score(1.0);
  const int64_t m = 600;
  std::vector<double> v(static_cast<size_t>(m));
  for (int64_t k = 0; k < m; ++k) v[static_cast<size_t>(k)] = null_score(rng) + (k >= 250 && k < 400 ? 2.0 : 0.0);
  const auto spans = SignificantSpans(gumbel, v, Positions(m, 0), 32, -6);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_LT(spans[0].begin, 2 * 400);
  EXPECT_GT(spans[0].end, 2 * 250);
}

}  // namespace
}  // namespace telltale
