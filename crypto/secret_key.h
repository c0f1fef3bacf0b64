// SecretKey: a 256-bit watermark key held in libsodium guarded memory.
//
// Ownership: a SecretKey owns its bytes; it is move-only. The memory is
// allocated with sodium_malloc (guard pages, mlock where allowed) and wiped
// with sodium_memzero/sodium_free on destruction, so key material never lands
// in swap or stays in freed heap.
// Thread-safety: const methods may be called concurrently.
// Key ids: KeyId() is BLAKE2b-128 keyed by the key over a fixed label. It is a
// PRF output, so it reveals nothing about the key, yet identifies it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace telltale {

inline constexpr size_t kSecretKeyBytes = 32;
inline constexpr size_t kKeyIdBytes = 16;

// Initializes libsodium once (thread-safe, idempotent).
Status EnsureSodiumInitialized();

class SecretKey {
 public:
  // Fresh key from libsodium's CSPRNG (randombytes_buf).
  static StatusOr<SecretKey> Generate();
  // Copies exactly kSecretKeyBytes from caller memory (which the caller wipes).
  static StatusOr<SecretKey> FromBytes(std::span<const uint8_t> bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // Deep copy into new guarded memory (for handing a key to another owner).
  StatusOr<SecretKey> Clone() const;

  std::span<const uint8_t, kSecretKeyBytes> bytes() const {
    return std::span<const uint8_t, kSecretKeyBytes>(data_, kSecretKeyBytes);
  }
  // 32 lower-case hex digits; stable across versions of Telltale.
  std::string KeyId() const;

 private:
  SecretKey() = default;
  uint8_t* data_ = nullptr;
};

}  // namespace telltale
