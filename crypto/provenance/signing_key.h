// Ed25519 signing keys (libsodium crypto_sign_*) and their key files.
//
// File format "telltale-signing-key v1" (docs/spec/provenance.md): text
// lines "name value": algorithm ed25519, name <signer name>, seed <64 hex>.
// Files are written atomically with mode 0600; LoadSigningKeyFile refuses a
// file that group or others can read, exactly like watermark key files.
//
// Ownership: SigningKey owns its 64-byte libsodium secret key in
// sodium_malloc'ed memory that is wiped and freed on destruction; it is
// move-only and has no accessor for the secret bytes, so it cannot be
// printed or logged by accident.
// Signer names follow C2SP signed-note rules: non-empty, no whitespace and
// no '+'; they name the key in notes, envelopes and checkpoints.
// Thread-safety: const methods may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "crypto/provenance/public_key.h"

namespace telltale::provenance {

class SigningKey {
 public:
  static StatusOr<SigningKey> Generate(const std::string& name);
  // Deterministic key from a 32-byte seed (caller wipes its copy).
  static StatusOr<SigningKey> FromSeed(const std::string& name, std::span<const uint8_t> seed);

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  const std::string& name() const { return name_; }
  const PublicKey& public_key() const { return public_; }
  // Detached Ed25519 signature over `message`.
  std::array<uint8_t, 64> Sign(std::span<const uint8_t> message) const;

  Status Save(const std::string& path) const;

 private:
  SigningKey() = default;
  std::string name_;
  PublicKey public_;
  uint8_t* secret_ = nullptr;  // crypto_sign_SECRETKEYBYTES, guarded memory
};

Status ValidateSignerName(const std::string& name);

StatusOr<SigningKey> LoadSigningKeyFile(const std::string& path);

}  // namespace telltale::provenance
