#include "audit/tuple_scorer.h"

#include <gtest/gtest.h>

#include <random>

#include "detect/detector.h"
#include "watermark/context_hash.h"
#include "watermark/context_sketch.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

SchemeSpec Spec(const char* s) { return SchemeSpec::Parse(s).value(); }

// Fixed keys keep every assertion deterministic (control keys stay random).
SecretKey FixedKey(uint8_t seed) {
  std::vector<uint8_t> b(kSecretKeyBytes);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed * 31 + i);
  return SecretKey::FromBytes(b).value();
}

std::vector<int32_t> Generate(const SecretKey& key, const SchemeSpec& spec, uint64_t seed, int64_t length,
                              bool watermark) {
  auto lm = SimulatedLm::Create(2000, 1.0, 7).value();
  auto wm = Watermarker::Create(key, spec).value();
  SimulatedGenerationParams p;
  p.length = length;
  p.seed = seed;
  return GenerateSimulated(lm, watermark ? &wm : nullptr, p).value();
}

TupleScorer Make(const std::vector<const SecretKey*>& keys, const SchemeSpec& spec, int controls = 2) {
  TupleScorerOptions o;
  o.control_keys = controls;
  return TupleScorer::Create(keys, spec, std::move(o)).value();
}

TEST(TupleScorer, SequenceScoresMatchTheDetectorOnOneText) {
  auto key = FixedKey(1);
  for (const char* s : {"kgw:gamma=0.25,h=1", "kgw:h=3,seeding=self", "unigram", "gumbel:h=2"}) {
    const SchemeSpec spec = Spec(s);
    const auto toks = Generate(key, spec, 3, 300, true);
    auto t = Make({&key}, spec, 1);
    ASSERT_TRUE(t.AddSequence(toks, 4).ok());
    const AuditScores a = t.Scores();
    DetectOptions o;
    o.prompt_tokens = 4;
    const Detection d = Detector::Create(key, spec).value().Score(toks, o).value();
    ASSERT_EQ(a.keys.size(), 2u) << s;
    EXPECT_EQ(a.keys[0].scored, d.scored) << s;
    EXPECT_DOUBLE_EQ(a.keys[0].score, d.score) << s;
    EXPECT_DOUBLE_EQ(a.keys[0].log10_p, d.log10_p) << s;
    EXPECT_LT(a.keys[0].log10_p, -6) << s;
    EXPECT_TRUE(a.keys[1].control);
    EXPECT_GT(a.keys[1].log10_p, -6) << s;  // a fresh key sees no signal
    EXPECT_EQ(a.best, 0);
  }
}

TEST(TupleScorer, GlobalDedupScoresEachTupleOnce) {
  auto key = FixedKey(2);
  const SchemeSpec spec = Spec("kgw:h=1");
  const auto toks = Generate(key, spec, 5, 200, true);
  auto t = Make({&key}, spec);
  ASSERT_TRUE(t.AddSequence(toks, 0).ok());
  const int64_t once = t.Scores().counts.scored;
  ASSERT_TRUE(t.AddSequence(toks, 0).ok());
  const AuditScores a = t.Scores();
  EXPECT_EQ(a.counts.scored, once);
  EXPECT_GE(a.counts.duplicate, once);
}

// Under the null every control key's p-value is uniform: over many fresh
// texts the fraction below 0.05 stays within binomial bounds.
TEST(TupleScorer, NullPValuesAreCalibrated) {
  auto key = FixedKey(3);
  const SchemeSpec spec = Spec("kgw:gamma=0.25,h=1");
  int below = 0;
  const int runs = 400;
  for (int r = 0; r < runs; ++r) {
    const auto toks = Generate(key, spec, 100 + static_cast<uint64_t>(r), 60, false);
    auto t = Make({&key}, spec, 0);
    ASSERT_TRUE(t.AddSequence(toks, 0).ok());
    below += t.Scores().keys[0].log10_p <= std::log10(0.05);
  }
  // Discrete binomial p-values are conservative: E[below] <= 20, sd ~ 4.4.
  EXPECT_LE(below, 20 + 4 * 4.4);
}

