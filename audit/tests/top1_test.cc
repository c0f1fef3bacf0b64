#include "audit/top1.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace telltale {
namespace {

// The scalar rule written out plainly: first index of the largest non-NaN
// value, 0 when there is none.
int64_t Reference(const std::vector<float>& row) {
  int64_t best = -1;
  for (size_t v = 0; v < row.size(); ++v) {
    if (std::isnan(row[v])) continue;
    if (best < 0 || row[v] > row[static_cast<size_t>(best)]) best = static_cast<int64_t>(v);
  }
  return best < 0 ? 0 : best;
}

TEST(Top1Index, MatchesTheScalarRuleOnTiesNaNAndTails) {
  std::mt19937 rng(11);
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  const float kInf = std::numeric_limits<float>::infinity();
  for (int trial = 0; trial < 4000; ++trial) {
    const size_t n = static_cast<size_t>(trial % 41);  // every tail length past the 8-wide blocks
    std::vector<float> row(n);
    // Few distinct values so ties are common; NaN, +-inf and -0/+0 mixed in.
    const float pool[] = {-1.f, 0.f, -0.f, 2.f, 2.f, kNaN, -kInf, kInf, 3.5f};
    for (float& x : row) x = pool[rng() % (trial % 3 == 0 ? 9 : 7)];
    ASSERT_EQ(Top1Index(row.data(), static_cast<int64_t>(n)), Reference(row)) << "trial " << trial;
  }
}

TEST(Top1Index, EdgeRows) {
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  const float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> all_nan(19, kNaN);
  EXPECT_EQ(Top1Index(all_nan.data(), 19), 0);
  std::vector<float> all_neg_inf(19, -kInf);
  EXPECT_EQ(Top1Index(all_neg_inf.data(), 19), 0);
  all_nan[17] = -kInf;
  EXPECT_EQ(Top1Index(all_nan.data(), 19), 17);
  std::vector<float> late(4096, 0.f);
  late[4095] = 1e-30f;
  EXPECT_EQ(Top1Index(late.data(), 4096), 4095);
}

}  // namespace
}  // namespace telltale
