// Regex: the pre-tokenizer pattern language of tokenizer.json / tiktoken /
// llama.cpp, with the exact (Perl/Oniguruma/fancy-regex) backtracking
// semantics those implementations give it.
//
// Supported syntax: literals and escapes (\r \n \t \f \v \\ \- ...), '.',
// classes [...] / [^...] with ranges, \p{..}/\P{..} general categories
// (L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So
// Z Zs Zl Zp C Cc Cf Co Cn and long names such as Letter), \s \S \d \D \w \W,
// groups (...), (?:...), (?i:...), (?i), lookahead (?=...) (?!...), anchors ^ $,
// quantifiers ? * + {m} {m,} {m,n}, each greedy or possessive (a trailing '+').
// Lazy quantifiers and lookbehind are rejected at compile time with a clear
// error, never approximated.
//
// Matching: the top-level alternatives are compiled to separate programs for
// a tiny backtracking VM whose repeat instruction consumes a run of one class
// in a tight loop; each alternative also carries a first-byte filter so the
// common case tries one or two alternatives per position.
//
// Thread-safety: a compiled Regex is immutable; MatchAt() is reentrant (it
// uses a caller-provided scratch stack).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenize/ascii_pretokenizer.h"
#include "tokenize/char_class.h"

namespace telltale::tokenize {

class Regex {
 public:
  struct Frame {
    uint32_t pc;
    uint32_t pos;
    uint32_t min_pos;  // for kind 1: the shortest position the repeat may retreat to
    uint32_t kind;     // 0: resume at pc/pos; 1: retreat a greedy repeat by one code point
  };
  using Scratch = std::vector<Frame>;

  static StatusOr<std::shared_ptr<const Regex>> Compile(std::string_view pattern);

  // Length of the match anchored at text[pos], or -1 when none. `text` must be
  // valid UTF-8 and is the whole subject (for $ and lookahead at its end).
  // A known pattern (known_patterns.h) at an ASCII byte is first tried by
  // its hand-written matcher (ascii_pretokenizer.h).
  int64_t MatchAt(std::string_view text, size_t pos, Scratch* scratch) const;
  // The same, by the backtracking engine alone (what the fast path is
  // tested against).
  int64_t MatchAtGeneral(std::string_view text, size_t pos, Scratch* scratch) const;
  // The known pattern this one is byte for byte, or KnownPattern::kNone.
  KnownPattern known_pattern() const { return known_; }
  // True when no non-empty match can start at ASCII byte `b`, so a search
  // can step over it without calling MatchAt.
  bool CannotStartWith(unsigned char b) const { return b < 0x80 && ((start_ascii_[b >> 6] >> (b & 63)) & 1) == 0; }

  const std::string& pattern() const { return pattern_; }

  enum class Op : uint8_t { kClass, kSplit, kJmp, kLook, kNegLook, kAtomic, kBegin, kEnd, kMatch };
  struct Inst {
    Op op;
    bool possessive = false;
    uint32_t cls = 0;          // kClass: index into classes_
    uint32_t min = 1, max = 1; // kClass repetition bounds (max UINT32_MAX = unbounded)
    uint32_t x = 0, y = 0;     // kSplit: preferred / alternative; kJmp, kLook, kAtomic: x
    // kSplit: first-character filter of branch x (skip straight to y when
    // the next character cannot start x), so failing alternatives such as
    // the contraction group cost one bit test instead of a backtrack frame.
    uint64_t first_x[2] = {~uint64_t{0}, ~uint64_t{0}};
    bool first_x_non_ascii = true;
    bool x_nullable = true;
  };
  struct Alternative {
    uint32_t start;
    uint64_t first_ascii[2];  // ASCII bytes the alternative can start with
    bool first_non_ascii;     // may start with a non-ASCII code point
  };

 private:
  friend class RegexCompiler;
  bool Run(std::string_view text, uint32_t pc, size_t pos, size_t* end, Scratch* st) const;

  std::string pattern_;
  std::vector<CharClass> classes_;
  std::vector<Inst> code_;
  std::vector<Alternative> alts_;
  uint64_t start_ascii_[2] = {~uint64_t{0}, ~uint64_t{0}};  // union of the alternatives' first_ascii
  KnownPattern known_ = KnownPattern::kNone;
};

}  // namespace telltale::tokenize
