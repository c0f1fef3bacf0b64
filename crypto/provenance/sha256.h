// SHA-256 through OpenSSL's EVP interface, and the length-prefix encoding
// every Telltale provenance hash input uses.
//
// Thread-safety: all functions are reentrant. Sha256 never fails on valid
// memory; an OpenSSL failure (out of memory) aborts the digest with an
// all-zero result only if EVP itself is broken, which is reported by
// Sha256Checked instead.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale::provenance {

using Hash = std::array<uint8_t, 32>;

// Incremental SHA-256 (one EVP_MD_CTX). Move-only.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  // Appends a 4-byte big-endian length, then the bytes (the "lp" encoding
  // of docs/spec/provenance.md).
  void UpdateLengthPrefixed(std::string_view data);
  void UpdateLengthPrefixed(std::span<const uint8_t> data);
  Hash Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

Hash Sha256Of(std::string_view data);
Hash Sha256Of(std::span<const uint8_t> data);

// SHA-256 of a whole file, streamed; errors name the path.
StatusOr<Hash> Sha256OfFile(const std::string& path);

std::string HashHex(const Hash& h);
// Parses 64 hex digits; `what` names the field in errors.
StatusOr<Hash> ParseHashHex(std::string_view hex, std::string_view what);

inline std::string_view AsChars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::span<const uint8_t> AsByteSpan(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace telltale::provenance
