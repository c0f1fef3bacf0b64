// Ed25519 public keys: raw bytes, PEM SubjectPublicKeyInfo (OpenSSL
// interop), C2SP signed-note verifier keys, and signature verification.
//
// Verifier key text (C2SP signed-note): "<name>+<key id hex8>+<base64(0x01 ||
// 32-byte key)>", key id = first 4 bytes of SHA-256(name || "\n" || 0x01 ||
// key). PEM is the standard "-----BEGIN PUBLIC KEY-----" SPKI encoding of
// an Ed25519 key (RFC 8410), written and read through OpenSSL.
// Thread-safety: reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace telltale::provenance {

struct PublicKey {
  std::string name;  // signer name; may be empty for a bare PEM key
  std::array<uint8_t, 32> bytes{};

  // 4-byte C2SP key id (needs a name).
  std::array<uint8_t, 4> NoteKeyId() const;
  std::string VerifierKey() const;  // name+hex8+base64
  // "ed25519:" + SHA-256 of the raw key in hex: a name-independent fingerprint.
  std::string Fingerprint() const;
  StatusOr<std::string> ToPem() const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.bytes == b.bytes; }
};

StatusOr<PublicKey> ParseVerifierKey(const std::string& text);
StatusOr<PublicKey> PublicKeyFromPem(const std::string& pem, const std::string& name);
// Reads a file holding either a PEM public key or a verifier key line.
// `name` is used for PEM files (which carry no name).
StatusOr<PublicKey> LoadPublicKeyFile(const std::string& path, const std::string& name = "");

bool VerifyEd25519(const PublicKey& key, std::span<const uint8_t> message, std::span<const uint8_t> signature);

}  // namespace telltale::provenance
