#include "crypto/provenance/public_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <cstring>
#include <memory>

#include "common/file_io.h"
#include "common/hex.h"
#include "common/base64.h"
#include "crypto/provenance/sha256.h"
#include "crypto/secret_key.h"

namespace telltale::provenance {
namespace {
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
}  // namespace

std::array<uint8_t, 4> PublicKey::NoteKeyId() const {
  Sha256 h;
  h.Update(name);
  h.Update(std::string_view("\n\x01", 2));
  h.Update(bytes);
  Hash d = h.Finish();
  return {d[0], d[1], d[2], d[3]};
}

std::string PublicKey::VerifierKey() const {
  std::string raw(1, '\x01');
  raw.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return name + "+" + HexEncode(NoteKeyId()) + "+" + Base64Encode(raw);
}

std::string PublicKey::Fingerprint() const { return "ed25519:" + HashHex(Sha256Of(bytes)); }

StatusOr<std::string> PublicKey::ToPem() const {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes.data(), bytes.size()));
  if (!pkey) return Status::Internal("OpenSSL could not wrap the Ed25519 public key");
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return Status::Internal("OpenSSL could not write the PEM public key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

StatusOr<PublicKey> ParseVerifierKey(const std::string& text) {
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string::npos) {
    return Status::InvalidArgument("verifier key '" + text + "': expected name+keyid+base64key");
  }
  PublicKey key;
  key.name = text.substr(0, p1);
  std::string id_hex = text.substr(p1 + 1, p2 - p1 - 1);
  TT_ASSIGN_OR_RETURN(std::string raw, Base64Decode(text.substr(p2 + 1), "verifier key " + key.name));
  if (raw.size() != 33 || raw[0] != '\x01') {
    return Status::InvalidArgument("verifier key " + key.name + ": not an Ed25519 key (type 0x01, 32 bytes)");
  }
  std::memcpy(key.bytes.data(), raw.data() + 1, 32);
  std::array<uint8_t, 4> id{};
  TT_RETURN_IF_ERROR(HexDecode(id_hex, id, "verifier key " + key.name + ": key id"));
  if (id != key.NoteKeyId()) {
    return Status::InvalidArgument("verifier key " + key.name + ": key id " + id_hex +
                                   " does not match the key (expected " + HexEncode(key.NoteKeyId()) + ")");
  }
  return key;
}

StatusOr<PublicKey> PublicKeyFromPem(const std::string& pem, const std::string& name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("OpenSSL could not allocate a buffer");
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return Status::InvalidArgument("not a PEM SubjectPublicKeyInfo public key");
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument("PEM public key is not Ed25519");
  }
  PublicKey key;
  key.name = name;
  size_t len = key.bytes.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.bytes.data(), &len) != 1 || len != 32) {
    return Status::InvalidArgument("PEM public key: cannot extract the raw Ed25519 key");
  }
  return key;
}

StatusOr<PublicKey> LoadPublicKeyFile(const std::string& path, const std::string& name) {
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 16));
  StatusOr<PublicKey> key = text.find("-----BEGIN") != std::string::npos
                                ? PublicKeyFromPem(text, name)
                                : ParseVerifierKey(text.substr(0, text.find_last_not_of("\r\n") + 1));
  if (!key.ok()) return key.status().WithContext("public key file " + path);
  return key;
}

bool VerifyEd25519(const PublicKey& key, std::span<const uint8_t> message, std::span<const uint8_t> signature) {
  if (!EnsureSodiumInitialized().ok() || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

}  // namespace telltale::provenance