// A "clean" suspect that copies the watermarked prompt verbatim: without
// exclusion it looks radioactive; excluding the prompt's tuples removes it.
TEST(TupleScorer, PromptExclusionStopsACopyingCleanModelFromLookingRadioactive) {
  auto key = FixedKey(4);
  const SchemeSpec spec = Spec("kgw:h=1");
  const auto prompt = Generate(key, spec, 9, 400, true);
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), prompt.begin(), prompt.end());  // the output repeats the prompt
  auto naive = Make({&key}, spec);
  ASSERT_TRUE(naive.AddSequence(seq, static_cast<int64_t>(prompt.size())).ok());
  EXPECT_LT(naive.Scores().keys[0].log10_p, -6);
  auto careful = Make({&key}, spec);
  ASSERT_TRUE(careful.Exclude(prompt).ok());
  ASSERT_TRUE(careful.AddSequence(seq, static_cast<int64_t>(prompt.size())).ok());
  const AuditScores a = careful.Scores();
  EXPECT_GT(a.counts.excluded, 300);
  EXPECT_GT(a.keys[0].log10_p, -3);
}

// Reading mode: a model that predicts the true next token of a watermarked
// text is radioactive-looking only through tuples it could not have copied;
// an induction-style copier of earlier tuples is excluded.
TEST(TupleScorer, ReadingModeScoresPredictionsWithInputContexts) {
  auto key = FixedKey(5);
  const SchemeSpec spec = Spec("kgw:h=1");
  const auto text = Generate(key, spec, 11, 500, true);
  // An oracle "student" predicting the actual next token: same tuples as the text.
  std::vector<int32_t> pred(text.size());
  for (size_t j = 0; j + 1 < text.size(); ++j) pred[j] = text[j + 1];
  pred.back() = 0;
  auto t = Make({&key}, spec);
  ASSERT_TRUE(t.AddPredictions(text, pred).ok());
  EXPECT_LT(t.Scores().keys[0].log10_p, -6);
  // A copier: at each position predicts the token that followed the same
  // context earlier in the input (or token 0). Those tuples are excluded.
  std::vector<int32_t> copy(text.size(), 0);
  for (size_t j = 1; j < text.size(); ++j) {
    for (size_t k = 1; k <= j; ++k) {
      if (text[k - 1] == text[j]) copy[j] = text[k];
    }
  }
  auto c = Make({&key}, spec);
  ASSERT_TRUE(c.AddPredictions(text, copy).ok());
  const AuditScores a = c.Scores();
  EXPECT_GT(a.counts.excluded, 0);
  EXPECT_GT(a.keys[0].log10_p, -3);
}

TEST(TupleScorer, LogitsTopOneIsNative) {
  auto key = FixedKey(6);
  const SchemeSpec spec = Spec("kgw:h=1");
  const std::vector<int32_t> in = {3, 4, 5};
  const int64_t v = 8, stride = 10;
  std::vector<float> logits(static_cast<size_t>(3 * stride), 0.f);
  logits[0 * stride + 6] = 1.f;                                      // row 0 -> 6
  logits[1 * stride + 2] = std::numeric_limits<float>::quiet_NaN();  // NaN never wins
  logits[1 * stride + 7] = 0.5f;                                     // row 1 -> 7
  logits[2 * stride + 9] = 5.f;                                      // past vocab: ignored; row 2 ties -> 0
  auto a = Make({&key}, spec, 0);
  ASSERT_TRUE(a.AddLogits(in, logits.data(), 3, v, stride).ok());
  auto b = Make({&key}, spec, 0);
  const std::vector<int32_t> pred = {6, 7, 0};
  ASSERT_TRUE(b.AddPredictions(in, pred).ok());
  EXPECT_EQ(a.Scores().keys[0].score, b.Scores().keys[0].score);
  EXPECT_EQ(a.Scores().counts.scored, 3);
  EXPECT_FALSE(a.AddLogits(in, logits.data(), 2, v, stride).ok());
  EXPECT_FALSE(a.AddLogits(in, logits.data(), 3, v, 4).ok());
  EXPECT_FALSE(a.AddPredictions(in, std::vector<int32_t>{1, 2}).ok());
  EXPECT_FALSE(a.AddPredictions(in, std::vector<int32_t>{1, 2, -1}).ok());
}

