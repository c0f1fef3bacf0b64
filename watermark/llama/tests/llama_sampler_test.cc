// WatermarkSampler against the real libllama and the reference LM's GGUF
// (TT_LLAMA_MODEL, exported by the llama.reflm_gguf fixture).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "llama.h"
#include "watermark/llama/llama_generation.h"
#include "watermark/llama/watermark_sampler.h"

namespace telltale {
namespace {

constexpr char kKgw[] = "kgw:gamma=0.25,delta=2,h=1";
constexpr char kGumbel[] = "gumbel:h=1";
constexpr char kPrompt[] = "It is a truth universally acknowledged, that";

SecretKey KeyFromByte(uint8_t b) {
  std::vector<uint8_t> bytes(32, b);
  return SecretKey::FromBytes(bytes).value();
}

std::shared_ptr<const Watermarker> MakeWatermarker(const char* spec, uint8_t key_byte = 7) {
  return std::make_shared<const Watermarker>(
      Watermarker::Create(KeyFromByte(key_byte), SchemeSpec::Parse(spec).value()).value());
}

// Records what the sampler right after it will see: the candidate count and
// whether the ids are exactly 0..n_vocab-1 (the full set).
struct Spy {
  std::vector<size_t> sizes;
  int32_t n_vocab = 0;
  int full_sets = 0;
};

llama_sampler* NewSpy(Spy* target) {
  static llama_sampler_i iface = [] {
    llama_sampler_i i{};
    i.name = [](const llama_sampler*) { return "spy"; };
    i.apply = [](llama_sampler* s, llama_token_data_array* cur_p) {
      auto* spy = static_cast<Spy*>(s->ctx);
      spy->sizes.push_back(cur_p->size);
      std::vector<char> seen(static_cast<size_t>(spy->n_vocab), 0);
      size_t distinct = 0;
      for (size_t k = 0; k < cur_p->size; ++k) {
        const llama_token id = cur_p->data[k].id;
        if (id >= 0 && id < spy->n_vocab && !seen[id]) {
          seen[id] = 1;
          ++distinct;
        }
      }
      if (distinct == static_cast<size_t>(spy->n_vocab) && cur_p->size == distinct) ++spy->full_sets;
    };
    return i;
  }();
  return llama_sampler_init(&iface, target);
}

class LlamaSamplerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* path = std::getenv("TT_LLAMA_MODEL");
    ASSERT_NE(path, nullptr) << "TT_LLAMA_MODEL (the reference LM GGUF) is not set; run through ctest";
    auto gen = LlamaGeneration::Load(path, {.n_ctx = 512, .n_threads = 1});
    ASSERT_TRUE(gen.ok()) << gen.status().message();
    gen_ = std::move(*gen).release();
  }
  static void TearDownTestSuite() {
    delete gen_;
    gen_ = nullptr;
  }

  // watermark (bias) -> top-k -> top-p -> temp -> dist, or
  // top-k -> top-p -> temp -> watermark (sampling scheme).
  static llama_sampler* Chain(std::shared_ptr<const Watermarker> wm, uint32_t seed, Spy* spy = nullptr) {
    llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (spy != nullptr) llama_sampler_chain_add(chain, NewSpy(spy));
    const bool selects = wm != nullptr && wm->spec().is_sampling_scheme();
    if (wm != nullptr && !selects) llama_sampler_chain_add(chain, WatermarkSampler::New(wm, gen_->n_vocab(), seed).value());
    llama_sampler_chain_add(chain, gen_->NewEogSuppressor());  // always reach n tokens
    llama_sampler_chain_add(chain, llama_sampler_init_top_k(50));
    llama_sampler_chain_add(chain, llama_sampler_init_top_p(0.95f, 1));
    llama_sampler_chain_add(chain, llama_sampler_init_temp(0.9f));
    llama_sampler_chain_add(chain, selects ? WatermarkSampler::New(wm, gen_->n_vocab(), seed).value()
                                           : llama_sampler_init_dist(seed));
    return chain;
  }

  static std::vector<int32_t> Prompt() { return gen_->Tokenize(kPrompt, true).value(); }

  static std::vector<int32_t> Generate(llama_sampler* chain, int32_t n) {
    auto out = gen_->Generate(Prompt(), chain, n);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : std::vector<int32_t>{};
  }

