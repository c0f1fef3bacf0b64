#include "watermark/llama/api_key_map.h"

#include <sodium.h>

#include <vector>

#include "crypto/key_file.h"
#include "crypto/private_file.h"
#include "watermark/llama/config_words.h"

namespace telltale {
namespace {

constexpr std::string_view kMagic = "telltale-llama-api-keys v1";
constexpr size_t kMinKeyChars = 16, kMaxKeyChars = 512;
constexpr size_t kMaxFileBytes = size_t{16} << 20;

// Wipes the file text on every return path: it holds the plaintext keys.
struct WipedString {
  std::string text;
  ~WipedString() { sodium_memzero(text.data(), text.size()); }
};

}  // namespace

Status ValidateTenantName(std::string_view tenant) {
  TT_RETURN_IF_ERROR(ValidateKeyLabel(std::string(tenant), "tenant"));
  if (tenant.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("tenant '" + std::string(tenant) + "' must not contain '/'");
  }
  return Status::Ok();
}

ApiKeyMap::Digest ApiKeyMap::DigestOf(std::string_view api_key) {
  Digest d;
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(api_key.data()), api_key.size());
  return d;
}

StatusOr<ApiKeyMap> ApiKeyMap::Load(const std::string& path) {
  WipedString file;
  file.text.resize(kMaxFileBytes + 1);
  size_t used = 0;
  TT_RETURN_IF_ERROR(ReadPrivateFile(path, "API-key file", file.text.data(), file.text.size(), &used));
  return Parse(std::string_view(file.text).substr(0, used), path);
}

StatusOr<ApiKeyMap> ApiKeyMap::Parse(std::string_view text, const std::string& origin) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  ApiKeyMap map;
  bool seen_magic = false;
  size_t line_no = 0;
  for (std::string_view line : SplitConfigLines(text)) {
    ++line_no;
    // Errors never quote a key: they may end up in logs.
    const std::string where = origin + ":" + std::to_string(line_no);
    if (!seen_magic) {
      if (line != kMagic) {
        return Status::InvalidArgument(where + ": not an API-key file (first line must be '" + std::string(kMagic) +
                                       "')");
      }
      seen_magic = true;
      continue;
    }
    std::vector<std::string_view> words = SplitConfigWords(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (words.size() != 2) return Status::InvalidArgument(where + ": expected 'API_KEY TENANT'");
    std::string_view key = words[0];
    if (key.size() < kMinKeyChars || key.size() > kMaxKeyChars) {
      return Status::InvalidArgument(where + ": API key has " + std::to_string(key.size()) +
                                     " characters; it needs 16 to 512");
    }
    for (char c : key) {
      if (c < 0x21 || c > 0x7e) {
        return Status::InvalidArgument(where + ": API key must be printable ASCII without spaces");
      }
    }
    Status valid = ValidateTenantName(words[1]);
    if (!valid.ok()) return Status::InvalidArgument(where + ": " + valid.message());
    if (!map.tenants_.emplace(DigestOf(key), std::string(words[1])).second) {
      return Status::InvalidArgument(where + ": this API key is already listed on an earlier line");
    }
  }
  if (!seen_magic) return Status::InvalidArgument(origin + ": empty API-key file");
  return map;
}

std::optional<std::string> ApiKeyMap::TenantOf(std::string_view api_key) const {
  if (api_key.empty() || api_key.size() > kMaxKeyChars) return std::nullopt;
  auto it = tenants_.find(DigestOf(api_key));
  if (it == tenants_.end()) return std::nullopt;
  return it->second;
}

}  // namespace telltale
