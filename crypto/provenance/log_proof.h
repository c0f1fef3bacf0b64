// Offline proof bundles for the transparency log (docs/spec/provenance.md).
//
//   inclusion:   {"type": "telltale-log-inclusion/v1", "index", "entry"
//                 (base64), "proof" [hex], "checkpoint" (signed note)}
//   consistency: {"type": "telltale-log-consistency/v1", "old_checkpoint",
//                 "new_checkpoint", "proof" [hex]}
//
// Files hold RFC 8785 canonical JSON plus a newline and are parsed only in
// that form. Verification needs nothing but the bundle and the log's public
// key; each error names the failing link ("checkpoint: ...", "inclusion
// proof: ...", "consistency proof: ...").
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/checkpoint.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/transparency_log.h"

namespace telltale::provenance {

struct InclusionBundle {
  uint64_t index = 0;
  std::string entry;
  std::vector<Hash> proof;
  std::string checkpoint;  // signed note

  Json ToJson() const;
  static StatusOr<InclusionBundle> FromJson(const Json& j);
};

struct ConsistencyBundle {
  std::string old_checkpoint, new_checkpoint;
  std::vector<Hash> proof;

  Json ToJson() const;
  static StatusOr<ConsistencyBundle> FromJson(const Json& j);
};

// Proof of entry `index` against the stored checkpoint of `size` (0 = latest).
StatusOr<InclusionBundle> ProveInclusion(TransparencyLog& log, uint64_t index, uint64_t size);
// Proof between two stored checkpoints (new_size 0 = latest).
StatusOr<ConsistencyBundle> ProveConsistency(TransparencyLog& log, uint64_t old_size, uint64_t new_size);

// Returns the verified checkpoint the entry is included in.
StatusOr<Checkpoint> VerifyInclusionBundle(const InclusionBundle& b, const PublicKey& log_key);
// Returns the verified new checkpoint.
StatusOr<Checkpoint> VerifyConsistencyBundle(const ConsistencyBundle& b, const PublicKey& log_key);

// Canonical-JSON file helpers shared by every bundle type.
StatusOr<std::string> ToCanonicalFile(const Json& j);
StatusOr<Json> ParseCanonicalFile(std::string_view text, const std::string& what);

}  // namespace telltale::provenance
