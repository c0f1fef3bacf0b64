// AesBlockCipher: AES-128 encryption of many independent 16-byte blocks (ECB),
// the primitive under Telltale's watermark PRF.
//
// Why our own wrapper: the watermark encrypts one block per scored token and
// ~V/64 blocks per generation step, so per-call overhead matters more than
// anything else. The key is expanded once; EncryptBlocks then runs an 8-way
// interleaved AES-NI loop with no allocation and no shared mutable state. On
// CPUs without AES-NI it falls back to OpenSSL's EVP AES-128-ECB (slower, same
// bytes). Tests pin both paths to FIPS-197 and to OpenSSL.
//
// Ownership: the expanded key lives in sodium guarded memory, wiped on
// destruction. Move-only.
// Speed: batches of 32+ blocks use VAES (AVX-512, four blocks per instruction)
// where the CPU has it, else 8-way AES-NI.
// Thread-safety: EncryptBlocks is const and safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"

namespace telltale {

inline constexpr size_t kAesBlockBytes = 16;
inline constexpr size_t kAes128KeyBytes = 16;

class AesBlockCipher {
 public:
  static StatusOr<AesBlockCipher> Create(std::span<const uint8_t, kAes128KeyBytes> key);
  // Forces the OpenSSL path even when AES-NI exists (tests and benchmarks).
  static StatusOr<AesBlockCipher> CreatePortable(std::span<const uint8_t, kAes128KeyBytes> key);

  AesBlockCipher(AesBlockCipher&& other) noexcept;
  AesBlockCipher& operator=(AesBlockCipher&& other) noexcept;
  AesBlockCipher(const AesBlockCipher&) = delete;
  AesBlockCipher& operator=(const AesBlockCipher&) = delete;
  ~AesBlockCipher();

  // out[i] = AES-128(key, in[i]) for n blocks; in and out may alias exactly.
  void EncryptBlocks(const uint8_t* in, uint8_t* out, size_t n) const;

  bool uses_aesni() const { return aesni_; }

  struct State;  // round keys (AES-NI) and the raw key (OpenSSL path)

 private:
  AesBlockCipher() = default;
  State* state_ = nullptr;
  bool aesni_ = false;
};

}  // namespace telltale
