// ApiKeyMap parsing and loading (pure C++, label unit: also runs under
// ASan/UBSan).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/file_io.h"
#include "watermark/llama/api_key_map.h"

namespace telltale {
namespace {

constexpr const char* kAcmeKey = "sk-acme-4f1c0a9e2b7d6c35";
constexpr const char* kGlobexKey = "sk-globex-77d2a1e09c4b8f61";

TEST(ApiKeyMap, MapsKeysToTenants) {
  auto m = ApiKeyMap::Parse(std::string("telltale-llama-api-keys v1\r\n# comment\n\n") + kAcmeKey + " acme\r\n" +
                                kGlobexKey + "\tglobex\nsk-acme-second-key-0001 acme",
                            "k");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->size(), 3u);
  EXPECT_EQ(m->TenantOf(kAcmeKey).value_or("?"), "acme");
  EXPECT_EQ(m->TenantOf("sk-acme-second-key-0001").value_or("?"), "acme");
  EXPECT_EQ(m->TenantOf(kGlobexKey).value_or("?"), "globex");
  EXPECT_FALSE(m->TenantOf("sk-acme-4f1c0a9e2b7d6c3").has_value());  // a prefix is not the key
  EXPECT_FALSE(m->TenantOf("").has_value());
  EXPECT_FALSE(m->TenantOf("acme").has_value());  // tenant names are not keys
}

TEST(ApiKeyMap, RejectsBadFilesWithLineNumbersAndNeverQuotesKeys) {
  struct Case {
    std::string text;
    const char* fragment;
  } cases[] = {
      {"", "not an API-key file"},
      {"telltale-llama-api-keys v2\n", "not an API-key file"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35\n", "k:2: expected 'API_KEY TENANT'"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35 acme extra\n", "k:2: expected"},
      {"telltale-llama-api-keys v1\nshortkey acme\n", "k:2: API key has 8 characters"},
      {"telltale-llama-api-keys v1\n" + std::string(513, 'k') + " acme\n", "k:2: API key has 513"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e\x7f" "2b7d6c35 acme\n", "k:2: API key must be printable"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35 ../acme\n", "k:2: tenant '../acme' must not contain '/'"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35 a\"b\n", "k:2:"},
      {"telltale-llama-api-keys v1\nsk-acme-4f1c0a9e2b7d6c35 acme\nsk-acme-4f1c0a9e2b7d6c35 globex\n",
       "k:3: this API key is already listed"},
  };
  for (const auto& c : cases) {
    auto m = ApiKeyMap::Parse(c.text, "k");
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_NE(m.status().message().find(c.fragment), std::string::npos) << m.status().message();
    EXPECT_EQ(m.status().message().find("4f1c0a9e"), std::string::npos) << m.status().message();
  }
}

TEST(ApiKeyMap, LoadRefusesFilesOthersCanRead) {
  const auto dir = std::filesystem::temp_directory_path() / ("tt_api_keys_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "api-keys").string();
  ASSERT_TRUE(WriteFileAtomically(path, std::string("telltale-llama-api-keys v1\n") + kAcmeKey + " acme\n", 0600).ok());
  auto ok = ApiKeyMap::Load(path);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->TenantOf(kAcmeKey).value_or("?"), "acme");
  for (mode_t mode : {0640, 0604}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto bad = ApiKeyMap::Load(path);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(bad.status().message().find("chmod 600"), std::string::npos) << bad.status().message();
  }
  auto missing = ApiKeyMap::Load((dir / "missing").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto directory = ApiKeyMap::Load(dir.string());
  EXPECT_FALSE(directory.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace telltale
