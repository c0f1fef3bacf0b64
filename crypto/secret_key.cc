#include "crypto/secret_key.h"

#include <sodium.h>

#include <cstring>
#include <mutex>

#include "common/hex.h"

namespace telltale {
namespace {
constexpr char kKeyIdLabel[] = "telltale/key-id/v1";

StatusOr<uint8_t*> AllocateGuarded() {
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  void* p = sodium_malloc(kSecretKeyBytes);
  if (p == nullptr) return Status::Internal("sodium_malloc failed to allocate key memory");
  return static_cast<uint8_t*>(p);
}
}  // namespace

Status EnsureSodiumInitialized() {
  static const int rc = sodium_init();  // C++ guarantees one thread-safe call
  if (rc < 0) return Status::Internal("libsodium failed to initialize (sodium_init)");
  return Status::Ok();
}

StatusOr<SecretKey> SecretKey::Generate() {
  SecretKey key;
  TT_ASSIGN_OR_RETURN(key.data_, AllocateGuarded());
  randombytes_buf(key.data_, kSecretKeyBytes);
  return key;
}

StatusOr<SecretKey> SecretKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSecretKeyBytes) {
    return Status::InvalidArgument("secret key must be " + std::to_string(kSecretKeyBytes) +
                                   " bytes, got " + std::to_string(bytes.size()));
  }
  SecretKey key;
  TT_ASSIGN_OR_RETURN(key.data_, AllocateGuarded());
  std::memcpy(key.data_, bytes.data(), kSecretKeyBytes);
  return key;
}

StatusOr<SecretKey> SecretKey::Clone() const { return FromBytes(bytes()); }

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    other.data_ = nullptr;
  }
  return *this;
}

SecretKey::~SecretKey() {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before unmapping
}

std::string SecretKey::KeyId() const {
  uint8_t id[kKeyIdBytes];
  crypto_generichash(id, sizeof id, reinterpret_cast<const uint8_t*>(kKeyIdLabel),
                     sizeof kKeyIdLabel - 1, data_, kSecretKeyBytes);
  return HexEncode(id);
}

}  // namespace telltale
