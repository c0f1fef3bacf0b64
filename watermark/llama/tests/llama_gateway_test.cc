// LlamaGateway: tenant resolution, opt-out policy and records.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "common/file_io.h"
#include "crypto/key_file.h"
#include "llama.h"
#include "watermark/llama/llama_gateway.h"
#include "watermark/llama/tt_llama.h"
#include "watermark/llama/watermark_sampler.h"

namespace telltale {
namespace {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tt_llama_gw_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "keys");
    for (const char* tenant : {"acme", "globex"}) {
      KeyFile f{KeyFile::Kind::kMaster, {}, {}, SecretKey::Generate().value()};
      ASSERT_TRUE(SaveKeyFile(f, (dir_ / "keys" / (std::string(tenant) + ".key")).string()).ok());
    }
    ASSERT_TRUE(WriteFileAtomically((dir_ / "policy").string(),
                                    "telltale-llama-policy v1\ntenant acme opt_out=allow\n").ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(GatewayTest, ResolvesTenantsAppliesPolicyAndRecords) {
  const std::string records = (dir_ / "records.jsonl").string();
  auto gw = LlamaGateway::Create("kgw:gamma=0.25", (dir_ / "keys").string(), (dir_ / "policy").string(), records);
  ASSERT_TRUE(gw.ok()) << gw.status().message();

  auto acme = (*gw)->Resolve("acme", true, 4096, 1);
  ASSERT_TRUE(acme.ok()) << acme.status().message();
  ASSERT_NE(acme->sampler, nullptr);
  EXPECT_TRUE(WatermarkSampler::Is(acme->sampler));
  EXPECT_FALSE(acme->selects);
  EXPECT_EQ(acme->key_id.size(), 32u);
  auto globex = (*gw)->Resolve("globex", true, 4096, 1);
  ASSERT_TRUE(globex.ok());
  EXPECT_NE(globex->key_id, acme->key_id);
  llama_sampler_free(acme->sampler);
  llama_sampler_free(globex->sampler);

  auto opted = (*gw)->Resolve("acme", false, 4096, 1);
  ASSERT_TRUE(opted.ok());
  EXPECT_EQ(opted->sampler, nullptr);
  EXPECT_EQ(opted->key_id, "");

  auto refused = (*gw)->Resolve("globex", false, 4096, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("may not opt out"), std::string::npos);

  auto unknown = (*gw)->Resolve("initech", true, 4096, 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE((*gw)->Resolve("", true, 4096, 1).ok());
  EXPECT_FALSE((*gw)->Resolve("../keys/acme", true, 4096, 1).ok());

  CompletionRecord r;
  r.tenant = "acme";
  r.key_id = "00112233445566778899aabbccddeeff";
  r.watermarked = true;
  r.prompt_tokens = 7;
  r.completion_tokens = 200;
  r.text = "abc";
  ASSERT_TRUE((*gw)->Record(r).ok());
  std::string text = ReadFile(records).value();
  EXPECT_NE(text.find("\"tenant\":\"acme\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"completion_tokens\":200"), std::string::npos) << text;
  // SHA-256("abc")
  EXPECT_NE(text.find("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(GatewayTest, ApiKeyIsAuthoritativeOverUser) {
  const std::string keys = (dir_ / "api-keys").string();
  ASSERT_TRUE(WriteFileAtomically(keys,
                                  "telltale-llama-api-keys v1\n"
                                  "sk-acme-4f1c0a9e2b7d6c35 acme\nsk-globex-77d2a1e09c4b8f61 globex\n",
                                  0600)
                  .ok());
  auto gw = LlamaGateway::Create("kgw", (dir_ / "keys").string(), (dir_ / "policy").string(), "", keys);
  ASSERT_TRUE(gw.ok()) << gw.status().message();
  EXPECT_TRUE((*gw)->has_api_keys());
  // `user` claims globex, the key is acme's: acme.
  auto t = (*gw)->Authenticate(std::string_view("sk-acme-4f1c0a9e2b7d6c35"), std::string("globex"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->value_or("?"), "acme");
  t = (*gw)->Authenticate(std::string_view("sk-globex-77d2a1e09c4b8f61"), std::nullopt);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value_or("?"), "globex");
  auto unknown = (*gw)->Authenticate(std::string_view("sk-initech-000000000000"), std::string("acme"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown API key");
  auto missing = (*gw)->Authenticate(std::nullopt, std::string("acme"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing API key"), std::string::npos);

  // The policy may let key-less requests through as anonymous, never wrong keys.
  ASSERT_TRUE(WriteFileAtomically((dir_ / "anon-policy").string(),
                                  "telltale-llama-policy v1\nanonymous requests=allow\n").ok());
  auto anon = LlamaGateway::Create("kgw", (dir_ / "keys").string(), (dir_ / "anon-policy").string(), "", keys);
  ASSERT_TRUE(anon.ok()) << anon.status().message();
  auto a = (*anon)->Authenticate(std::nullopt, std::string("acme"));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  EXPECT_FALSE((*anon)->Authenticate(std::string_view("sk-initech-000000000000"), std::nullopt).ok());

  // Without a map, `user` names the tenant as before.
  auto plain = LlamaGateway::Create("kgw", (dir_ / "keys").string(), "", "");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->has_api_keys());
  auto u = (*plain)->Authenticate(std::string_view("sk-acme-4f1c0a9e2b7d6c35"), std::string("globex"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->value_or("?"), "globex");

  ASSERT_EQ(::chmod(keys.c_str(), 0644), 0);
  auto readable = LlamaGateway::Create("kgw", (dir_ / "keys").string(), "", "", keys);
  ASSERT_FALSE(readable.ok());
  EXPECT_EQ(readable.status().code(), StatusCode::kPermissionDenied);
}

// The C ABI the server uses: struct sizes checked, 401-class failures
// flagged, the key's tenant reported.
TEST_F(GatewayTest, CAbiResolvesByApiKey) {
  const std::string keys = (dir_ / "api-keys").string();
  ASSERT_TRUE(WriteFileAtomically(keys, "telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35 acme\n", 0600).ok());
  tt_llama_gateway* gw = nullptr;
  ASSERT_EQ(tt_llama_gateway_new("kgw", (dir_ / "keys").c_str(), nullptr, nullptr, keys.c_str(), &gw), TT_OK)
      << tt_llama_last_error();
  const std::string key = "sk-acme-4f1c0a9e2b7d6c35", user = "globex";
  tt_llama_request req{};
  req.struct_size = sizeof req;
  req.api_key = key.data();
  req.api_key_len = key.size();
  req.user = user.data();
  req.user_len = user.size();
  req.watermark_requested = 1;
  req.n_vocab = 4096;
  req.seed = 1;
  tt_llama_decision out{};
  out.struct_size = sizeof out;
  ASSERT_EQ(tt_llama_gateway_resolve(gw, &req, &out), TT_OK) << tt_llama_last_error();
  EXPECT_STREQ(out.tenant, "acme");
  EXPECT_EQ(std::strlen(out.key_id), 32u);
  ASSERT_NE(out.sampler, nullptr);
  EXPECT_EQ(out.unauthenticated, 0);
  llama_sampler_free(out.sampler);

  req.api_key_len -= 1;  // a prefix of the key is not the key
  EXPECT_NE(tt_llama_gateway_resolve(gw, &req, &out), TT_OK);
  EXPECT_EQ(out.unauthenticated, 1);
  EXPECT_EQ(out.sampler, nullptr);
  EXPECT_STREQ(tt_llama_last_error(), "unknown API key");
  req.api_key = nullptr;
  EXPECT_NE(tt_llama_gateway_resolve(gw, &req, &out), TT_OK);
  EXPECT_EQ(out.unauthenticated, 1);

  req.struct_size = 8;
  EXPECT_EQ(tt_llama_gateway_resolve(gw, &req, &out), TT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tt_llama_last_error()).find("struct_size"), std::string::npos);
  tt_llama_gateway_free(gw);
}

TEST_F(GatewayTest, RejectsBadConfiguration) {
  EXPECT_FALSE(LlamaGateway::Create("nope", (dir_ / "keys").string(), "", "").ok());
  EXPECT_FALSE(LlamaGateway::Create("kgw", (dir_ / "missing").string(), "", "").ok());
  EXPECT_FALSE(LlamaGateway::Create("kgw", (dir_ / "keys").string(), (dir_ / "missing-policy").string(), "").ok());
  ASSERT_EQ(::chmod((dir_ / "keys" / "acme.key").c_str(), 0644), 0);
  auto gw = LlamaGateway::Create("kgw", (dir_ / "keys").string(), "", "");
  ASSERT_TRUE(gw.ok());
  auto r = (*gw)->Resolve("acme", true, 4096, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace telltale
