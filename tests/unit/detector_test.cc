#include "detect/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "detect/attribution.h"
#include "detect/null_distribution.h"
#include "test_util.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

using testing::FixedKey;

Detector MakeDetector(uint8_t key_seed, const char* spec) {
  return Detector::Create(FixedKey(key_seed), SchemeSpec::Parse(spec).value()).value();
}

TEST(Detector, DedupModesCountTheRightPositions) {
  const Detector d = MakeDetector(1, "kgw:gamma=0.25,h=1");
  const std::vector<int32_t> doc = {1, 2, 1, 2, 1, 2};
  DetectOptions opt;
  EXPECT_EQ(d.Score(doc, opt)->scored, 2);
  opt.dedup = DedupMode::kContext;
  EXPECT_EQ(d.Score(doc, opt)->scored, 2);
  opt.dedup = DedupMode::kNone;
  EXPECT_EQ(d.Score(doc, opt)->scored, 5);
  const std::vector<int32_t> doc2 = {1, 2, 1, 3};  // context 1 twice with different tokens
  opt.dedup = DedupMode::kContext;
  EXPECT_EQ(d.Score(doc2, opt)->scored, 2);
  opt.dedup = DedupMode::kContextToken;
  EXPECT_EQ(d.Score(doc2, opt)->scored, 3);
}

TEST(Detector, MaskExplainsEveryToken) {
  const Detector d = MakeDetector(1, "kgw:gamma=0.25,h=1");
  const std::vector<int32_t> doc = {7, 8, 9, 50000, 8, 9, 10, 11};
  DetectOptions opt;
  opt.prompt_tokens = 2;
  opt.ignore_ids = {50000};
  const Detection r = d.Score(doc, opt).value();
  ASSERT_EQ(r.token_mask.size(), doc.size());
  EXPECT_EQ(r.token_mask[0], kMarkNoContext);
  EXPECT_EQ(r.token_mask[1], kMarkNoContext);  // prompt
  EXPECT_EQ(r.token_mask[3], kMarkIgnored);
  EXPECT_EQ(r.token_mask[5], kMarkDuplicate);  // (8 -> 9) again
  int scored = 0;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (r.token_mask[i] == kMarkGreen || r.token_mask[i] == kMarkRed) {
      ++scored;
      EXPECT_EQ(r.token_scores[i], r.token_mask[i] == kMarkGreen ? 1.0f : 0.0f);
    } else {
      EXPECT_TRUE(std::isnan(r.token_scores[i]));
    }
  }
  EXPECT_EQ(scored, r.scored);
  EXPECT_EQ(r.scored, 4);  // positions 2, 4, 6, 7
}

TEST(Detector, EmptyAndTooShortDocumentsHavePValueOne) {
  const Detector d = MakeDetector(1, "kgw:h=4");
  for (const std::vector<int32_t>& doc : {std::vector<int32_t>{}, std::vector<int32_t>{1, 2, 3}}) {
    const Detection r = d.Score(doc, {}).value();
    EXPECT_EQ(r.scored, 0);
    EXPECT_EQ(r.p_value, 1.0);
    EXPECT_EQ(r.log10_p, 0.0);
    EXPECT_EQ(r.z, 0.0);
  }
}

TEST(Detector, RejectsBadInput) {
  const Detector d = MakeDetector(1, "unigram");
  EXPECT_EQ(d.Score(std::vector<int32_t>{1, -2}, {}).status().code(), StatusCode::kInvalidArgument);
  DetectOptions opt;
  opt.dedup = DedupMode::kContext;
  EXPECT_FALSE(d.Score(std::vector<int32_t>{1, 2}, opt).ok());
  opt = {};
  opt.min_window = 0;
  EXPECT_FALSE(d.Score(std::vector<int32_t>{1, 2}, opt).ok());
}

std::vector<int32_t> Generate(const SimulatedLm& lm, const Watermarker* wm, int64_t length, uint64_t seed) {
  SimulatedGenerationParams p;
  p.length = length;
  p.seed = seed;
  return GenerateSimulated(lm, wm, p).value();
}

