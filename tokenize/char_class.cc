#include "tokenize/char_class.h"

#include <unicode/uchar.h>

namespace telltale::tokenize {

namespace {
bool IsWordChar(char32_t c) {
  // UTS #18 \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation,
  // Join_Control (as in Rust's regex crate).
  if (u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC)) return true;
  if (u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_JOIN_CONTROL)) return true;
  uint32_t m = U_MASK(u_charType(static_cast<UChar32>(c)));
  return (m & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}
}  // namespace

bool CharClass::RawMatch(char32_t c) const {
  const auto uc = static_cast<UChar32>(c);
  for (const Item& it : items_) {
    bool m = false;
    switch (it.kind) {
      case ItemKind::kCategories: m = (U_MASK(u_charType(uc)) & it.mask) != 0; break;
      case ItemKind::kWhiteSpace: m = u_hasBinaryProperty(uc, UCHAR_WHITE_SPACE) != 0; break;
      case ItemKind::kRange: m = c >= it.lo && c <= it.hi; break;
      case ItemKind::kFold:
        m = u_foldCase(uc, U_FOLD_CASE_DEFAULT) == u_foldCase(static_cast<UChar32>(it.lo), U_FOLD_CASE_DEFAULT);
        break;
      case ItemKind::kWord: m = IsWordChar(c); break;
    }
    if (m != it.negated) return true;
  }
  return false;
}

bool CharClass::Slow(char32_t c) const {
  bool m = RawMatch(c);
  if (!m && case_insensitive_) {
    const auto uc = static_cast<UChar32>(c);
    for (UChar32 v : {u_foldCase(uc, U_FOLD_CASE_DEFAULT), u_tolower(uc), u_toupper(uc), u_totitle(uc)}) {
      if (static_cast<char32_t>(v) != c && RawMatch(static_cast<char32_t>(v))) { m = true; break; }
    }
  }
  return m != negated_;
}

void CharClass::Build() {
  bmp_.assign(0x10000 / 64, 0);
  for (char32_t c = 0; c < 0x10000; ++c) {
    if (Slow(c)) bmp_[c >> 6] |= uint64_t{1} << (c & 63);
  }
}

bool CharClass::AsciiOnly() const {
  for (size_t w = 2; w < bmp_.size(); ++w) {
    if (bmp_[w]) return false;
  }
  if (negated_) return false;
  for (const Item& it : items_) {
    if (it.negated) return false;
    if (it.kind == ItemKind::kRange ? it.hi >= 0x10000 : it.kind != ItemKind::kFold) return false;
  }
  return true;
}

}  // namespace telltale::tokenize
