// ApiKeyMap: which tenant an API key belongs to (llama-server --tt-api-keys).
//
// File format "telltale-llama-api-keys v1" (docs/llama.md, API-key map):
// text, first line the magic, then one `API_KEY TENANT` pair per line; '#'
// starts a comment line, blank lines are ignored, a trailing '\r' is dropped.
//
//   telltale-llama-api-keys v1
//   sk-acme-4f1c0a9e2b7d6c35 acme
//   sk-globex-77d2a1e09c4b8f61 globex
//
// API keys are 16..512 printable ASCII characters without spaces (what fits
// an `Authorization: Bearer` header; the minimum keeps trivially guessable
// keys out). Tenants follow the gateway's tenant rules (ValidateKeyLabel,
// no '/'). A tenant may have several keys; a key naming two tenants (or the
// same one twice) is an error with file:line. The file holds secrets, so
// Load refuses one that group or others can read, like key files.
//
// Only SHA-256 digests of the keys are kept in memory, and lookups compare
// digests, so the keys themselves do not stay in the process and the
// lookup time does not depend on how much of a wrong key matches.
// Thread-safety: a value type; const methods may run concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale {

class ApiKeyMap {
 public:
  ApiKeyMap() = default;
  static StatusOr<ApiKeyMap> Load(const std::string& path);
  // `origin` names the source in errors.
  static StatusOr<ApiKeyMap> Parse(std::string_view text, const std::string& origin);

  // The tenant of `api_key`, or nullopt for an unknown key.
  std::optional<std::string> TenantOf(std::string_view api_key) const;
  size_t size() const { return tenants_.size(); }

 private:
  using Digest = std::array<uint8_t, 32>;
  static Digest DigestOf(std::string_view api_key);
  std::map<Digest, std::string> tenants_;
};

// The checks the gateway applies to a tenant name: a key label without '/',
// so that <keys_dir>/<tenant>.key names a file directly inside keys_dir.
Status ValidateTenantName(std::string_view tenant);

}  // namespace telltale
