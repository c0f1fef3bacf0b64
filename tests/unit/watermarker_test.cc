#include "watermark/watermarker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "test_util.h"
#include "watermark/context_hash.h"

namespace telltale {
namespace {

using testing::FixedKey;

// The detection path's view of a token's greenness: one PRF block for the
// token in its own context. Generation must agree with it bit for bit.
bool GreenByDetectionPath(const KeyedPrf& prf, const SchemeSpec& spec, std::vector<int32_t> seq, int32_t token) {
  seq.push_back(token);
  uint64_t ctx;
  EXPECT_TRUE(ScoringContext(spec, seq.data(), static_cast<int64_t>(seq.size()) - 1, &ctx));
  uint32_t slot;
  prf.TokenSlots(&ctx, &token, 1, &slot);
  return slot < spec.green_threshold();
}

class GreenListTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GreenListTest, GenerationAndDetectionAgreeOnEveryToken) {
  const SchemeSpec spec = SchemeSpec::Parse(GetParam()).value();
  const SecretKey key = FixedKey(9);
  const Watermarker wm = Watermarker::Create(key, spec).value();
  const KeyedPrf prf = KeyedPrf::Create(key, spec).value();
  const std::vector<int32_t> context = {11, 5, 700, 3};
  for (int64_t vocab : {1, 63, 64, 65, 129, 1000, 8193}) {
    std::vector<uint64_t> bits(static_cast<size_t>((vocab + 63) / 64));
    bool watermarked = false;
    ASSERT_TRUE(wm.GreenBitmap(context, vocab, bits, &watermarked).ok());
    EXPECT_TRUE(watermarked);
    int64_t greens = 0;
    for (int32_t t = 0; t < vocab; ++t) {
      const bool g = (bits[t >> 6] >> (t & 63)) & 1;
      greens += g;
      ASSERT_EQ(g, GreenByDetectionPath(prf, spec, context, t)) << GetParam() << " vocab " << vocab << " token " << t;
    }
    if (vocab == 8193) {
      // The green fraction is gamma up to sampling noise (5 sigma).
      const double sd = std::sqrt(vocab * spec.gamma() * (1 - spec.gamma()));
      EXPECT_NEAR(greens, vocab * spec.gamma(), 5 * sd) << GetParam();
    }
  }
}

TEST_P(GreenListTest, ApplyAddsDeltaExactlyToGreenTokens) {
  const SchemeSpec spec = SchemeSpec::Parse(GetParam()).value();
  const Watermarker wm = Watermarker::Create(FixedKey(9), spec).value();
  const std::vector<int32_t> context = {11, 5, 700, 3};
  // Odd sizes exercise the SIMD kernel's tails against the portable bitmap.
  for (int64_t vocab : {1, 15, 63, 64, 65, 127, 129, 5003, 16385}) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> logits(vocab), before;
    for (float& v : logits) v = normal(rng);
    before = logits;
    std::vector<uint64_t> bits((vocab + 63) / 64);
    bool watermarked;
    ASSERT_TRUE(wm.GreenBitmap(context, vocab, bits, &watermarked).ok());
    ASSERT_TRUE(wm.Apply(context, logits).ok());
    for (int64_t t = 0; t < vocab; ++t) {
      const bool g = (bits[t >> 6] >> (t & 63)) & 1;
      ASSERT_EQ(logits[t], g ? before[t] + static_cast<float>(spec.delta) : before[t]) << "vocab " << vocab << " token " << t;
    }
  }
}

