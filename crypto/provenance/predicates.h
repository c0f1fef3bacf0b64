// The three Telltale in-toto predicate types (docs/provenance.md):
//
//   key-commitment   : one epoch's commitment set (root and size), subject
//                      "key-commitments/<epoch>" with digest rfc6962-sha256.
//   generation-batch : what was served to a tenant under which key
//                      commitment, scheme, model and policy; subject
//                      "responses" with the rfc6962-sha256 root of the
//                      responses' SHA-256 digests.
//   detection-report : one document's detection result, numbers that must
//                      be exact carried as decimal strings; subject the
//                      report file's sha256.
//
// Each predicate is a value struct with ToJson/FromJson. FromJson is strict
// (exact members, canonical hex, decimal strings matching
// -?D+(.D+)?(e[+-]D+)?) and names the failing field.
// Thread-safety: value types.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/sha256.h"
#include "crypto/provenance/statement.h"

namespace telltale::provenance {

inline constexpr char kKeyCommitmentPredicate[] = "https://telltale.dev/attestation/key-commitment/v1";
inline constexpr char kGenerationBatchPredicate[] = "https://telltale.dev/attestation/generation-batch/v1";
inline constexpr char kDetectionReportPredicate[] = "https://telltale.dev/attestation/detection-report/v1";

struct KeyCommitmentPredicate {
  std::string epoch;
  uint64_t set_size = 0;
  Hash set_root{};

  Statement ToStatement() const;
  static StatusOr<KeyCommitmentPredicate> FromStatement(const Statement& s);
};

struct GenerationBatchPredicate {
  std::string model, tokenizer_digest, scheme, tenant, region;
  std::string window_start, window_end;  // RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ"
  uint64_t responses = 0;
  Hash response_root{};
  Hash key_commitment{};
  std::map<std::string, std::string> policy;  // e.g. do_not_train -> "true"

  Statement ToStatement() const;
  static StatusOr<GenerationBatchPredicate> FromStatement(const Statement& s);
};

struct DetectionReportPredicate {
  uint64_t report_line = 0;  // 0-based line of the report file
  std::string scheme, key_id, dedup, alpha;
  std::string tool_version;
  Hash tool_sha256{};
  uint64_t tokens = 0, scored = 0;
  std::string score, z, p_value, log10_p;
  bool detected = false;
  Hash report_sha256{};  // the subject

  Statement ToStatement() const;
  static StatusOr<DetectionReportPredicate> FromStatement(const Statement& s);

  // Reads one `telltale detect --json` object. Numbers become decimal
  // strings (shortest round-trip form); strings must already be decimals.
  static StatusOr<DetectionReportPredicate> FromDetectJson(const Json& report);
};

Status CheckDecimalString(const std::string& s, const std::string& where);
Status CheckUtcTime(const std::string& s, const std::string& where);

}  // namespace telltale::provenance