  static double Log10P(const char* spec, uint8_t key_byte, const std::vector<int32_t>& generated) {
    std::vector<int32_t> tokens = Prompt();
    const int64_t prompt = static_cast<int64_t>(tokens.size());
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    auto det = Detector::Create(KeyFromByte(key_byte), SchemeSpec::Parse(spec).value()).value();
    DetectOptions opt;
    opt.prompt_tokens = prompt;
    opt.per_token = false;
    auto d = det.Score(tokens, opt);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? d->log10_p : 0.0;
  }

  static LlamaGeneration* gen_;
};

LlamaGeneration* LlamaSamplerTest::gen_ = nullptr;

TEST_F(LlamaSamplerTest, FirstInChainSeesFullCandidateSetEveryStep) {
  Spy spy;
  spy.n_vocab = gen_->n_vocab();
  llama_sampler* chain = Chain(MakeWatermarker(kKgw), 3, &spy);
  std::vector<int32_t> out = Generate(chain, 48);
  ASSERT_EQ(out.size(), 48u);
  // The spy sits immediately before the watermark: what it saw, the
  // watermark saw, at every step.
  EXPECT_EQ(spy.sizes.size(), out.size());
  EXPECT_EQ(spy.full_sets, static_cast<int>(out.size()));
  auto* wm = WatermarkSampler::From(llama_sampler_chain_get(chain, 1));
  ASSERT_NE(wm, nullptr);
  EXPECT_EQ(wm->steps(), out.size());
  EXPECT_EQ(wm->full_candidate_steps(), out.size());
  EXPECT_EQ(wm->watermarked_steps(), out.size());  // the prompt gives context from step 0
  llama_sampler_free(chain);
}

TEST_F(LlamaSamplerTest, ChainWithTopKTopPTempIsDeterministicForAFixedSeed) {
  for (const char* spec : {kKgw, kGumbel}) {
    llama_sampler* a = Chain(MakeWatermarker(spec), 11);
    llama_sampler* b = Chain(MakeWatermarker(spec), 11);
    std::vector<int32_t> first = Generate(a, 64);
    std::vector<int32_t> second = Generate(b, 64);
    std::vector<int32_t> again = Generate(a, 64);  // Generate resets the chain
    EXPECT_EQ(first, second) << spec;
    EXPECT_EQ(first, again) << spec;
    // Another key changes the tokens (the watermark really is in the loop).
    llama_sampler* c = Chain(MakeWatermarker(spec, 8), 11);
    EXPECT_NE(first, Generate(c, 64)) << spec;
    for (llama_sampler* s : {a, b, c}) llama_sampler_free(s);
  }
}

// A fixed candidate array: logits 0..V-1 scaled, in reverse id order.
std::vector<llama_token_data> Candidates(int32_t n_vocab) {
  std::vector<llama_token_data> cur;
  for (int32_t id = n_vocab - 1; id >= 0; --id) cur.push_back({id, 0.001f * static_cast<float>(id), 0.0f});
  return cur;
}

std::vector<float> ApplyTo(llama_sampler* s, int32_t n_vocab) {
  std::vector<llama_token_data> cur = Candidates(n_vocab);
  llama_token_data_array arr{cur.data(), cur.size(), -1, false};
  llama_sampler_apply(s, &arr);
  std::vector<float> by_id(static_cast<size_t>(n_vocab));
  for (const auto& c : cur) by_id[c.id] = c.logit;
  return by_id;
}

std::vector<float> Expected(const Watermarker& wm, const std::vector<int32_t>& context, int32_t n_vocab) {
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  for (int32_t id = 0; id < n_vocab; ++id) logits[id] = 0.001f * static_cast<float>(id);
  EXPECT_TRUE(wm.Apply(context, logits).ok());
  return logits;
}