TEST(TupleScorer, SketchFilterKeepsOnlyRecordedContexts) {
  auto key = FixedKey(7);
  const SchemeSpec spec = Spec("kgw:h=2");
  const auto ours = Generate(key, spec, 21, 300, true);
  const auto theirs = Generate(key, spec, 22, 3000, false);
  auto sketch = ContextSketch::Create(key, spec, {}).value();
  ASSERT_TRUE(sketch.Record(ours, 4).ok());
  TupleScorerOptions o;
  o.context_filter = [&](uint64_t c) { return sketch.MayContain(c); };
  auto t = TupleScorer::Create(std::vector<const SecretKey*>{&key}, spec, std::move(o)).value();
  ASSERT_TRUE(t.AddSequence(theirs, 0).ok());
  ASSERT_TRUE(t.AddSequence(ours, 4).ok());
  const AuditScores a = t.Scores();
  EXPECT_GT(a.counts.filtered, 2000);
  // The scored tuples come (almost) only from our text, so the signal is undiluted.
  EXPECT_LT(a.counts.scored, 400);
  EXPECT_LT(a.keys[0].log10_p, -10);
}

TEST(TupleScorer, MultiKeyAttributionPicksTheRightKeyWithHolm) {
  auto k1 = FixedKey(8);
  auto k2 = FixedKey(9);
  auto k3 = FixedKey(10);
  const SchemeSpec spec = Spec("kgw:h=1");
  const auto toks = Generate(k2, spec, 31, 300, true);
  auto t = Make({&k1, &k2, &k3}, spec, 1);
  ASSERT_TRUE(t.AddSequence(toks, 4).ok());
  const AuditScores a = t.Scores();
  ASSERT_EQ(a.keys.size(), 4u);
  EXPECT_EQ(a.best, 1);
  EXPECT_NEAR(a.keys[1].holm_log10_p, a.keys[1].log10_p + std::log10(3.0), 1e-9);
  EXPECT_FALSE(a.keys[0].control);
  EXPECT_TRUE(a.keys[3].control);
}

TEST(TupleScorer, EarlyStoppingPaysForItsLooks) {
  auto key = FixedKey(11);
  const SchemeSpec spec = Spec("kgw:h=1");
  auto t = Make({&key}, spec, 0);
  bool stopped = false;
  int texts = 0;
  for (uint64_t s = 0; s < 50 && !stopped; ++s, ++texts) {
    ASSERT_TRUE(t.AddSequence(Generate(key, spec, 40 + s, 200, true), 4).ok());
    stopped = t.Look(-6);
  }
  EXPECT_TRUE(stopped);
  EXPECT_LT(texts, 50);
  const AuditScores a = t.Scores();
  EXPECT_GE(a.looks, 1);
  EXPECT_NEAR(a.sequential_log10_p, a.keys[0].holm_log10_p + std::log10(a.looks * (a.looks + 1.0)), 1e-9);
  EXPECT_LE(a.sequential_log10_p, -6);
}

TEST(TupleScorer, RejectsBadInput) {
  auto key = FixedKey(12);
  const SchemeSpec spec = Spec("kgw");
  EXPECT_FALSE(TupleScorer::Create(std::vector<const SecretKey*>{}, spec, {}).ok());
  TupleScorerOptions o;
  o.control_keys = -1;
  EXPECT_FALSE(TupleScorer::Create(std::vector<const SecretKey*>{&key}, spec, o).ok());
  auto t = Make({&key}, spec);
  EXPECT_FALSE(t.AddSequence(std::vector<int32_t>{1, -1}, 0).ok());
  EXPECT_FALSE(t.AddSequence(std::vector<int32_t>{1, 2}, -1).ok());
  EXPECT_FALSE(t.Exclude(std::vector<int32_t>{-5}).ok());
  // Nothing scored: p = 1, no best key.
  const AuditScores a = t.Scores();
  EXPECT_EQ(a.best, -1);
  EXPECT_EQ(a.keys[0].log10_p, 0);
}

}  // namespace
}  // namespace telltale
