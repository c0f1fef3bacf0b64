// CharClass: a set of code points as used by pre-tokenizer patterns
// (\p{L}, \p{N}, \s, [^\r\n\p{L}\p{N}], case-insensitive literals, ...).
//
// Membership is defined by ICU character properties: general categories via
// u_charType, \s via the White_Space binary property, \d via Nd, \w via the
// UTS #18 word definition, and case-insensitive literals via simple case
// folding (u_foldCase), which is what Rust's regex and Oniguruma use.
// Build() precomputes a bitmap of the whole BMP, so matching a BMP code point
// is one bit test; supplementary code points ask ICU.
//
// Thread-safety: immutable after Build(); Matches() may be called concurrently.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace telltale::tokenize {

class CharClass {
 public:
  enum class ItemKind : uint8_t { kCategories, kWhiteSpace, kRange, kFold, kWord };
  struct Item {
    ItemKind kind;
    bool negated = false;    // \P{..}, \S, \W inside the class
    uint32_t mask = 0;       // U_GC_*_MASK bits for kCategories
    char32_t lo = 0, hi = 0; // kRange bounds; kFold uses lo
  };

  void Add(const Item& item) { items_.push_back(item); }
  void Merge(const CharClass& other) { items_.insert(items_.end(), other.items_.begin(), other.items_.end()); }
  void SetNegated(bool negated) { negated_ = negated; }
  // Case-insensitive class: c matches when c or its case variants match.
  void SetCaseInsensitive(bool ci) { case_insensitive_ = ci; }

  // Precomputes the BMP bitmap; call once after the last Add().
  void Build();

  bool Matches(char32_t c) const {
    if (c < 0x10000) return (bmp_[c >> 6] >> (c & 63)) & 1;
    return Slow(c);
  }
  // True when no non-ASCII code point can match (used for first-char filters).
  bool AsciiOnly() const;

 private:
  bool Slow(char32_t c) const;
  bool RawMatch(char32_t c) const;

  std::vector<Item> items_;
  bool negated_ = false;
  bool case_insensitive_ = false;
  std::vector<uint64_t> bmp_;
};

}  // namespace telltale::tokenize