TEST_F(LlamaSamplerTest, CloneAndResetKeepIndependentState) {
  auto wm = MakeWatermarker("kgw:gamma=0.25,delta=2,h=2");
  const int32_t v = gen_->n_vocab();
  llama_sampler* a = WatermarkSampler::New(wm, v, 1).value();
  for (int32_t t : {5, 6}) llama_sampler_accept(a, t);
  llama_sampler* b = llama_sampler_clone(a);
  ASSERT_NE(b, nullptr);
  llama_sampler_accept(a, 7);
  llama_sampler_accept(b, 9);
  EXPECT_EQ(ApplyTo(a, v), Expected(*wm, {5, 6, 7}, v));
  EXPECT_EQ(ApplyTo(b, v), Expected(*wm, {5, 6, 9}, v));
  EXPECT_NE(ApplyTo(a, v), ApplyTo(b, v));
  llama_sampler_reset(a);
  EXPECT_EQ(ApplyTo(a, v), Expected(*wm, {}, v));  // no context: untouched
  EXPECT_EQ(ApplyTo(b, v), Expected(*wm, {5, 6, 9}, v));
  llama_sampler_accept(a, 1);
  llama_sampler_accept(a, 2);
  EXPECT_EQ(ApplyTo(a, v), Expected(*wm, {1, 2}, v));
  EXPECT_EQ(ApplyTo(b, v), Expected(*wm, {5, 6, 9}, v));
  llama_sampler_free(a);
  EXPECT_EQ(ApplyTo(b, v), Expected(*wm, {5, 6, 9}, v));  // b outlives a
  llama_sampler_free(b);

  // Whole chains clone the same way (servers clone per slot).
  llama_sampler* chain = Chain(MakeWatermarker(kGumbel), 5);
  llama_sampler* copy = llama_sampler_clone(chain);
  EXPECT_EQ(Generate(chain, 32), Generate(copy, 32));
  llama_sampler_free(chain);
  EXPECT_EQ(Generate(copy, 32).size(), 32u);
  llama_sampler_free(copy);
}

TEST_F(LlamaSamplerTest, BiasesAnyCandidateSubsetById) {
  auto wm = MakeWatermarker(kKgw);
  const int32_t v = gen_->n_vocab();
  llama_sampler* s = WatermarkSampler::New(wm, v, 1).value();
  llama_sampler_accept(s, 42);
  std::vector<float> want = Expected(*wm, {42}, v);
  // Every third id, shuffled, plus ids outside the vocabulary.
  std::vector<llama_token_data> cur;
  for (int32_t id = v - 1; id >= 0; id -= 3) cur.push_back({id, 0.001f * static_cast<float>(id), 0.0f});
  std::reverse(cur.begin() + cur.size() / 2, cur.end());
  cur.push_back({v, 1.0f, 0.0f});
  cur.push_back({-1, 2.0f, 0.0f});
  llama_token_data_array arr{cur.data(), cur.size(), -1, true};
  llama_sampler_apply(s, &arr);
  EXPECT_FALSE(arr.sorted);
  for (const auto& c : cur) {
    if (c.id == v) {
      EXPECT_EQ(c.logit, 1.0f);
    } else if (c.id == -1) {
      EXPECT_EQ(c.logit, 2.0f);
    } else {
      EXPECT_EQ(c.logit, want[c.id]) << c.id;
    }
  }
  llama_sampler_free(s);
}

TEST_F(LlamaSamplerTest, DetectorFindsTheWatermarkInGeneratedIds) {
  for (const char* spec : {kKgw, kGumbel}) {
    llama_sampler* chain = Chain(MakeWatermarker(spec), 21);
    std::vector<int32_t> out = Generate(chain, 200);
    ASSERT_EQ(out.size(), 200u) << spec;
    EXPECT_LT(Log10P(spec, 7, out), -6.0) << spec;
    EXPECT_GT(Log10P(spec, 8, out), -3.0) << spec << ": another key must not detect";
    llama_sampler_free(chain);
  }
  llama_sampler* plain = Chain(nullptr, 21);
  std::vector<int32_t> out = Generate(plain, 200);
  EXPECT_GT(Log10P(kKgw, 7, out), -3.0) << "unwatermarked text";
  llama_sampler_free(plain);
}

