// DSSE envelopes (Dead Simple Signing Envelope, v1) signed with Ed25519.
//
//   PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body
//   (len = ASCII decimal byte count, SP = 0x20)
//   envelope = {"payload": b64(body), "payloadType": type,
//               "signatures": [{"keyid": hex SHA-256(raw public key), "sig": b64}]}
//
// Envelopes are written as RFC 8785 canonical JSON plus one newline, and
// ParseEnvelope accepts only that exact form, so every byte of an envelope
// file is covered: a flipped byte either breaks canonical form, breaks the
// signature, or changes the key id (which must match the verifier).
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/signing_key.h"

namespace telltale::provenance {

inline constexpr char kInTotoPayloadType[] = "application/vnd.in-toto+json";

struct DsseSignature {
  std::string keyid;
  std::string sig;  // raw bytes
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // raw bytes
  std::vector<DsseSignature> signatures;

  // Canonical JSON plus "\n".
  StatusOr<std::string> Serialize() const;
};

std::string PreAuthEncoding(std::string_view type, std::string_view body);
// hex SHA-256 of the raw key bytes (DSSE keyid).
std::string DsseKeyId(const PublicKey& key);

DsseEnvelope SignEnvelope(std::string_view payload_type, std::string_view payload, const SigningKey& key);

// Parses the canonical envelope text; errors start with "envelope".
StatusOr<DsseEnvelope> ParseEnvelope(std::string_view text);

// OK when a signature with the key's keyid verifies over PAE.
Status VerifyEnvelope(const DsseEnvelope& envelope, const PublicKey& key);

}  // namespace telltale::provenance
