// Evidence bundles: everything a third party needs to check, offline, that
// a watermark key was committed before time T and that a detection report
// was made with that key (docs/provenance.md has the chain of claims).
//
// Bundle (canonical JSON + newline, "telltale-evidence/v1"):
//   keys        : log verifier key, statement signer verifier key, TSA CA PEM
//   opening     : the commitment opening (key, salt, parameters) - SECRET
//   membership  : the commitment's inclusion in its epoch commitment set
//   commitment  : inclusion bundle of the key-commitment DSSE envelope in the
//                 time-stamped checkpoint
//   timestamp   : base64 DER RFC 3161 response over that checkpoint note
//   consistency : consistency bundle from that checkpoint to the latest
//   batch       : inclusion bundle of a generation-batch envelope in the
//                 latest checkpoint, or null
//   report      : {"text": detection report file, "envelope": DSSE envelope
//                 of its detection-report statement}
//
// Because the bundle holds the opened key it is written with mode 0600.
// VerifyEvidence never stops at the first failure: it reports every link as
// verified or failed, naming it, so an auditor sees exactly which claim
// does not hold. Trust anchors passed in pin the keys; keys taken from the
// bundle itself are reported as unpinned.
// Thread-safety: reentrant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/commitment.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/signing_key.h"
#include "crypto/provenance/transparency_log.h"

namespace telltale::provenance {

struct EvidenceInputs {
  const CommitmentOpening* opening = nullptr;
  CommitmentMembership membership;
  TransparencyLog* log = nullptr;
  PublicKey log_key;
  uint64_t commitment_entry = 0;
  std::string timestamped_checkpoint;  // signed note the TSA token covers
  std::string timestamp_der;
  std::optional<uint64_t> batch_entry;
  std::string report_text;
  uint64_t report_line = 0;
  std::string tsa_ca_pem;
  const SigningKey* signer = nullptr;  // signs the detection-report statement
  std::string tool_version;
  Hash tool_sha256{};
};

struct TrustAnchors {
  std::optional<PublicKey> log_key;
  std::optional<PublicKey> signer_key;
  std::optional<std::string> tsa_ca_pem;
  std::optional<Hash> tool_sha256;  // the verifier's own digest, for comparison
};

struct Claim {
  enum class State { kVerified, kFailed, kInfo };
  std::string link;
  State state;
  std::string text;
};

struct EvidenceReport {
  std::vector<Claim> claims;
  bool AllVerified() const;
  std::string ToText() const;
};

// Builds the bundle text (canonical JSON + newline).
StatusOr<std::string> BuildEvidence(const EvidenceInputs& in);

EvidenceReport VerifyEvidence(std::string_view bundle_text, const TrustAnchors& trust);

// The detection-report statement for line `line` of a `telltale detect
// --json` output file, signed as a DSSE envelope (canonical + newline).
StatusOr<std::string> SignDetectionReport(const std::string& report_text, uint64_t line, const SigningKey& key,
                                          const std::string& tool_version, const Hash& tool_sha256);

// The JSON object on line `line` (0-based, blank lines count) of a report.
StatusOr<Json> ReportLine(const std::string& report_text, uint64_t line);

}  // namespace telltale::provenance
