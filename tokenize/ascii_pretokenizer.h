// Hand-written matchers for the known pre-tokenizer patterns
// (known_patterns.h) on ASCII text: the general backtracking engine
// (regex.h) spends a third of English encoding time dispatching
// instructions and pushing frames for what are, in ASCII, a few byte-class
// runs.
//
// Exactness: a matcher answers only when every byte it has to look at is
// ASCII, where \p{L} is [A-Za-z], \p{Lu} [A-Z], \p{Ll} [a-z], \p{N} [0-9],
// \s [\t\n\v\f\r ] and \p{Lt}/\p{Lm}/\p{Lo}/\p{M} are empty. Whenever the
// answer could depend on a non-ASCII character (a letter run that stops at
// one, a contraction whose next byte is one, ...) it returns kUndecided and
// the caller runs the general engine from the same position. The result is
// what the general engine gives, for every input:
// tokenize/tests/ascii_pretokenizer_test.cc compares the two at every
// position of random texts.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace telltale::tokenize {

// A piece: text()[begin, end) of the NormalizedText it was cut from (the
// pre-tokenizer's output; here so that the split below can append them).
struct Piece {
  uint32_t begin, end;
};

enum class KnownPattern : uint8_t { kNone, kGpt2, kLlama3, kQwen2, kO200k, kDigits3, kDeepSeekCjk, kDeepSeek3 };

// The known pattern `pattern` is, byte for byte, or kNone.
KnownPattern RecognizePattern(std::string_view pattern);

inline constexpr int64_t kUndecided = -2;

// Length of the match of `pattern` anchored at text[pos] (text[pos] < 0x80,
// pattern != kNone; `text` is the whole subject, for lookahead at its end),
// -1 when no alternative matches there (only patterns that do not cover
// every ASCII byte: the digit groups, the CJK runs, DeepSeek-V3's last
// split), or kUndecided.
int64_t MatchKnownPatternAscii(KnownPattern pattern, std::string_view text, size_t pos);

// An isolated split on `pattern` (PreTokenizer's, not inverted) from
// text[pos], for as long as MatchKnownPatternAscii decides: appends to `out`,
// offset by `base`, the gap before each match (bytes no alternative starts
// at, pending from *gap on) and the match. Returns where it stopped:
// text.size(), a non-ASCII byte, or a byte where the matcher is undecided;
// *gap is then the start of the gap still pending. One call covers a whole
// ASCII stretch, where a call per match through the regex and a list of
// marks cost a third of pre-tokenizing English.
size_t SplitKnownPatternAscii(KnownPattern pattern, std::string_view text, size_t pos, size_t* gap, uint32_t base,
                              std::vector<Piece>* out);

}  // namespace telltale::tokenize
