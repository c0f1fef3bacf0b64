#include "crypto/provenance/checkpoint.h"

#include <charconv>
#include <cstring>

#include "common/base64.h"
#include "crypto/provenance/signed_note.h"

namespace telltale::provenance {

std::string Checkpoint::Body() const {
  std::string out = origin + "\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\n";
  for (const std::string& e : extensions) out += e + "\n";
  return out;
}

StatusOr<Checkpoint> ParseCheckpointBody(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return Status::InvalidArgument("checkpoint: body must end with a newline");
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return Status::InvalidArgument("checkpoint: expected origin, size and root lines");
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return Status::InvalidArgument("checkpoint: empty origin line");
  std::string_view size = lines[1];
  if (size.empty() || (size.size() > 1 && size[0] == '0')) {
    return Status::InvalidArgument("checkpoint: tree size '" + std::string(size) + "' is not a canonical decimal");
  }
  auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (ec != std::errc() || ptr != size.data() + size.size()) {
    return Status::InvalidArgument("checkpoint: tree size '" + std::string(size) + "' is not a canonical decimal");
  }
  TT_ASSIGN_OR_RETURN(std::string root, Base64Decode(lines[2], "checkpoint: root hash"));
  if (root.size() != 32) return Status::InvalidArgument("checkpoint: root hash is not 32 bytes");
  std::memcpy(cp.root.data(), root.data(), 32);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Status::InvalidArgument("checkpoint: empty extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

StatusOr<Checkpoint> OpenSignedCheckpoint(std::string_view note, const PublicKey& log_key) {
  StatusOr<SignedNote> parsed = ParseSignedNote(note);
  if (!parsed.ok()) return parsed.status().WithContext("checkpoint");
  Status sig = VerifySignedNote(*parsed, log_key);
  if (!sig.ok()) return sig.WithContext("checkpoint");
  TT_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpointBody(parsed->text));
  if (cp.origin != log_key.name) {
    return Status::InvalidArgument("checkpoint: origin '" + cp.origin + "' differs from the log key name '" +
                                   log_key.name + "'");
  }
  return cp;
}

}  // namespace telltale::provenance
