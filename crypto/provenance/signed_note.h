// C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a
// newline, a blank line, then one or more signature lines
//   "\u2014 <name> <base64(key id (4 bytes) || Ed25519 signature)>\n".
// The signed message is the text, including its final newline.
//
// Verification requires at least one signature by the given verifier key;
// signature lines from other keys are ignored (as the spec allows), but a
// line that names the verifier's name and key id and does not verify is an
// error. Parsing is strict: no control characters in the text other than
// newline, at most 100 signature lines and 1 MiB in all.
// Thread-safety: reentrant.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/signing_key.h"

namespace telltale::provenance {

struct NoteSignature {
  std::string name;
  std::array<uint8_t, 4> key_id{};
  std::string signature;  // raw bytes after the key id
};

struct SignedNote {
  std::string text;
  std::vector<NoteSignature> signatures;
};

StatusOr<SignedNote> ParseSignedNote(std::string_view note);

// Returns the complete note: text, blank line, one signature line.
StatusOr<std::string> SignNote(std::string_view text, const SigningKey& key);

// OK when a signature by `verifier` (name, key id and key) verifies.
Status VerifySignedNote(const SignedNote& note, const PublicKey& verifier);

}  // namespace telltale::provenance