TEST(Detector, WindowSearchFindsAPastedWatermarkedSpan) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2").value();
  const SimulatedLm lm = SimulatedLm::Create(5000, SimulatedLm::ExponentForEntropy(5000, 4.0), 3).value();
  const Watermarker wm = Watermarker::Create(FixedKey(4), spec).value();
  std::vector<int32_t> doc = Generate(lm, nullptr, 600, 1);
  const std::vector<int32_t> marked = Generate(lm, &wm, 160, 2);
  const int64_t begin = static_cast<int64_t>(doc.size());
  doc.insert(doc.end(), marked.begin(), marked.end());
  const int64_t end = static_cast<int64_t>(doc.size());
  const std::vector<int32_t> tail = Generate(lm, nullptr, 600, 3);
  doc.insert(doc.end(), tail.begin(), tail.end());

  const Detector d = Detector::Create(FixedKey(4), spec).value();
  DetectOptions opt;
  opt.window_search = true;
  const Detection r = d.Score(doc, opt).value();
  ASSERT_TRUE(r.window.has_value());
  EXPECT_LT(r.window->log10_p_corrected, -6) << "full-document log10 p " << r.log10_p;
  EXPECT_GT(r.window->windows_tested, 10);
  EXPECT_LT(r.window->begin, end);
  EXPECT_GT(r.window->end, begin);
  EXPECT_NEAR(r.window->log10_p_corrected, r.window->log10_p + std::log10(r.window->windows_tested), 1e-9);
}

void ExpectSameDetection(const Detection& a, const Detection& b) {
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.scored, b.scored);
  EXPECT_EQ(a.candidates, b.candidates);
  EXPECT_EQ(a.score, b.score);  // bit-identical
  EXPECT_EQ(a.log10_p, b.log10_p);
  EXPECT_EQ(a.z, b.z);
  EXPECT_EQ(a.token_mask, b.token_mask);
  ASSERT_EQ(a.token_scores.size(), b.token_scores.size());
  for (size_t i = 0; i < a.token_scores.size(); ++i) {
    EXPECT_TRUE(a.token_scores[i] == b.token_scores[i] || (std::isnan(a.token_scores[i]) && std::isnan(b.token_scores[i])))
        << "token " << i;
  }
  ASSERT_EQ(a.window.has_value(), b.window.has_value());
  if (a.window) {
    EXPECT_EQ(a.window->begin, b.window->begin);
    EXPECT_EQ(a.window->end, b.window->end);
    EXPECT_EQ(a.window->log10_p_corrected, b.window->log10_p_corrected);
  }
  ASSERT_EQ(a.spans.size(), b.spans.size());
  for (size_t i = 0; i < a.spans.size(); ++i) EXPECT_EQ(a.spans[i].begin, b.spans[i].begin);
}

// Up to 16 keys sum on the stack, more on the heap: both give each key's Score.
TEST(Detector, ScoreKeysWithMoreKeysThanTheInlineSums) {
  const SimulatedLm lm = SimulatedLm::Create(300, SimulatedLm::ExponentForEntropy(300, 2.0), 5).value();
  for (const char* spec_str : {"kgw:gamma=0.25,delta=2,h=1", "gumbel:h=2"}) {
    const SchemeSpec spec = SchemeSpec::Parse(spec_str).value();
    const Watermarker wm = Watermarker::Create(FixedKey(5), spec).value();
    const std::vector<int32_t> doc = Generate(lm, &wm, 400, 3);
    for (size_t n : {1u, 16u, 17u, 40u}) {
      std::vector<Detector> owned;
      for (size_t k = 0; k < n; ++k) {
        owned.push_back(Detector::Create(FixedKey(static_cast<uint8_t>(k + 1)), spec).value());
      }
      std::vector<const Detector*> ds;
      for (const Detector& d : owned) ds.push_back(&d);
      const std::vector<Detection> all = Detector::ScoreKeys(ds, doc, {}).value();
      ASSERT_EQ(all.size(), n);
      for (size_t j = 0; j < n; ++j) {
        SCOPED_TRACE(std::string(spec_str) + ", key " + std::to_string(j) + " of " + std::to_string(n));
        ExpectSameDetection(all[j], ds[j]->Score(doc, {}).value());
      }
      // Key 5 (FixedKey(5)) generated the text: it stands out whenever present.
      if (n >= 5) {
        EXPECT_LT(all[4].log10_p, -5.0) << spec_str;
      }
    }
  }
}

