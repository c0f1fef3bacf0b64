// Standard base64 (RFC 4648 section 4, with padding), as used by DSSE
// envelopes, signed notes, checkpoints and tiktoken rank files.
//
// Decoding is strict: only the standard alphabet, correct padding, no
// whitespace, and zero unused bits, so every byte string has exactly one
// accepted encoding. That matters for tamper evidence: a flipped byte in an
// encoded field can never decode to the same bytes.
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale {

std::string Base64Encode(std::span<const uint8_t> data);
std::string Base64Encode(std::string_view data);

// `what` names the field in the error message.
StatusOr<std::string> Base64Decode(std::string_view text, std::string_view what);

}  // namespace telltale
