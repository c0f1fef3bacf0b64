#include "watermark/llama/api_key_map.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "crypto/key_file.h"
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

Status ReadSecretFile(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string why = std::strerror(errno);
    if (errno == ENOENT) return Status::NotFound("API-key file " + path + ": " + why);
    return Status::PermissionDenied("API-key file " + path + ": " + why);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("API-key file " + path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied("API-key file " + path + ": mode " + mode +
                                    " lets group/others read it; run 'chmod 600 " + path + "'");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    return Status::InvalidArgument("API-key file " + path + ": larger than 16 MiB");
  }
  out.resize(static_cast<size_t>(st.st_size));
  size_t used = 0;
  while (used < out.size()) {
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::Unavailable("API-key file " + path + ": read failed: " + why);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  // A file that shrank while we read it: parse only what was read.
  out.resize(used);
  return Status::Ok();
}

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
  TT_RETURN_IF_ERROR(ReadSecretFile(path, file.text));
  return Parse(file.text, path);
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
