#include "crypto/provenance/signing_key.h"

#include <sodium.h>

#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/private_file.h"
#include "crypto/secret_key.h"

namespace telltale::provenance {
namespace {

constexpr char kMagic[] = "telltale-signing-key v1";
constexpr size_t kMaxFileBytes = 4096;

}  // namespace

Status ValidateSignerName(const std::string& name) {
  if (name.empty() || name.size() > 256) return Status::InvalidArgument("signer name must be 1 to 256 bytes");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '+') {
      return Status::InvalidArgument("signer name '" + name + "' contains whitespace, a control character or '+'");
    }
  }
  return Status::Ok();
}

StatusOr<SigningKey> SigningKey::FromSeed(const std::string& name, std::span<const uint8_t> seed) {
  TT_RETURN_IF_ERROR(ValidateSignerName(name));
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  if (seed.size() != crypto_sign_SEEDBYTES) return Status::InvalidArgument("Ed25519 seed must be 32 bytes");
  SigningKey key;
  key.secret_ = static_cast<uint8_t*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (key.secret_ == nullptr) return Status::Internal("sodium_malloc failed to allocate signing key memory");
  key.name_ = name;
  key.public_.name = name;
  if (crypto_sign_seed_keypair(key.public_.bytes.data(), key.secret_, seed.data()) != 0) {
    return Status::Internal("libsodium failed to derive an Ed25519 key pair");
  }
  return key;
}

StatusOr<SigningKey> SigningKey::Generate(const std::string& name) {
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  uint8_t seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  StatusOr<SigningKey> key = FromSeed(name, seed);
  sodium_memzero(seed, sizeof seed);
  return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : name_(std::move(other.name_)), public_(other.public_), secret_(other.secret_) {
  other.secret_ = nullptr;
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    if (secret_ != nullptr) sodium_free(secret_);  // sodium_free wipes before freeing
    name_ = std::move(other.name_);
    public_ = other.public_;
    secret_ = other.secret_;
    other.secret_ = nullptr;
  }
  return *this;
}

SigningKey::~SigningKey() {
  if (secret_ != nullptr) sodium_free(secret_);
}

std::array<uint8_t, 64> SigningKey::Sign(std::span<const uint8_t> message) const {
  std::array<uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_);
  return sig;
}

Status SigningKey::Save(const std::string& path) const {
  std::string text;
  text.reserve(1024);  // one allocation, so no unwiped copies are left behind
  text += kMagic;
  text += "\nalgorithm ed25519\nname " + name_ + "\nseed ";
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < crypto_sign_SEEDBYTES; ++i) {  // libsodium keeps the seed in the first 32 bytes
    text.push_back(kDigits[secret_[i] >> 4]);
    text.push_back(kDigits[secret_[i] & 15]);
  }
  text += "\n";
  Status s = WriteFileAtomically(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  return s;
}

StatusOr<SigningKey> LoadSigningKeyFile(const std::string& path) {
  char buf[kMaxFileBytes];
  size_t used = 0;
  Status read = ReadPrivateFile(path, "signing key file", buf, sizeof buf, &used);
  if (!read.ok()) {
    sodium_memzero(buf, sizeof buf);
    return read;
  }
  std::string_view contents(buf, used);
  auto fail = [&](const std::string& why) {
    sodium_memzero(buf, sizeof buf);
    return Status::InvalidArgument("signing key file " + path + ": " + why);
  };
  std::string_view algorithm, seed_hex;
  std::string name;
  bool saw_magic = false;
  size_t line_no = 0;
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (!saw_magic) {
      if (line != kMagic) {
        if (line.starts_with("telltale-signing-key ")) {
          sodium_memzero(buf, sizeof buf);
          return Status::Unimplemented("signing key file " + path + ": unsupported version; this build reads '" +
                                       kMagic + "'");
        }
        return fail("not a Telltale signing key file (first line must be '" + std::string(kMagic) + "')");
      }
      saw_magic = true;
      continue;
    }
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return fail("line " + std::to_string(line_no) + ": expected 'name value'");
    std::string_view field = line.substr(0, sp), value = line.substr(sp + 1);
    if (field == "algorithm" && algorithm.empty()) algorithm = value;
    else if (field == "name" && name.empty()) name = std::string(value);
    else if (field == "seed" && seed_hex.empty()) seed_hex = value;
    else return fail("line " + std::to_string(line_no) + ": unknown or duplicate field '" + std::string(field) + "'");
  }
  if (!saw_magic) return fail("empty file");
  if (algorithm != "ed25519") return fail("field 'algorithm' must be ed25519");
  if (name.empty()) return fail("missing field 'name'");
  if (seed_hex.empty()) return fail("missing field 'seed'");
  uint8_t seed[crypto_sign_SEEDBYTES];
  Status s = HexDecode(seed_hex, seed, "signing key file " + path + ": field 'seed'");
  StatusOr<SigningKey> key = s.ok() ? SigningKey::FromSeed(name, seed) : StatusOr<SigningKey>(s);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(buf, sizeof buf);
  if (!key.ok()) return key.status().WithContext("signing key file " + path);
  return key;
}

}  // namespace telltale::provenance