// ScoreKeys shares the key-independent work between keys; each key's result
// must still equal its own Score, for every scheme, dedup mode and option,
// and the sink must see exactly the tuples that were scored.
TEST(Detector, ScoreKeysEqualsScorePerKey) {
  const SimulatedLm lm = SimulatedLm::Create(300, SimulatedLm::ExponentForEntropy(300, 2.0), 5).value();
  for (const char* spec_str : {"kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.5,delta=2,h=3,seeding=self", "gumbel:h=2",
                               "unigram:gamma=0.5,delta=2"}) {
    const SchemeSpec spec = SchemeSpec::Parse(spec_str).value();
    const Watermarker wm = Watermarker::Create(FixedKey(2), spec).value();
    std::vector<int32_t> doc = Generate(lm, &wm, 700, 11);  // small vocabulary: many repeats
    std::vector<Detector> owned;
    for (uint8_t seed : {1, 2, 3}) owned.push_back(Detector::Create(FixedKey(seed), spec).value());
    const std::vector<const Detector*> ds = {&owned[0], &owned[1], &owned[2]};
    for (DedupMode dedup : {DedupMode::kContextToken, DedupMode::kContext, DedupMode::kNone}) {
      if (dedup == DedupMode::kContext && spec.family == SchemeFamily::kUnigram) continue;
      for (int variant = 0; variant < 4; ++variant) {
        SCOPED_TRACE(std::string(spec_str) + " dedup " + std::string(DedupModeName(dedup)) + " variant " +
                     std::to_string(variant));
        DetectOptions opt;
        opt.dedup = dedup;
        opt.per_token = variant != 1;
        opt.window_search = variant >= 2;
        if (variant == 3) {
          opt.prompt_tokens = 17;
          opt.ignore_ids = {doc[40], doc[41]};
          opt.span_log10_threshold = -1.0;
        }
        std::vector<uint64_t> fps;
        std::vector<int32_t> ids;
        const TupleSink sink = [&](std::span<const uint64_t> f, std::span<const int32_t> t) {
          fps.insert(fps.end(), f.begin(), f.end());
          ids.insert(ids.end(), t.begin(), t.end());
        };
        const bool with_sink = dedup != DedupMode::kContext;
        const std::vector<Detection> all = Detector::ScoreKeys(ds, doc, opt, with_sink ? &sink : nullptr).value();
        ASSERT_EQ(all.size(), ds.size());
        for (size_t j = 0; j < ds.size(); ++j) ExpectSameDetection(all[j], ds[j]->Score(doc, opt).value());
        if (!with_sink) {
          EXPECT_FALSE(Detector::ScoreKeys(ds, doc, opt, &sink).ok());
          continue;
        }
        // The sink got the scored tuples, in position order.
        std::vector<uint64_t> want_fps;
        std::vector<int32_t> want_ids;
        std::vector<uint64_t> seen;
        const std::vector<ScoringTuple> tuples = ds[0]->ScoringTuples(doc, opt).value();
        for (const ScoringTuple& t : tuples) {
          const uint64_t fp = TupleFingerprint(t.context, t.token);
          if (dedup == DedupMode::kContextToken && std::find(seen.begin(), seen.end(), fp) != seen.end()) continue;
          seen.push_back(fp);
          want_fps.push_back(fp);
          want_ids.push_back(t.token);
        }
        EXPECT_EQ(fps, want_fps);
        EXPECT_EQ(ids, want_ids);
        EXPECT_EQ(static_cast<int64_t>(fps.size()), all[0].scored);
        EXPECT_EQ(all[0].candidates, static_cast<int64_t>(tuples.size()));
      }
    }
  }
  const Detector a = MakeDetector(1, "kgw:gamma=0.25,h=1");
  const Detector b = MakeDetector(1, "kgw:gamma=0.5,h=1");
  const std::vector<const Detector*> mixed = {&a, &b};
  const std::vector<int32_t> doc = {1, 2, 3};
  EXPECT_FALSE(Detector::ScoreKeys(mixed, doc, {}).ok());
  EXPECT_FALSE(Detector::ScoreKeys({}, doc, {}).ok());
  // Attribution still scores keys of different schemes, one by one.
  EXPECT_TRUE(AttributeKeys(mixed, doc, {}).ok());
}

