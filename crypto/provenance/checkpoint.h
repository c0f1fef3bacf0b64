// Transparency-log checkpoints (C2SP tlog-checkpoint): the body of a signed
// note with lines "<origin>\n<tree size, decimal>\n<base64 root hash>\n",
// optionally followed by extension lines. Parsing is strict (no leading
// zeros, no sign, exactly 32 root bytes, canonical base64) so one
// checkpoint has exactly one text.
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;

  std::string Body() const;
};

StatusOr<Checkpoint> ParseCheckpointBody(std::string_view text);

// Parses a signed checkpoint note, verifies it under `log_key` and checks
// that the key's name equals the origin. Errors start with "checkpoint".
StatusOr<Checkpoint> OpenSignedCheckpoint(std::string_view note, const PublicKey& log_key);

}  // namespace telltale::provenance
