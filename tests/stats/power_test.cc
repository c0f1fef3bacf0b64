// Power on simulated LM distributions: kgw with gamma = 0.25, delta = 2 must
// reach p <= 1e-6 on at least 95% of 200-token sequences when the model has
// about 3 bits of entropy per token (issue "Core engine", Must show).
#include <gtest/gtest.h>

#include "detect/detector.h"
#include "tests/unit/test_util.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

struct PowerCase {
  const char* spec;
  double min_rate;
};

class Power : public ::testing::TestWithParam<PowerCase> {};

TEST_P(Power, DetectsMostWatermarked200TokenSequences) {
  const PowerCase c = GetParam();
  const SchemeSpec spec = SchemeSpec::Parse(c.spec).value();
  const int32_t vocab = 32000;
  const SimulatedLm lm = SimulatedLm::Create(vocab, SimulatedLm::ExponentForEntropy(vocab, 3.0), 21).value();
  ASSERT_NEAR(lm.entropy_bits(), 3.0, 0.01);
  const Watermarker wm = Watermarker::Create(testing::FixedKey(50), spec).value();
  const Detector det = Detector::Create(testing::FixedKey(50), spec).value();
  DetectOptions opt;
  opt.per_token = false;
  const int n = 200;
  int detected = 0;
  for (int i = 0; i < n; ++i) {
    SimulatedGenerationParams gp;
    gp.length = 200;
    gp.seed = 77 + static_cast<uint64_t>(i);
    const auto tokens = GenerateSimulated(lm, &wm, gp).value();
    detected += det.Score(tokens, opt)->log10_p <= -6;
  }
  std::printf("%s: %d/%d detected at p <= 1e-6\n", c.spec, detected, n);
  EXPECT_GE(detected, static_cast<int>(c.min_rate * n));
}

INSTANTIATE_TEST_SUITE_P(Schemes, Power,
                         ::testing::Values(PowerCase{"kgw:gamma=0.25,delta=2,h=1", 0.95},
                                           PowerCase{"gumbel:h=1", 0.95}));

}  // namespace
}  // namespace telltale
