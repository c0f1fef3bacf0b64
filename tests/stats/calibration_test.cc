// Null calibration, per scheme: p-values of text produced independently of
// the key (and of text watermarked under a different key) must be valid.
//
// kgw/unigram p-values are discrete (exact binomial tails), hence
// super-uniform rather than uniform. We test them two ways:
//  1. the randomized probability integral transform u = P(X > k) + V P(X = k)
//     (V ~ U(0,1) from the test's own seeded stream) is exactly U(0,1) iff the
//     green counts follow Bin(n, gamma): a KS test at 0.001, and the rate of
//     u <= 0.01 inside its two-sided 0.999 binomial interval;
//  2. the reported p-value itself: the rate of p <= 0.01 must not exceed the
//     upper end of that interval (valid = conservative).
// gumbel p-values are continuous up to a 2^-32 rounding, so u = p.
//
// What the null guarantees: for a key drawn independently of the text,
// P(p <= a) <= a for every document. Documents scored under ONE key that
// share n-grams share PRF values, so their p-values are individually valid
// but not independent of each other, and a KS test across them would test
// the key, not the p-value. Hence three designs per scheme:
//  - kFreshKeys: realistic, repetitive simulated-LM text; a fresh key per
//    document, so the 10,000 p-values are i.i.d. draws of the null.
//  - kFixedKeyUniform: one fixed key over uniformly random token sequences
//    (V = 50257), where documents almost never share n-grams.
//  - kWrongKey: text watermarked under key A, scored under key B, with a
//    fresh (A, B) pair per document.
// Combining many documents under one key is the job of the corpus-wide test
// with global dedup (telltale scan), not of per-document p-values.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>

#include "detect/detector.h"
#include "stats_util.h"
#include "tests/unit/test_util.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

constexpr int kSequences = 10000;
constexpr int64_t kLengths[] = {25, 50, 100, 200};

enum class Design { kFreshKeys, kFixedKeyUniform, kWrongKey };

struct CalibrationCase {
  const char* spec;
  Design design;
};

const char* DesignName(Design d) {
  switch (d) {
    case Design::kFreshKeys: return "fresh key per document";
    case Design::kFixedKeyUniform: return "fixed key, uniform tokens";
    case Design::kWrongKey: return "watermarked, scored under a wrong key";
  }
  return "?";
}

