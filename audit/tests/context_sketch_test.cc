#include "watermark/context_sketch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "watermark/context_hash.h"

namespace telltale {
namespace {

SchemeSpec Spec(const char* s) { return SchemeSpec::Parse(s).value(); }

TEST(ContextSketch, ExactRecordsEveryWatermarkedContextAndNothingElse) {
  auto key = SecretKey::Generate().value();
  const SchemeSpec spec = Spec("kgw:gamma=0.25,h=2");
  auto sk = ContextSketch::Create(key, spec, {}).value();
  const std::vector<int32_t> toks = {5, 6, 7, 8, 5, 6, 9};
  ASSERT_TRUE(sk.Record(toks, 3).ok());
  // Positions 3..6 have contexts (6,7) (7,8) (8,5) (5,6); the prompt's (5,6) at position 2 is not recorded,
  // but (5,6) recurs at position 6.
  EXPECT_EQ(sk.size(), 4u);
  const int32_t w1[] = {6, 7}, w2[] = {5, 6}, w3[] = {5, 7};
  EXPECT_TRUE(sk.MayContain(LeftContextHash(w1, 2)));
  EXPECT_TRUE(sk.MayContain(LeftContextHash(w2, 2)));
  EXPECT_FALSE(sk.MayContain(LeftContextHash(w3, 2)));
  EXPECT_LE(sk.false_positive_rate(), 1e-15);
}

TEST(ContextSketch, RoundTripIsByteExactAndChecksEveryField) {
  auto key = SecretKey::Generate().value();
  auto other = SecretKey::Generate().value();
  const SchemeSpec spec = Spec("gumbel:h=1");
  for (SketchKind kind : {SketchKind::kExact, SketchKind::kBloom}) {
    SketchOptions o;
    o.kind = kind;
    o.expected_contexts = 1000;
    o.target_fpr = 0.01;
    auto sk = ContextSketch::Create(key, spec, o).value();
    for (uint64_t c = 0; c < 500; ++c) sk.Add(Fmix64(c));
    const std::string bytes = sk.Serialize();
    auto back = ContextSketch::Parse(bytes, key, spec, "mem");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->Serialize(), bytes);
    EXPECT_EQ(back->Digest(), sk.Digest());
    EXPECT_EQ(back->size(), sk.size());
    for (uint64_t c = 0; c < 500; ++c) EXPECT_TRUE(back->MayContain(Fmix64(c)));
    // Wrong key, wrong scheme: FailedPrecondition naming the mismatch.
    auto wrong = ContextSketch::Parse(bytes, other, spec, "mem");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(wrong.status().message().find("key"), std::string::npos);
    EXPECT_FALSE(ContextSketch::Parse(bytes, key, Spec("gumbel:h=2"), "mem").ok());
    // Every truncation and every single-bit flip is rejected.
    for (size_t cut = 0; cut < bytes.size(); cut += 7) {
      EXPECT_FALSE(ContextSketch::Parse(bytes.substr(0, cut), key, spec, "mem").ok()) << cut;
    }
    for (size_t i = 0; i < bytes.size(); i += 13) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ 0x10);
      auto r = ContextSketch::Parse(bad, key, spec, "mem");
      EXPECT_FALSE(r.ok()) << i;
      if (!r.ok()) {
        EXPECT_NE(r.status().message().find("mem"), std::string::npos);
      }
    }
  }
}

TEST(ContextSketch, BloomFalsePositiveRateMatchesItsStatement) {
  auto key = SecretKey::Generate().value();
  SketchOptions o;
  o.kind = SketchKind::kBloom;
  o.expected_contexts = 20000;
  o.target_fpr = 0.01;
  auto sk = ContextSketch::Create(key, Spec("kgw:h=1"), o).value();
  for (uint64_t c = 0; c < 20000; ++c) sk.Add(Fmix64(c + 1));
  const double stated = sk.false_positive_rate();
  EXPECT_GT(stated, 0.003);
  EXPECT_LT(stated, 0.02);
  int64_t fp = 0;
  const int64_t trials = 200000;
  for (int64_t i = 0; i < trials; ++i) fp += sk.MayContain(Fmix64(static_cast<uint64_t>(i) + (uint64_t{1} << 40)));
  // Binomial(trials, stated): 6 standard deviations.
  const double sd = std::sqrt(trials * stated * (1 - stated));
  EXPECT_NEAR(static_cast<double>(fp), trials * stated, 6 * sd);
}

TEST(ContextSketch, SketchBytesDependOnTheKey) {
  auto a = SecretKey::Generate().value();
  auto b = SecretKey::Generate().value();
  const SchemeSpec spec = Spec("kgw:h=1");
  auto sa = ContextSketch::Create(a, spec, {}).value();
  auto sb = ContextSketch::Create(b, spec, {}).value();
  sa.Add(12345);
  sb.Add(12345);
  // Same contexts, different keys: different stored entries, so the bytes
  // alone do not say which windows were produced.
  EXPECT_NE(sa.Digest(), sb.Digest());
  EXPECT_NE(sa.Serialize().substr(sa.Serialize().size() - 40, 8), sb.Serialize().substr(sb.Serialize().size() - 40, 8));
}

TEST(ContextSketch, RefusesSchemesWhereFilteringWouldBeInvalid) {
  auto key = SecretKey::Generate().value();
  EXPECT_EQ(ContextSketch::Create(key, Spec("unigram"), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ContextSketch::Create(key, Spec("kgw:h=2,seeding=self"), {}).status().code(),
            StatusCode::kInvalidArgument);
  SketchOptions o;
  o.kind = SketchKind::kBloom;
  o.target_fpr = 0;
  EXPECT_FALSE(ContextSketch::Create(key, Spec("kgw"), o).ok());
  o.target_fpr = 1e-300;
  o.expected_contexts = uint64_t{1} << 40;
  EXPECT_FALSE(ContextSketch::Create(key, Spec("kgw"), o).ok());
  auto sk = ContextSketch::Create(key, Spec("kgw"), {}).value();
  const std::vector<int32_t> neg = {1, -2};
  EXPECT_FALSE(sk.Record(neg, 0).ok());
  EXPECT_FALSE(sk.Record(std::vector<int32_t>{1, 2}, -1).ok());
}

TEST(ContextSketch, MergeIsTheUnionAndRefusesMismatches) {
  auto key = SecretKey::Generate().value();
  const SchemeSpec spec = Spec("kgw:h=1");
  auto a = ContextSketch::Create(key, spec, {}).value();
  auto b = ContextSketch::Create(key, spec, {}).value();
  a.Add(1);
  b.Add(2);
  b.Add(1);
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.size(), 2u);
  EXPECT_TRUE(a.MayContain(2));
  SketchOptions o;
  o.kind = SketchKind::kBloom;
  auto c = ContextSketch::Create(key, spec, o).value();
  EXPECT_EQ(a.Merge(c).code(), StatusCode::kFailedPrecondition);
}

TEST(ContextSketch, SaveAndLoadThroughAFile) {
  auto key = SecretKey::Generate().value();
  const SchemeSpec spec = Spec("kgw:h=4");
  auto sk = ContextSketch::Create(key, spec, {}).value();
  sk.Add(7);
  const std::string path = ::testing::TempDir() + "/sketch.ttsk";
  ASSERT_TRUE(sk.Save(path).ok());
  auto back = ContextSketch::Load(path, key, spec);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->MayContain(7));
  EXPECT_EQ(ContextSketch::Load(path + ".missing", key, spec).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace telltale
