#include "crypto/aes_block_cipher.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "common/hex.h"

namespace telltale {
namespace {

TEST(AesBlockCipher, Fips197AppendixC1) {
  uint8_t key[16], pt[16], ct[16];
  ASSERT_TRUE(HexDecode("000102030405060708090a0b0c0d0e0f", key, "key").ok());
  ASSERT_TRUE(HexDecode("00112233445566778899aabbccddeeff", pt, "pt").ok());
  for (bool portable : {false, true}) {
    auto c = portable ? AesBlockCipher::CreatePortable(std::span<const uint8_t, 16>(key))
                      : AesBlockCipher::Create(std::span<const uint8_t, 16>(key));
    ASSERT_TRUE(c.ok());
    c->EncryptBlocks(pt, ct, 1);
    EXPECT_EQ(HexEncode(ct), "69c4e0d86a7b0430d8cdb78070b4c55a") << "portable=" << portable;
  }
}

TEST(AesBlockCipher, AesNiMatchesOpenSslOnEveryBatchSize) {
  std::mt19937_64 rng(42);
  uint8_t key[16];
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  auto fast = AesBlockCipher::Create(std::span<const uint8_t, 16>(key));
  auto ref = AesBlockCipher::CreatePortable(std::span<const uint8_t, 16>(key));
  ASSERT_TRUE(fast.ok() && ref.ok());
  for (size_t n : {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 1000, 1023}) {  // AES-NI, VAES and their tails
    std::vector<uint8_t> in(16 * n), a(16 * n), b(16 * n);
    for (auto& v : in) v = static_cast<uint8_t>(rng());
    fast->EncryptBlocks(in.data(), a.data(), n);
    ref->EncryptBlocks(in.data(), b.data(), n);
    EXPECT_EQ(a, b) << "n=" << n;
    fast->EncryptBlocks(in.data(), in.data(), n);  // in place
    EXPECT_EQ(in, b) << "in place, n=" << n;
  }
}

}  // namespace
}  // namespace telltale
