#include "crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/hkdf.h"
#include "test_util.h"

namespace telltale {
namespace {

using testing::FixedKey;
using testing::TempDir;

TEST(Hkdf, Rfc5869TestCase1) {
  std::vector<uint8_t> ikm(22, 0x0b), salt, info;
  for (int i = 0; i <= 0x0c; ++i) salt.push_back(static_cast<uint8_t>(i));
  for (int i = 0xf0; i <= 0xf9; ++i) info.push_back(static_cast<uint8_t>(i));
  uint8_t okm[42];
  ASSERT_TRUE(HkdfSha256(ikm, salt, info, okm).ok());
  EXPECT_EQ(HexEncode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(SecretKey, GeneratedKeysDifferAndIdsAreStable) {
  auto a = SecretKey::Generate(), b = SecretKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->KeyId(), b->KeyId());
  EXPECT_EQ(a->KeyId().size(), 32u);
  // Pinned so the key id definition (BLAKE2b-128 keyed, docs/SPEC.md) never drifts.
  EXPECT_EQ(FixedKey(0).KeyId(), FixedKey(0).Clone()->KeyId());
  EXPECT_NE(FixedKey(0).KeyId(), FixedKey(1).KeyId());
}

TEST(KeyFile, SaveLoadRoundTripWithMode0600) {
  TempDir dir;
  KeyFile f{KeyFile::Kind::kMaster, {}, {}, FixedKey(7)};
  ASSERT_TRUE(SaveKeyFile(f, dir.File("k")).ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.File("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadKeyFile(dir.File("k"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->key.KeyId(), f.key.KeyId());
  EXPECT_EQ(loaded->kind, KeyFile::Kind::kMaster);
}

TEST(KeyFile, RefusesGroupOrWorldReadableFiles) {
  TempDir dir;
  KeyFile f{KeyFile::Kind::kMaster, {}, {}, FixedKey(7)};
  ASSERT_TRUE(SaveKeyFile(f, dir.File("k")).ok());
  ASSERT_EQ(::chmod(dir.File("k").c_str(), 0640), 0);
  auto loaded = LoadKeyFile(dir.File("k"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("mode 0640"), std::string::npos);
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
}

TEST(KeyFile, DerivedKeysAreDistinctPerLabelAndDeterministic) {
  SecretKey master = FixedKey(1);
  auto a = DeriveTenantKey(master, {"acme", "eu", "2026-11"});
  auto a2 = DeriveTenantKey(master, {"acme", "eu", "2026-11"});
  auto b = DeriveTenantKey(master, {"acme", "us", "2026-11"});
  auto c = DeriveTenantKey(master, {"acm", "eeu", "2026-11"});  // length prefixes keep these apart
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->KeyId(), a2->KeyId());
  EXPECT_NE(a->KeyId(), b->KeyId());
  EXPECT_NE(a->KeyId(), c->KeyId());
  EXPECT_NE(a->KeyId(), master.KeyId());
  EXPECT_FALSE(DeriveTenantKey(master, {"acme corp", "eu", "1"}).ok());
  EXPECT_FALSE(DeriveTenantKey(master, {"", "eu", "1"}).ok());
}

TEST(KeyFile, DerivedFileRoundTrip) {
  TempDir dir;
  SecretKey master = FixedKey(1);
  KeyFile f{KeyFile::Kind::kDerived, master.KeyId(), {"acme", "eu", "2026-11"},
            DeriveTenantKey(master, {"acme", "eu", "2026-11"}).value()};
  ASSERT_TRUE(SaveKeyFile(f, dir.File("t")).ok());
  auto loaded = LoadKeyFile(dir.File("t"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->kind, KeyFile::Kind::kDerived);
  EXPECT_EQ(loaded->labels.tenant, "acme");
  EXPECT_EQ(loaded->parent_id, master.KeyId());
  EXPECT_EQ(loaded->key.KeyId(), f.key.KeyId());
}

TEST(KeyFile, MalformedFilesNameTheProblem) {
  const std::string key = "key " + std::string(64, 'a') + "\n";
  struct Case {
    std::string text, part;
    StatusCode code = StatusCode::kInvalidArgument;
  } cases[] = {
      {"", "is empty"},
      {"hello\n", "not a Telltale key file"},
      {"telltale-key v9\n", "unsupported version", StatusCode::kUnimplemented},
      {"telltale-key v1\n" + key, "missing field 'kind'"},
      {"telltale-key v1\nkind master\n", "missing field 'key'"},
      {"telltale-key v1\nkind master\nkey abc\n", "expected 64 hex digits, got 3"},
      {"telltale-key v1\nkind master\nkey " + std::string(63, 'a') + "z\n", "non-hex character at position 63"},
      {"telltale-key v1\nkind wizard\n" + key, "must be master or derived"},
      {"telltale-key v1\nkind master\ncolour red\n" + key, "unknown field 'colour'"},
      {"telltale-key v1\nkind master\nkind master\n" + key, "duplicate field 'kind'"},
      {"telltale-key v1\nkind master\ntenant x\n" + key, "a master key has no parent"},
      {"telltale-key v1\nkind derived\n" + key, "tenant must be 1 to 128 characters"},
      {"telltale-key v1\nkindmaster\n", "expected 'name value'"},
  };
  for (const Case& c : cases) {
    auto r = ParseKeyFile(c.text, "f");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), c.code) << c.text;
    EXPECT_NE(r.status().message().find(c.part), std::string::npos) << c.text << " -> " << r.status().message();
    EXPECT_EQ(r.status().message().find(std::string(64, 'a')), std::string::npos) << "key material leaked";
  }
}

TEST(KeyFile, MissingFileIsNotFound) {
  auto r = LoadKeyFile("/nonexistent/dir/key");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(FileIo, AtomicWriteReplacesWholeFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("a"), "first").ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("a"), "second version").ok());
  EXPECT_EQ(*ReadFile(dir.File("a")), "second version");
  EXPECT_FALSE(WriteFileAtomically(dir.File("missing-dir/a"), "x").ok());
}

}  // namespace
}  // namespace telltale
