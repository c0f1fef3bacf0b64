#include "scan/input/char_tables.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace telltale::scan {

namespace {

bool IsLetterScriptAttackable(UScriptCode s) {
  return s == USCRIPT_LATIN || s == USCRIPT_GREEK || s == USCRIPT_CYRILLIC;
}

// Skeleton of one code point as UTF-8, or "" on failure.
std::string Skeleton(const USpoofChecker* sc, UChar32 c) {
  UChar in[2];
  int32_t n = 0;
  U16_APPEND_UNSAFE(in, n, c);
  UErrorCode err = U_ZERO_ERROR;
  char out[64];
  UChar buf[32];
  int32_t len = uspoof_getSkeleton(sc, 0, in, n, buf, 32, &err);
  if (U_FAILURE(err) || len > 32) return "";
  int32_t out_len = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(out, sizeof(out), &out_len, buf, len, &err);
  if (U_FAILURE(err)) return "";
  return std::string(out, static_cast<size_t>(out_len));
}

// NFKC of c if it is a single ASCII letter reached through a <wide> or
// <font> compatibility mapping, else 0.
char WideOrFontLetter(const icu::Normalizer2* nfkc, UChar32 c) {
  int32_t dt = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
  if (dt != U_DT_WIDE && dt != U_DT_FONT) return 0;
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString s(c);
  icu::UnicodeString n = nfkc->normalize(s, err);
  if (U_FAILURE(err) || n.length() != 1) return 0;
  UChar a = n.charAt(0);
  if ((a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z')) return static_cast<char>(a);
  return 0;
}

class HomoglyphBuilder {
 public:
  HomoglyphBuilder() {
    UErrorCode err = U_ZERO_ERROR;
    sc_ = uspoof_open(&err);
    nfkc_ = icu::Normalizer2::getNFKCInstance(err);
    if (U_FAILURE(err) || sc_ == nullptr || nfkc_ == nullptr) {
      // ICU data is linked in (ICU::data); failing here is a broken install.
      std::fprintf(stderr, "telltale: fatal: ICU spoof checker unavailable: %s\n", u_errorName(err));
      std::abort();
    }
    for (char a = 'A'; a <= 'z'; ++a) {
      if (a > 'Z' && a < 'a') continue;
      by_skeleton_[Skeleton(sc_, static_cast<unsigned char>(a))].push_back(a);
    }
  }
  ~HomoglyphBuilder() { uspoof_close(sc_); }

  char Target(UChar32 c) {
    if (c < 0x80 || !u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) return 0;
    if (char w = WideOrFontLetter(nfkc_, c)) return w;
    UErrorCode err = U_ZERO_ERROR;
    UScriptCode script = uscript_getScript(c, &err);
    if (U_FAILURE(err) || script == USCRIPT_LATIN || script == USCRIPT_COMMON || script == USCRIPT_INHERITED) {
      return 0;
    }
    auto it = by_skeleton_.find(Skeleton(sc_, c));
    if (it == by_skeleton_.end()) return 0;
    const std::vector<char>& cands = it->second;
    bool upper = u_isupper(c), lower = u_islower(c);
    for (char a : cands) {
      if ((upper && a >= 'A' && a <= 'Z') || (lower && a >= 'a' && a <= 'z')) return a;
    }
    return cands.front();
  }

 private:
  USpoofChecker* sc_ = nullptr;
  const icu::Normalizer2* nfkc_ = nullptr;
  std::map<std::string, std::vector<char>> by_skeleton_;
};

}  // namespace

uint16_t ComputeCharFlags(UChar32 c, bool has_homoglyph) {
  uint16_t f = 0;
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) || (c >= 0xFFF9 && c <= 0xFFFB)) f |= CharTables::kIgnorable;
  bool alpha = u_hasBinaryProperty(c, UCHAR_ALPHABETIC);
  int8_t type = u_charType(c);
  if (alpha || type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK ||
      type == U_DECIMAL_DIGIT_NUMBER) {
    f |= CharTables::kWordChar;
  }
  if (type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK) {
    f |= CharTables::kMark;
  }
  UErrorCode err = U_ZERO_ERROR;
  UScriptCode script = uscript_getScript(c, &err);
  if (U_FAILURE(err)) script = USCRIPT_UNKNOWN;
  if (alpha && !has_homoglyph) {
    if (script == USCRIPT_LATIN) {
      f |= CharTables::kLatinLetter;
    } else if (script != USCRIPT_COMMON && script != USCRIPT_INHERITED) {
      f |= CharTables::kForeignLetter;
    }
  }
  if (u_hasBinaryProperty(c, UCHAR_EMOJI)) f |= CharTables::kEmoji;
  if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC)) f |= CharTables::kExtPict;
  if (u_hasBinaryProperty(c, UCHAR_EMOJI_MODIFIER)) f |= CharTables::kEmojiModifier;
  if (u_getCombiningClass(c) == 9) f |= CharTables::kVirama;
  int32_t jt = u_getIntPropertyValue(c, UCHAR_JOINING_TYPE);
  // Look-alikes (Arabic heh for 'o') do not count: a joiner kept between two
  // of them would survive inside the Latin word step 3 makes of them.
  if (!has_homoglyph &&
      (jt == U_JT_DUAL_JOINING || jt == U_JT_LEFT_JOINING || jt == U_JT_RIGHT_JOINING || jt == U_JT_JOIN_CAUSING)) {
    f |= CharTables::kJoining;
  }
  // A non-emoji variation selector stays only after a character that no
  // later step turns into something else: not ASCII, not a Latin, Greek or
  // Cyrillic letter, not a look-alike (it becomes ASCII in step 3), not a
  // mark, and without a decomposition (NFC/NFKC could rewrite it). Otherwise
  // an attacker could hide a selector behind a fullwidth or Cherokee letter
  // that is mapped to ASCII afterwards.
  bool mark = (f & CharTables::kMark) != 0;
  if (c >= 0x80 && !(alpha && IsLetterScriptAttackable(script)) && !has_homoglyph && !mark &&
      u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE) == U_DT_NONE) {
    f |= CharTables::kVsHost;
  }
  return f;
}

CharTables::CharTables() : bmp_flags_(0x10000), bmp_homoglyph_(0x10000, 0) {
  HomoglyphBuilder builder;
  for (UChar32 c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (c >= 0x80 && u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) {
      char t = builder.Target(c);
      if (t != 0) {
        ++homoglyph_count_;
        if (c < 0x10000) {
          bmp_homoglyph_[static_cast<size_t>(c)] = t;
        } else {
          supp_homoglyph_.push_back({c, t});
        }
      }
    }
    if (c < 0x10000) bmp_flags_[static_cast<size_t>(c)] = ComputeCharFlags(c, bmp_homoglyph_[static_cast<size_t>(c)] != 0);
  }
}

const CharTables& CharTables::Get() {
  static const CharTables* tables = new CharTables();  // never destroyed: used from any thread until exit
  return *tables;
}

char CharTables::SupplementaryHomoglyph(UChar32 c) const {
  auto it = std::lower_bound(supp_homoglyph_.begin(), supp_homoglyph_.end(), std::make_pair(c, '\0'));
  return it != supp_homoglyph_.end() && it->first == c ? it->second : 0;
}

uint16_t CharTables::SupplementaryFlags(UChar32 c) const { return ComputeCharFlags(c, SupplementaryHomoglyph(c) != 0); }

}  // namespace telltale::scan
