// UTF-8 helpers shared by the tokenizer's matchers and normalizers.
//
// Invalid-UTF-8 policy: input is first passed through SanitizeUtf8, which
// replaces every ill-formed subsequence by U+FFFD using the "maximal subpart"
// rule of Unicode §3.9 (the rule of WHATWG TextDecoder, Node's Buffer and
// Rust's String::from_utf8_lossy). That is exactly the string the reference
// tokenizers see when they are handed the same bytes, so ids match theirs.
// Offsets still point at the original (invalid) bytes.
//
// Thread-safety: all functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace telltale::tokenize {

// Length of the UTF-8 sequence that starts with lead byte `b` (1 for
// continuation or invalid bytes, so callers always make progress). Only
// meaningful for valid UTF-8.
inline size_t Utf8SeqLen(unsigned char b) {
  if (b < 0x80) return 1;
  if (b < 0xE0) return b < 0xC0 ? 1 : 2;
  if (b < 0xF0) return 3;
  return 4;
}

// Decodes the code point at `p` of valid UTF-8 text and advances `len`.
inline char32_t DecodeUtf8(const char* p, size_t* len) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  unsigned char b = u[0];
  if (b < 0x80) { *len = 1; return b; }
  if (b < 0xE0) { *len = 2; return (char32_t(b & 0x1F) << 6) | (u[1] & 0x3F); }
  if (b < 0xF0) { *len = 3; return (char32_t(b & 0x0F) << 12) | (char32_t(u[1] & 0x3F) << 6) | (u[2] & 0x3F); }
  *len = 4;
  return (char32_t(b & 0x07) << 18) | (char32_t(u[1] & 0x3F) << 12) | (char32_t(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

// Appends the UTF-8 encoding of `c` (a valid scalar value) to `out`.
void AppendUtf8(char32_t c, std::string* out);

// Byte length of the longest valid UTF-8 prefix of `s`.
size_t ValidUtf8Prefix(std::string_view s);

// Length of the ill-formed "maximal subpart" starting at s[i] (>= 1); it is
// replaced by a single U+FFFD.
size_t MaximalSubpartAt(std::string_view s, size_t i);

}  // namespace telltale::tokenize