// The full-array fast path (green entries only, ids checked) must equal the
// by-id result on every layout: identity, a swap that the check catches
// part-way, reversed, and one entry replaced by an out-of-vocabulary id.
// Vocabularies include the 128k Llama 3 size and a partial last word.
TEST(WatermarkSamplerLayouts, FullArraysInAnyOrderMatchTheDenseBias) {
  for (const char* spec : {kKgw, "kgw:gamma=0.5,delta=1.5,h=1", "kgw:gamma=0.125,delta=2,h=2"}) {
    auto wm = MakeWatermarker(spec);
    for (int32_t v : {1000, 128256}) {
      const std::vector<float> want = Expected(*wm, {42, 7}, v);
      std::vector<bool> is_green(static_cast<size_t>(v));
      std::vector<float> zeros(static_cast<size_t>(v), 0.0f);
      ASSERT_TRUE(wm->Apply(std::vector<int32_t>{42, 7}, zeros).ok());
      int32_t first_green = -1, first_red = -1;
      for (int32_t id = 0; id < v; ++id) {
        is_green[id] = zeros[id] != 0.0f;
        if (is_green[id] && first_green < 0) first_green = id;
        if (!is_green[id] && first_red < 0) first_red = id;
      }
      ASSERT_GE(first_green, 0);
      ASSERT_GE(first_red, 0);
      for (int layout = 0; layout < 4; ++layout) {
        std::vector<llama_token_data> cur(static_cast<size_t>(v));
        for (int32_t id = 0; id < v; ++id) cur[id] = {id, 0.001f * static_cast<float>(id), 0.0f};
        if (layout == 1) {
          std::swap(cur[v / 2 + 1], cur[v / 2 + 2]);
          std::swap(cur[first_green], cur[first_red]);
        }
        if (layout == 2) std::reverse(cur.begin(), cur.end());
        if (layout == 3) cur[v / 3].id = v + 5;
        llama_sampler* s = WatermarkSampler::New(wm, v, 1).value();
        llama_sampler_accept(s, 42);
        llama_sampler_accept(s, 7);
        llama_token_data_array arr{cur.data(), cur.size(), -1, false};
        llama_sampler_apply(s, &arr);
        llama_sampler_free(s);
        for (int32_t k = 0; k < v; ++k) {
          const llama_token id = cur[k].id;
          const float expect = id < v ? want[id] : 0.001f * static_cast<float>(v / 3);
          ASSERT_EQ(cur[k].logit, expect) << spec << " v=" << v << " layout " << layout << " position " << k;
        }
      }
    }
  }
}

// Few candidates take the sparse path, many the dense one; both must pick
// what the core's dense Sample picks on the same distribution.
TEST(WatermarkSamplerLayouts, SamplingPicksTheDenseTokenForAnyCandidateCount) {
  auto wm = MakeWatermarker(kGumbel);
  const int32_t v = 5000;
  for (size_t n : {1u, 40u, 300u, 4000u}) {
    for (int step = 0; step < 20; ++step) {
      std::vector<llama_token_data> cur;
      std::vector<float> dense(static_cast<size_t>(v), -std::numeric_limits<float>::infinity());
      for (size_t k = 0; k < n; ++k) {
        const auto id = static_cast<int32_t>((k * 7919 + static_cast<size_t>(step) * 31) % static_cast<size_t>(v));
        const float logit = static_cast<float>(((k + static_cast<size_t>(step)) * 2654435761u) % 1000) * 0.004f;
        cur.push_back({id, logit, 0.0f});
        dense[id] = logit;
      }
      const std::vector<int32_t> ctx = {step, 3 * step + 1};
      llama_sampler* s = WatermarkSampler::New(wm, v, 5).value();
      for (int32_t t : ctx) llama_sampler_accept(s, t);
      llama_token_data_array arr{cur.data(), cur.size(), -1, false};
      llama_sampler_apply(s, &arr);
      llama_sampler_free(s);
      uint64_t rng = 5;
      SampleWorkspace ws;
      const int32_t want = wm->Sample(ctx, dense, {}, rng, ws).value();
      ASSERT_GE(arr.selected, 0);
      EXPECT_EQ(cur[static_cast<size_t>(arr.selected)].id, want) << "n=" << n << " step " << step;
    }
  }
}

TEST(WatermarkSamplerErrors, RejectsBadArguments) {
  EXPECT_FALSE(WatermarkSampler::New(nullptr, 10, 1).ok());
  EXPECT_FALSE(WatermarkSampler::New(MakeWatermarker(kKgw), 0, 1).ok());
  EXPECT_FALSE(WatermarkSampler::Is(nullptr));
}

}  // namespace
}  // namespace telltale