// LogNullTail keeps per-thread memos of binomial tails (a triangle per gamma
// for n < 128, at most four of them; a hashed memo above): every answer must
// be the tail of exactly the (k, n, gamma) asked, through evictions and with
// schemes that differ only in gamma interleaved.
TEST(Detector, NullTailMemoAnswersExactlyTheQuestionAsked) {
  const SchemeSpec a = SchemeSpec::Parse("kgw:gamma=0.25,h=1").value();
  const SchemeSpec b = SchemeSpec::Parse("kgw:gamma=0.5,h=1").value();
  // Every (k, n) under one gamma, then the other, then the first again:
  // ~45k questions for a 4k-entry memo, so entries are evicted, and some
  // (k, n) share a slot under both gammas.
  for (int64_t n = 0; n < 300; ++n) {
    for (int64_t k = 0; k <= n + 1; ++k) {
      for (const SchemeSpec* s : {&a, &b, &a}) {
        const double want = LogBinomialUpperTail(k, n, s->gamma());
        ASSERT_EQ(LogNullTail(*s, static_cast<double>(k), n), want) << k << "/" << n << " gamma " << s->gamma();
      }
    }
  }
  // Six gammas in turn: more than the triangles kept, so they are evicted
  // and rebuilt between questions.
  std::vector<SchemeSpec> specs;
  for (const char* g : {"0.1", "0.2", "0.25", "0.3", "0.5", "0.7"}) {
    specs.push_back(SchemeSpec::Parse(std::string("kgw:gamma=") + g + ",h=1").value());
  }
  for (int64_t n = 0; n < 140; n += 3) {
    for (int64_t k = 0; k <= n; k += 2) {
      for (int rep = 0; rep < 2; ++rep) {
        for (const SchemeSpec& s : specs) {
          ASSERT_EQ(LogNullTail(s, static_cast<double>(k), n), LogBinomialUpperTail(k, n, s.gamma()))
              << k << "/" << n << " gamma " << s.gamma();
        }
      }
    }
  }
}

// The per-document dedup table is per thread; a tuple sink that scores
// another document from inside the call must not disturb the outer one.
TEST(Detector, ScoringFromInsideATupleSinkIsIndependent) {
  const Detector a = MakeDetector(3, "kgw:gamma=0.25,h=1");
  const Detector b = MakeDetector(4, "kgw:gamma=0.25,h=1");
  const std::vector<const Detector*> both = {&a, &b};
  std::vector<int32_t> outer(2000), inner(700);
  for (size_t i = 0; i < outer.size(); ++i) outer[i] = static_cast<int32_t>((i * 7919) % 301);
  for (size_t i = 0; i < inner.size(); ++i) inner[i] = static_cast<int32_t>((i * 104729) % 173);
  DetectOptions opt;
  opt.per_token = false;
  const auto plain_outer = Detector::ScoreKeys(both, outer, opt).value();
  const Detection plain_inner = a.Score(inner, opt).value();
  int calls = 0;
  const TupleSink sink = [&](std::span<const uint64_t>, std::span<const int32_t>) {
    ++calls;
    const Detection d = a.Score(inner, opt).value();
    EXPECT_EQ(d.scored, plain_inner.scored);
    EXPECT_EQ(d.score, plain_inner.score);
  };
  const auto nested = Detector::ScoreKeys(both, outer, opt, &sink).value();
  EXPECT_GT(calls, 0);
  for (size_t k = 0; k < both.size(); ++k) {
    EXPECT_EQ(nested[k].scored, plain_outer[k].scored);
    EXPECT_EQ(nested[k].score, plain_outer[k].score);
    EXPECT_EQ(nested[k].log10_p, plain_outer[k].log10_p);
  }
}