SecretKey KeyForDocument(uint64_t salt, int doc) {
  std::array<uint8_t, kSecretKeyBytes> b{};
  uint64_t state = salt * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(doc);
  for (size_t i = 0; i < b.size(); i += 8) {
    const uint64_t v = SplitMix64(state);
    for (size_t k = 0; k < 8; ++k) b[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return SecretKey::FromBytes(b).value();
}

class Calibration : public ::testing::TestWithParam<CalibrationCase> {};

TEST_P(Calibration, PValuesAreValidUnderTheNull) {
  const CalibrationCase c = GetParam();
  const SchemeSpec spec = SchemeSpec::Parse(c.spec).value();
  const int32_t vocab = c.design == Design::kWrongKey ? 1000 : 4000;
  const SimulatedLm lm = SimulatedLm::Create(vocab, SimulatedLm::ExponentForEntropy(vocab, 4.0), 11).value();
  const Detector fixed_detector = Detector::Create(testing::FixedKey(200), spec).value();
  DetectOptions opt;
  opt.per_token = false;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<double> u;
  int64_t reported_small = 0, pit_small = 0, scored_total = 0;
  for (int i = 0; i < kSequences; ++i) {
    SimulatedGenerationParams gp;
    gp.length = kLengths[i % 4];
    gp.seed = 1000 + static_cast<uint64_t>(i);
    std::vector<int32_t> tokens;
    Detection d;
    if (c.design == Design::kFixedKeyUniform) {
      uint64_t state = gp.seed;
      for (int64_t t = 0; t < gp.length; ++t) tokens.push_back(static_cast<int32_t>(SplitMix64(state) % 50257));
      d = fixed_detector.Score(tokens, opt).value();
    } else {
      std::optional<Watermarker> generator;
      if (c.design == Design::kWrongKey) generator.emplace(Watermarker::Create(KeyForDocument(1, i), spec).value());
      tokens = GenerateSimulated(lm, generator ? &*generator : nullptr, gp).value();
      d = Detector::Create(KeyForDocument(2, i), spec)->Score(tokens, opt).value();
    }
    scored_total += d.scored;
    double ui;
    if (spec.family == SchemeFamily::kGumbel) {
      ui = d.p_value;
    } else {
      const auto k = static_cast<int64_t>(d.score);
      const double above = std::exp(LogBinomialUpperTail(k + 1, d.scored, spec.gamma()));
      const double at = std::exp(LogBinomialUpperTail(k, d.scored, spec.gamma())) - above;
      ui = above + unif(rng) * at;
    }
    u.push_back(ui);
    reported_small += d.p_value <= 0.01;
    pit_small += ui <= 0.01;
  }
  // gumbel with h=1 cycles on low-entropy text, so dedup leaves fewer tokens.
  ASSERT_GT(scored_total, kSequences * 20) << "too few scored tokens to test anything";
  const double ks = testing::KsUniformPValue(u);
  EXPECT_GT(ks, 0.001) << c.spec << " (" << DesignName(c.design) << ")";
  const auto [lo, hi] = testing::BinomialInterval(kSequences, 0.01, 0.001);
  EXPECT_GE(pit_small, lo) << c.spec;
  EXPECT_LE(pit_small, hi) << c.spec;
  EXPECT_LE(reported_small, hi) << c.spec << ": reported p-values reject too often";
  std::printf("%s (%s): KS p=%.3f, rate(u<=0.01)=%lld, rate(p<=0.01)=%lld of %d, interval [%lld, %lld]\n", c.spec,
              DesignName(c.design), ks, static_cast<long long>(pit_small),
              static_cast<long long>(reported_small), kSequences, static_cast<long long>(lo), static_cast<long long>(hi));
}

const char* kCalibratedSchemes[] = {"kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.5,delta=2,h=4",
                                    "kgw:gamma=0.3,delta=2,h=2", "kgw:gamma=0.25,delta=2,h=4,seeding=self",
                                    "unigram:gamma=0.5,delta=2", "gumbel:h=1", "gumbel:h=4"};

std::vector<CalibrationCase> AllCases() {
  std::vector<CalibrationCase> out;
  for (const char* s : kCalibratedSchemes) {
    for (Design d : {Design::kFreshKeys, Design::kFixedKeyUniform, Design::kWrongKey}) out.push_back({s, d});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Schemes, Calibration, ::testing::ValuesIn(AllCases()));

// Without dedup, repeated (context, token) tuples are counted again with the
// same PRF value, so the null is broken: this is why dedup is on by default.
TEST(Calibration, WithoutDedupRepetitiveTextIsMiscalibrated) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,h=1").value();
  // Low entropy means many repeated bigrams.
  const SimulatedLm lm = SimulatedLm::Create(1000, SimulatedLm::ExponentForEntropy(1000, 1.0), 5).value();
  DetectOptions none;
  none.per_token = false;
  none.dedup = DedupMode::kNone;
  DetectOptions dedup = none;
  dedup.dedup = DedupMode::kContextToken;
  int64_t small_none = 0, small_dedup = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    SimulatedGenerationParams gp;
    gp.length = 200;
    gp.seed = static_cast<uint64_t>(i);
    const auto tokens = GenerateSimulated(lm, nullptr, gp).value();
    const Detector detector = Detector::Create(KeyForDocument(3, i), spec).value();
    small_none += detector.Score(tokens, none)->p_value <= 0.01;
    small_dedup += detector.Score(tokens, dedup)->p_value <= 0.01;
  }
  const auto [lo, hi] = testing::BinomialInterval(n, 0.01, 0.001);
  EXPECT_GT(small_none, hi) << "expected dedup=none to over-reject on repetitive text";
  EXPECT_LE(small_dedup, hi);
  std::printf("dedup none: %lld/%d p<=0.01; context+token: %lld/%d (bound %lld)\n", static_cast<long long>(small_none), n,
              static_cast<long long>(small_dedup), n, static_cast<long long>(hi));
}

}  // namespace
}  // namespace telltale
