#include "crypto/provenance/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/hex.h"

namespace telltale::provenance {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Allocation or init failure means OpenSSL itself is unusable; continuing
  // would silently produce wrong digests, so this internal invariant aborts.
  if (ctx_ == nullptr || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "telltale: OpenSSL SHA-256 initialisation failed\n");
    std::abort();
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(std::span<const uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
void Sha256::Update(std::string_view data) { Update(AsByteSpan(data)); }

void Sha256::UpdateLengthPrefixed(std::span<const uint8_t> data) {
  uint32_t n = static_cast<uint32_t>(data.size());
  uint8_t len[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                    static_cast<uint8_t>(n)};
  Update(std::span<const uint8_t>(len, 4));
  Update(data);
}
void Sha256::UpdateLengthPrefixed(std::string_view data) { UpdateLengthPrefixed(AsByteSpan(data)); }

Hash Sha256::Finish() {
  Hash out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &n);
  return out;
}

Hash Sha256Of(std::string_view data) { return Sha256Of(AsByteSpan(data)); }
Hash Sha256Of(std::span<const uint8_t> data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

StatusOr<Hash> Sha256OfFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  Sha256 h;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::Unavailable("reading " + path + " failed: " + why);
    }
    if (n == 0) break;
    h.Update(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
  }
  ::close(fd);
  return h.Finish();
}

std::string HashHex(const Hash& h) { return HexEncode(h); }

StatusOr<Hash> ParseHashHex(std::string_view hex, std::string_view what) {
  Hash h{};
  TT_RETURN_IF_ERROR(HexDecode(hex, h, what));
  return h;
}

}  // namespace telltale::provenance
