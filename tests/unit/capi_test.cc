#include "capi/telltale.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

TEST(CApi, WatermarkThenDetect) {
  tt_key* key = nullptr;
  ASSERT_EQ(tt_key_generate(&key), TT_OK);
  char id[33];
  ASSERT_EQ(tt_key_id(key, id, sizeof id), TT_OK);
  EXPECT_EQ(std::strlen(id), 32u);
  const std::string spec = "kgw:gamma=0.25,delta=4";
  tt_watermarker* wm = nullptr;
  ASSERT_EQ(tt_watermarker_new(key, spec.data(), spec.size(), &wm), TT_OK);
  char canon[128];
  size_t needed = 0;
  ASSERT_EQ(tt_watermarker_spec(wm, canon, sizeof canon, &needed), TT_OK);
  EXPECT_STREQ(canon, "kgw.v1:gamma=0.25,delta=4,h=1,seeding=left,skip_repeat=false");
  EXPECT_EQ(needed, std::strlen(canon) + 1);

  tt_sample_workspace* ws = nullptr;
  ASSERT_EQ(tt_sample_workspace_new(&ws), TT_OK);
  tt_sampling_params params{TT_ABI_VERSION, sizeof(tt_sampling_params), 1.0f, 0, 1.0f};
  std::vector<int32_t> tokens = {1};
  std::vector<float> logits(1000);
  uint64_t rng = 7;
  for (int step = 0; step < 150; ++step) {
    for (size_t t = 0; t < logits.size(); ++t) logits[t] = -0.01f * static_cast<float>((t * 7919 + tokens.back()) % 1000);
    int32_t next = -1;
    ASSERT_EQ(tt_watermarker_sample(wm, tokens.data(), tokens.size(), logits.data(), logits.size(), &params, &rng, ws, &next), TT_OK);
    tokens.push_back(next);
  }
  tt_detector* det = nullptr;
  ASSERT_EQ(tt_detector_new(key, spec.data(), spec.size(), &det), TT_OK);
  tt_detect_result r{};
  r.abi_version = TT_ABI_VERSION;
  r.struct_size = sizeof r;
  std::vector<int8_t> mask(tokens.size());
  ASSERT_EQ(tt_detector_score(det, tokens.data(), tokens.size(), nullptr, &r, mask.data()), TT_OK);
  EXPECT_LT(r.log10_p, -6);
  EXPECT_EQ(r.tokens, static_cast<int64_t>(tokens.size()));
  EXPECT_EQ(mask[0], -1);
  tt_detector_free(det);
  tt_sample_workspace_free(ws);
  tt_watermarker_free(wm);
  tt_key_free(key);
}

TEST(CApi, ErrorsSetTheThreadLocalMessage) {
  tt_key* key = nullptr;
  ASSERT_EQ(tt_key_generate(&key), TT_OK);
  tt_watermarker* wm = nullptr;
  EXPECT_EQ(tt_watermarker_new(key, "kgw:gamma=2", 11, &wm), TT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tt_last_error()).find("gamma=2"), std::string::npos);
  EXPECT_EQ(wm, nullptr);
  EXPECT_EQ(tt_key_load("/nonexistent", 12, &key), TT_NOT_FOUND);
  tt_detector* det = nullptr;
  ASSERT_EQ(tt_detector_new(key, "kgw", 3, &det), TT_OK);
  tt_detect_result r{};  // abi_version 0: rejected
  int32_t tokens[] = {1, 2};
  EXPECT_EQ(tt_detector_score(det, tokens, 2, nullptr, &r, nullptr), TT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tt_last_error()).find("struct_size"), std::string::npos);
  r.abi_version = TT_ABI_VERSION;
  r.struct_size = sizeof r;
  tt_detect_options opt{TT_ABI_VERSION, sizeof opt, 7, 0, 0, nullptr, 0, 32};
  EXPECT_EQ(tt_detector_score(det, tokens, 2, &opt, &r, nullptr), TT_INVALID_ARGUMENT);
  opt.dedup = TT_DEDUP_CONTEXT_TOKEN;
  EXPECT_EQ(tt_detector_score(det, tokens, 2, &opt, &r, nullptr), TT_OK);
  EXPECT_STREQ(tt_last_error(), "");
  float logits[4] = {0, 0, 0, 0};
  EXPECT_EQ(tt_watermarker_apply(nullptr, tokens, 2, logits, 4), TT_INVALID_ARGUMENT);
  tt_detector_free(det);
  tt_key_free(key);
  tt_key_free(nullptr);
}

}  // namespace