TEST(Attribution, PicksTheRightTenantAndAppliesHolm) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2").value();
  const SimulatedLm lm = SimulatedLm::Create(5000, SimulatedLm::ExponentForEntropy(5000, 3.0), 3).value();
  const Watermarker wm = Watermarker::Create(FixedKey(20), spec).value();
  const std::vector<int32_t> doc = Generate(lm, &wm, 200, 9);
  std::vector<Detector> owned;
  for (uint8_t seed : {10, 20, 30}) owned.push_back(Detector::Create(FixedKey(seed), spec).value());
  std::vector<const Detector*> ds = {&owned[0], &owned[1], &owned[2]};
  const Attribution a = AttributeKeys(ds, doc, {}).value();
  EXPECT_EQ(a.best, 1u);
  EXPECT_LT(a.per_key[1].log10_p, -6);
  EXPECT_NEAR(a.holm_log10_p[1], a.per_key[1].log10_p + std::log10(3.0), 1e-12);
  EXPECT_GT(a.per_key[0].log10_p, -3);
  EXPECT_GT(a.per_key[2].log10_p, -3);
  EXPECT_FALSE(AttributeKeys({}, doc, {}).ok());
}

// A scan reuses one Attribution per thread: each call must equal a fresh
// AttributeKeys whatever the previous call left, including a different key
// count, per-token output and mixed schemes.
TEST(Attribution, IntoReusedAcrossCallsEqualsFreshCalls) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2").value();
  const SimulatedLm lm = SimulatedLm::Create(5000, SimulatedLm::ExponentForEntropy(5000, 3.0), 3).value();
  const Watermarker wm = Watermarker::Create(FixedKey(20), spec).value();
  std::vector<Detector> owned;
  for (uint8_t seed : {10, 20, 30}) owned.push_back(Detector::Create(FixedKey(seed), spec).value());
  const Detector other = MakeDetector(20, "kgw:gamma=0.5,h=1");
  const std::vector<const Detector*> three = {&owned[0], &owned[1], &owned[2]};
  const std::vector<const Detector*> one = {&owned[2]};
  const std::vector<const Detector*> mixed = {&owned[1], &other};
  DetectOptions per_token;
  per_token.per_token = true;
  Attribution reused;
  int round = 0;
  for (const auto* keys : {&three, &one, &mixed, &three}) {
    for (const DetectOptions& opt : {DetectOptions{}, per_token}) {
      const std::vector<int32_t> doc = Generate(lm, &wm, 60 + 40 * round, static_cast<uint64_t>(round + 1));
      ++round;
      ASSERT_TRUE(AttributeKeysInto(*keys, doc, opt, nullptr, &reused).ok());
      const Attribution fresh = AttributeKeys(*keys, doc, opt).value();
      EXPECT_EQ(reused.best, fresh.best);
      EXPECT_EQ(reused.holm_log10_p, fresh.holm_log10_p);
      ASSERT_EQ(reused.per_key.size(), fresh.per_key.size());
      for (size_t j = 0; j < fresh.per_key.size(); ++j) {
        EXPECT_EQ(reused.per_key[j].scored, fresh.per_key[j].scored);
        EXPECT_EQ(reused.per_key[j].score, fresh.per_key[j].score);
        EXPECT_EQ(reused.per_key[j].log10_p, fresh.per_key[j].log10_p);
        EXPECT_EQ(reused.per_key[j].token_mask, fresh.per_key[j].token_mask);
      }
    }
  }
}

TEST(Detector, GumbelScoresAreExponentialUnderTheKey) {
  const SchemeSpec spec = SchemeSpec::Parse("gumbel:h=1").value();
  const SimulatedLm lm = SimulatedLm::Create(5000, SimulatedLm::ExponentForEntropy(5000, 3.0), 3).value();
  const Watermarker wm = Watermarker::Create(FixedKey(8), spec).value();
  const Detector right = Detector::Create(FixedKey(8), spec).value();
  const Detector wrong = Detector::Create(FixedKey(9), spec).value();
  const std::vector<int32_t> doc = Generate(lm, &wm, 200, 5);
  EXPECT_LT(right.Score(doc, {})->log10_p, -6);
  EXPECT_GT(wrong.Score(doc, {})->log10_p, -3);
}

}  // namespace
}  // namespace telltale
