// CharTables: the per-code-point facts the scan normalizer needs, derived
// once per process from ICU (Unicode properties and the confusables data of
// uspoof), so the hot loop does table lookups instead of ICU calls.
//
// Homoglyph targets (docs/spec/scan-input.md gives the exact rule): a
// non-ASCII Alphabetic code point c maps to an ASCII letter a when
//   (1) c's compatibility decomposition is <wide> or <font> and NFKC(c) = a
//       (fullwidth Ａ, mathematical 𝐀, ℎ), or
//   (2) c's script is neither Latin, Common nor Inherited and the UTS #39
//       skeleton of c equals the skeleton of a (Cyrillic а, Greek ο, ...);
//       when several ASCII letters share that skeleton ("l" for l and I),
//       the one whose case matches c's is taken, then the lowest.
// Latin-script letters (é, ı, ɑ, ß) never map by skeleton, so Turkish,
// Vietnamese or German text is not touched.
//
// Thread-safety: Get() initialises once (thread-safe static) and returns an
// immutable object.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <unicode/umachine.h>

namespace telltale::scan {

class CharTables {
 public:
  enum Flag : uint16_t {
    kIgnorable = 1 << 0,      // Default_Ignorable_Code_Point, or U+FFF9..U+FFFB
    kWordChar = 1 << 1,       // Alphabetic, a mark (Mn/Mc/Me) or a decimal digit
    kLatinLetter = 1 << 2,    // Alphabetic, Latin script, no homoglyph target
    kForeignLetter = 1 << 3,  // Alphabetic, not Latin/Common/Inherited, no target
    kEmoji = 1 << 4,          // Emoji property
    kExtPict = 1 << 5,        // Extended_Pictographic
    kEmojiModifier = 1 << 6,  // Emoji_Modifier (skin tones)
    kVirama = 1 << 7,         // canonical combining class 9
    kJoining = 1 << 8,        // Joining_Type D, L, R or C (cursive scripts)
    kVsHost = 1 << 9,         // may carry a non-emoji variation selector: not
                              // ASCII, a Latin/Greek/Cyrillic letter, a
                              // look-alike, a mark or decomposable
    kMark = 1 << 10,          // General_Category Mn, Mc or Me
  };

  static const CharTables& Get();

  uint16_t flags(UChar32 c) const {
    return c < 0x10000 ? bmp_flags_[static_cast<size_t>(c)] : SupplementaryFlags(c);
  }
  // ASCII letter that c is a look-alike of, or 0.
  char homoglyph(UChar32 c) const {
    return c < 0x10000 ? bmp_homoglyph_[static_cast<size_t>(c)] : SupplementaryHomoglyph(c);
  }
  // Number of code points with a homoglyph target (for tests and docs).
  size_t homoglyph_count() const { return homoglyph_count_; }

 private:
  CharTables();
  uint16_t SupplementaryFlags(UChar32 c) const;
  char SupplementaryHomoglyph(UChar32 c) const;

  std::vector<uint16_t> bmp_flags_;
  std::vector<char> bmp_homoglyph_;
  std::vector<std::pair<UChar32, char>> supp_homoglyph_;  // sorted
  size_t homoglyph_count_ = 0;
};

// Flags of one code point straight from ICU (what the tables cache).
uint16_t ComputeCharFlags(UChar32 c, bool has_homoglyph);

}  // namespace telltale::scan
