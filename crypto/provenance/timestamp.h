// RFC 3161 time-stamp requests and verification through OpenSSL's TS API.
//
// A request asks for a SHA-256 message imprint of the data (for Telltale, a
// signed checkpoint note), a random 64-bit nonce and the TSA certificate.
// Responses are kept as the TSA's DER TimeStampResp (the .tsr file that
// `openssl ts -reply` writes and `openssl ts -verify` reads).
//
// VerifyTimestamp checks, with OpenSSL: status granted, version, the CMS
// signature, the signer certificate chain up to the given CA with the
// timeStamping extended key usage (critical), and that the imprint is
// SHA-256 of `data`. Offline verification cannot check the nonce (the
// request is not kept); it protects only the requester against replay.
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace telltale::provenance {

struct TimestampInfo {
  std::string gen_time;    // "YYYY-MM-DDTHH:MM:SSZ" (fraction dropped)
  std::string serial;      // hex
  std::string policy;      // dotted OID
  std::string tsa_subject; // signer certificate subject, one line
};

// DER TimeStampReq for SHA-256(data).
StatusOr<std::string> CreateTimestampRequest(std::span<const uint8_t> data);

// Parses without verifying (for display).
StatusOr<TimestampInfo> InspectTimestampResponse(std::string_view response_der);

// `ca_pem`: one or more PEM certificates trusted as roots for the TSA.
StatusOr<TimestampInfo> VerifyTimestamp(std::string_view response_der, std::span<const uint8_t> data,
                                        const std::string& ca_pem);

}  // namespace telltale::provenance