// The batched slot lookup (one AES block per entry, batches of 256, width
// dispatched once) against the block-wise definition: ContextBlocks plus
// ExtractSlot, for every slot width.
TEST(KeyedPrfTest, TokenSlotsMatchTheBlockDefinitionAtEveryWidth) {
  std::mt19937_64 rng(3);
  for (const char* text : {"kgw:gamma=0.5,h=1", "kgw:gamma=0.25,h=1", "kgw:gamma=0.0625,h=1",
                           "kgw:gamma=0.00390625,h=1", "kgw:gamma=0.3,h=1", "gumbel:h=1"}) {
    const SchemeSpec spec = SchemeSpec::Parse(text).value();
    const KeyedPrf prf = KeyedPrf::Create(FixedKey(4), spec).value();
    std::vector<uint64_t> contexts(600);
    std::vector<int32_t> tokens(600);
    for (size_t i = 0; i < contexts.size(); ++i) {
      contexts[i] = rng();
      tokens[i] = static_cast<int32_t>(rng() % 300000);
    }
    std::vector<uint32_t> slots(600);
    prf.TokenSlots(contexts.data(), tokens.data(), slots.size(), slots.data());
    const uint32_t per_block = static_cast<uint32_t>(prf.slots_per_block());
    for (size_t i = 0; i < slots.size(); ++i) {
      uint8_t block[16];
      prf.ContextBlocks(contexts[i], static_cast<uint32_t>(tokens[i]) / per_block, 1, block);
      ASSERT_EQ(slots[i], KeyedPrf::ExtractSlot(block, prf.slot_bits(), static_cast<uint32_t>(tokens[i]) % per_block))
          << text << " entry " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, GreenListTest,
                         ::testing::Values("kgw:gamma=0.5,delta=2,h=1", "kgw:gamma=0.25,delta=2,h=1",
                                           "kgw:gamma=0.75,delta=1,h=1", "kgw:gamma=0.125,delta=2,h=2",
                                           "kgw:gamma=0.00390625,delta=2,h=1", "kgw:gamma=0.3,delta=2,h=3",
                                           "kgw:gamma=0.25,delta=2,h=3,seeding=self",
                                           "kgw:gamma=0.5,delta=2,h=1,seeding=self", "unigram:gamma=0.5,delta=2",
                                           "unigram:gamma=0.25,delta=3"));

TEST(Watermarker, ApplyIsExactAtEveryRowAlignment) {
  // The SIMD kernel aligns its vector accesses itself; rows may start anywhere.
  for (const char* text : {"kgw:gamma=0.5,delta=2", "kgw:gamma=0.25,delta=2", "kgw:gamma=0.75,delta=1"}) {
    const SchemeSpec spec = SchemeSpec::Parse(text).value();
    const Watermarker wm = Watermarker::Create(FixedKey(9), spec).value();
    const std::vector<int32_t> context = {4, 8};
    for (int64_t vocab : {5, 17, 100, 4097, 9000}) {
      std::vector<uint64_t> bits((vocab + 63) / 64);
      bool watermarked;
      ASSERT_TRUE(wm.GreenBitmap(context, vocab, bits, &watermarked).ok());
      for (size_t offset = 0; offset < 16; ++offset) {
        std::vector<float> buffer(static_cast<size_t>(vocab) + 48, -7.0f);
        float* row = buffer.data() + offset;
        for (int64_t t = 0; t < vocab; ++t) row[t] = static_cast<float>(t % 13);
        ASSERT_TRUE(wm.Apply(context, std::span<float>(row, static_cast<size_t>(vocab))).ok());
        for (size_t i = 0; i < offset; ++i) ASSERT_EQ(buffer[i], -7.0f) << "wrote before the row";
        for (size_t i = offset + static_cast<size_t>(vocab); i < buffer.size(); ++i) ASSERT_EQ(buffer[i], -7.0f);
        for (int64_t t = 0; t < vocab; ++t) {
          const bool g = (bits[t >> 6] >> (t & 63)) & 1;
          ASSERT_EQ(row[t], static_cast<float>(t % 13) + (g ? static_cast<float>(spec.delta) : 0.0f))
              << text << " vocab " << vocab << " offset " << offset << " token " << t;
        }
      }
    }
  }
}

TEST(Watermarker, BatchEqualsRows) {
  const Watermarker wm = Watermarker::Create(FixedKey(2), SchemeSpec::Parse("kgw:gamma=0.25").value()).value();
  const int64_t vocab = 1000, batch = 3;
  std::vector<int32_t> tokens = {1, 2, 3, 9, 9, 4, 5};
  std::vector<int64_t> offsets = {0, 3, 3, 7};  // row 1 has an empty context
  std::vector<float> logits(batch * vocab, 0.5f), expect = logits;
  LogitsMatrixMap map(logits.data(), batch, vocab, Eigen::OuterStride<>(vocab));
  ASSERT_TRUE(wm.ApplyBatch(tokens, offsets, map).ok());
  for (int64_t b = 0; b < batch; ++b) {
    std::span<const int32_t> ctx(tokens.data() + offsets[b], offsets[b + 1] - offsets[b]);
    ASSERT_TRUE(wm.Apply(ctx, std::span<float>(expect.data() + b * vocab, vocab)).ok());
  }
  EXPECT_EQ(logits, expect);
  std::vector<int64_t> bad = {0, 3, 2, 7};
  EXPECT_FALSE(wm.ApplyBatch(tokens, bad, map).ok());
}

TEST(Watermarker, SampleBatchEqualsRows) {
  const Watermarker wm = Watermarker::Create(FixedKey(2), SchemeSpec::Parse("gumbel:h=1").value()).value();
  const int64_t vocab = 50;
  std::vector<int32_t> tokens = {1, 2, 3, 9};
  std::vector<int64_t> offsets = {0, 1, 4};
  std::vector<float> logits(2 * vocab);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>((i * 37) % 11) * 0.3f;
  std::vector<uint64_t> rngs = {5, 6};
  std::vector<int32_t> out(2);
  SampleWorkspace ws;
  ConstLogitsMatrixMap map(logits.data(), 2, vocab, Eigen::OuterStride<>(vocab));
  ASSERT_TRUE(wm.SampleBatch(tokens, offsets, map, {}, rngs, ws, out).ok());
  for (int b = 0; b < 2; ++b) {
    uint64_t rng = 5 + b;
    std::span<const int32_t> ctx(tokens.data() + offsets[b], offsets[b + 1] - offsets[b]);
    EXPECT_EQ(out[b], wm.Sample(ctx, std::span<const float>(logits.data() + b * vocab, vocab), {}, rng, ws).value());
  }
  std::vector<int32_t> short_out(1);
  EXPECT_FALSE(wm.SampleBatch(tokens, offsets, map, {}, rngs, ws, short_out).ok());
}

// The sparse entry point llama.cpp's sampler uses after top-k/top-p must pick
// exactly the token the dense path picks on the same distribution (absent
// ids at -inf), including the rng it consumes on unwatermarked steps.
TEST(Watermarker, SampleCandidatesEqualsDenseSample) {
  const float kInf = std::numeric_limits<float>::infinity();
  for (const char* spec : {"gumbel:h=1", "gumbel:h=4"}) {
    const Watermarker wm = Watermarker::Create(FixedKey(4), SchemeSpec::Parse(spec).value()).value();
    std::mt19937 gen(17);
    SampleWorkspace ws_dense, ws_sparse;
    int checked = 0;
    for (int64_t vocab : {1, 7, 64, 300, 5000}) {
      for (int trial = 0; trial < 60; ++trial) {
        // 1..min(vocab, 200) candidates, shuffled, with duplicates and -inf.
        const size_t n = 1 + gen() % static_cast<size_t>(std::min<int64_t>(vocab, 200));
        std::vector<int32_t> ids(n);
        std::vector<float> logits(n);
        for (size_t i = 0; i < n; ++i) {
          ids[i] = static_cast<int32_t>(gen() % static_cast<uint32_t>(vocab));
          logits[i] = (gen() % 9 == 0) ? -kInf : std::normal_distribution<float>(0.0f, 2.0f)(gen);
        }
        if (gen() % 2) logits[gen() % n] = 3.0f;  // at least one finite entry, usually
        std::vector<float> dense(static_cast<size_t>(vocab), -kInf);
        for (size_t i = 0; i < n; ++i) dense[static_cast<size_t>(ids[i])] = logits[i];
        // Context lengths 0..5: short ones are unwatermarked and draw from rng.
        std::vector<int32_t> context;
        for (int c = trial % 6; c > 0; --c) context.push_back(static_cast<int32_t>(gen() % 50000));
        uint64_t rng_dense = 99 + trial, rng_sparse = 99 + trial;
        auto a = wm.Sample(context, dense, {}, rng_dense, ws_dense);
        auto b = wm.SampleCandidates(context, ids, logits, vocab, rng_sparse, ws_sparse);
        ASSERT_EQ(a.ok(), b.ok()) << spec << " vocab " << vocab << " trial " << trial;
        if (!a.ok()) continue;
        EXPECT_EQ(*a, *b) << spec << " vocab " << vocab << " trial " << trial;
        EXPECT_EQ(rng_dense, rng_sparse);
        ++checked;
      }
    }
    EXPECT_GT(checked, 250);
  }
  const Watermarker gumbel = Watermarker::Create(FixedKey(4), SchemeSpec::Parse("gumbel:h=1").value()).value();
  const Watermarker kgw = Watermarker::Create(FixedKey(4), SchemeSpec::Parse("kgw").value()).value();
  SampleWorkspace ws;
  uint64_t rng = 1;
  const std::vector<int32_t> ctx = {3};
  EXPECT_EQ(kgw.SampleCandidates(ctx, std::vector<int32_t>{1}, std::vector<float>{0.f}, 10, rng, ws).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_FALSE(gumbel.SampleCandidates(ctx, std::vector<int32_t>{1, 2}, std::vector<float>{0.f}, 10, rng, ws).ok());
  EXPECT_FALSE(gumbel.SampleCandidates(ctx, std::vector<int32_t>{10}, std::vector<float>{0.f}, 10, rng, ws).ok());
  EXPECT_FALSE(gumbel.SampleCandidates(ctx, std::vector<int32_t>{-1}, std::vector<float>{0.f}, 10, rng, ws).ok());
  EXPECT_FALSE(gumbel.SampleCandidates(ctx, std::vector<int32_t>{}, std::vector<float>{}, 10, rng, ws).ok());
  EXPECT_FALSE(gumbel.SampleCandidates(ctx, std::vector<int32_t>{1}, std::vector<float>{-kInf}, 10, rng, ws).ok());
  auto nan = gumbel.SampleCandidates(ctx, std::vector<int32_t>{4}, std::vector<float>{std::nanf("")}, 10, rng, ws);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("token 4"), std::string::npos) << nan.status().message();
}

TEST(Watermarker, HalfPrecisionAddsDeltaWithRounding) {
  const Watermarker wm = Watermarker::Create(FixedKey(2), SchemeSpec::Parse("kgw:gamma=0.5,delta=2").value()).value();
  const std::vector<int32_t> ctx = {4};
  std::vector<float> f(256, 1.0f);
  ASSERT_TRUE(wm.Apply(ctx, f).ok());
  std::vector<uint16_t> bf(256, 0x3f80), hf(256, 0x3c00);  // 1.0 in bfloat16 and binary16
  ASSERT_TRUE(wm.ApplyHalf(ctx, bf, HalfFormat::kBFloat16).ok());
  ASSERT_TRUE(wm.ApplyHalf(ctx, hf, HalfFormat::kFloat16).ok());
  for (int t = 0; t < 256; ++t) {
    EXPECT_EQ(bf[t], f[t] == 3.0f ? 0x4040 : 0x3f80) << t;  // 3.0 = 0x4040 in bfloat16
    EXPECT_EQ(hf[t], f[t] == 3.0f ? 0x4200 : 0x3c00) << t;  // 3.0 = 0x4200 in binary16
  }
}

TEST(Watermarker, ShortOrRepeatedContextsAreLeftAlone) {
  const SecretKey key = FixedKey(2);
  const Watermarker h2 = Watermarker::Create(key, SchemeSpec::Parse("kgw:h=2").value()).value();
  std::vector<float> logits(300, 0.0f);
  ASSERT_TRUE(h2.Apply(std::vector<int32_t>{5}, logits).ok());
  EXPECT_EQ(logits, std::vector<float>(300, 0.0f));
  const Watermarker skip = Watermarker::Create(key, SchemeSpec::Parse("kgw:h=2,skip_repeat=true").value()).value();
  EXPECT_TRUE(skip.ContextIsWatermarked(std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_FALSE(skip.ContextIsWatermarked(std::vector<int32_t>{5, 6, 7, 5, 6}));
  ASSERT_TRUE(skip.Apply(std::vector<int32_t>{5, 6, 7, 5, 6}, logits).ok());
  EXPECT_EQ(logits, std::vector<float>(300, 0.0f));
  ASSERT_TRUE(skip.Apply(std::vector<int32_t>{5, 6, 7, 6, 5}, logits).ok());
  EXPECT_NE(logits, std::vector<float>(300, 0.0f));
}

TEST(Watermarker, RejectsBadInput) {
  const SecretKey key = FixedKey(2);
  const Watermarker kgw = Watermarker::Create(key, SchemeSpec::Parse("kgw").value()).value();
  const Watermarker gumbel = Watermarker::Create(key, SchemeSpec::Parse("gumbel").value()).value();
  std::vector<float> logits(10, 0.0f);
  EXPECT_EQ(gumbel.Apply(std::vector<int32_t>{1}, logits).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(kgw.Apply(std::vector<int32_t>{-4}, logits).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kgw.Apply(std::vector<int32_t>{1}, std::span<float>()).code(), StatusCode::kInvalidArgument);
  uint64_t rng = 1;
  SampleWorkspace ws;
  std::vector<float> nan_logits(10, NAN);
  EXPECT_FALSE(kgw.Sample(std::vector<int32_t>{1}, nan_logits, {}, rng, ws).ok());
  EXPECT_FALSE(kgw.Sample(std::vector<int32_t>{1}, logits, {0.0f, 0, 1.0f}, rng, ws).ok());
  EXPECT_FALSE(kgw.Sample(std::vector<int32_t>{1}, logits, {1.0f, -1, 1.0f}, rng, ws).ok());
  EXPECT_FALSE(kgw.Sample(std::vector<int32_t>{1}, logits, {1.0f, 0, 1.5f}, rng, ws).ok());
}

TEST(Gumbel, DeterministicGivenContextAndDistortionFree) {
  const Watermarker wm = Watermarker::Create(FixedKey(5), SchemeSpec::Parse("gumbel:h=1").value()).value();
  const std::vector<double> probs = {0.5, 0.25, 0.15, 0.10};
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  SampleWorkspace ws;
  std::vector<int> counts(4, 0);
  const int trials = 20000;
  for (int i = 0; i < trials; ++i) {
    uint64_t rng_a = 1, rng_b = 999;
    const std::vector<int32_t> ctx = {i};
    const int32_t a = wm.Sample(ctx, logits, {}, rng_a, ws).value();
    const int32_t b = wm.Sample(ctx, logits, {}, rng_b, ws).value();
    ASSERT_EQ(a, b) << "gumbel must not depend on the sampling rng";
    ++counts[a];
  }
  // Pearson chi-square, 3 degrees of freedom, critical value 16.27 at 0.001.
  double chi2 = 0;
  for (int t = 0; t < 4; ++t) {
    const double e = trials * probs[t];
    chi2 += (counts[t] - e) * (counts[t] - e) / e;
  }
  EXPECT_LT(chi2, 16.27);
}

TEST(Sampling, TopKAndTopPKeepTheRightCandidates) {
  SampleWorkspace ws;
  std::vector<float> logits;
  for (double p : {0.05, 0.4, 0.3, 0.2, 0.05}) logits.push_back(static_cast<float>(std::log(p)));
  ASSERT_TRUE(SelectCandidates(logits, {1.0f, 2, 1.0f}, ws).ok());
  EXPECT_EQ(ws.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(ws.probs[0], 0.4 / 0.7, 1e-6);
  ASSERT_TRUE(SelectCandidates(logits, {1.0f, 0, 0.65f}, ws).ok());
  EXPECT_EQ(ws.ids, (std::vector<int32_t>{1, 2}));
  ASSERT_TRUE(SelectCandidates(logits, {1.0f, 0, 0.71f}, ws).ok());
  EXPECT_EQ(ws.ids, (std::vector<int32_t>{1, 2, 3}));
  ASSERT_TRUE(SelectCandidates(logits, {1.0f, 0, 1.0f}, ws).ok());
  EXPECT_EQ(ws.ids.size(), 5u);
  std::vector<float> all_masked(4, -INFINITY);
  EXPECT_FALSE(SelectCandidates(all_masked, {}, ws).ok());
}

}  // namespace
}  // namespace telltale
