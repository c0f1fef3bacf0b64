// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF.
//
// Writes into caller-owned `out` (libsodium style) so derived secrets can live
// in guarded memory. Thread-safe. Fails only if OpenSSL fails or
// out.size() > 255*32.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace telltale {

Status HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                  std::span<const uint8_t> info, std::span<uint8_t> out);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace telltale
