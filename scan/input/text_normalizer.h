// TextNormalizer: what `telltale scan` does to a document before
// tokenization, so that an attacker's zero-width characters and homoglyphs
// do not wipe out the watermark, while genuine text in any language passes
// unchanged and every output byte maps back to the user's bytes.
//
// Steps, in this order (docs/spec/scan-input.md defines each exactly):
//  1. strip-invisible: remove Default_Ignorable_Code_Point characters (and
//     the interlinear annotation controls U+FFF9..U+FFFB), except where they
//     carry meaning in genuine text: ZWJ inside emoji sequences, ZWJ/ZWNJ in
//     cursive and Brahmic scripts, variation selectors after emoji and
//     non-Latin/Greek/Cyrillic characters, emoji tag sequences.
//  2. NFC or NFKC (ICU Normalizer2; alignment from ICU Edits).
//  3. confusables: a look-alike of an ASCII letter (CharTables) becomes that
//     letter when its word is Latin: the word also holds a Latin letter and
//     no letter of another script without a look-alike, or the word consists
//     only of look-alikes and the nearest words around it are mostly Latin.
//     Genuine Russian, Greek or Chinese words never qualify.
// Pure-ASCII input is returned as is without any ICU work (identity
// alignment), as is any input no step changes. Invalid UTF-8 bytes pass
// through unchanged and identity-aligned (they also split words and
// normalization segments).
//
// Thread-safety: immutable after Create; Apply() is reentrant and may be
// called from many threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "tokenize/normalized_text.h"

namespace telltale::scan {

struct NormalizeOptions {
  enum class Form { kNone, kNfc, kNfkc } form = Form::kNfc;
  bool strip_invisible = true;    // Default_Ignorable_Code_Point chars (ZW space/joiners, BOM, soft hyphen, VS...)
  bool map_confusables = true;    // homoglyphs back to canonical letters (ICU confusables data)
  // Canonical, recorded in every report: the enabled steps in the fixed
  // order form, strip-invisible, confusables, comma-separated ("nfc,strip-invisible,confusables");
  // "none" when nothing is enabled.
  std::string Describe() const;
  // Inverse of Describe(); accepts the steps in any order, each at most
  // once ("nfkc,confusables", "none").
  static StatusOr<NormalizeOptions> Parse(std::string_view s);
  friend bool operator==(const NormalizeOptions&, const NormalizeOptions&) = default;
};

class TextNormalizer {
 public:
  static StatusOr<TextNormalizer> Create(const NormalizeOptions& options);
  // Normalizes raw document bytes into `out`, whose alignment maps every
  // output byte back to a byte range of `raw` (tokenize::NormalizedText with
  // base 0). Fails only for inputs of 4 GiB or more (32-bit offsets) or an
  // ICU failure.
  Status Apply(std::string_view raw, tokenize::NormalizedText* out) const;

  const NormalizeOptions& options() const { return options_; }
  // Versions of the Unicode data the result depends on, for reports:
  // "icu-72.1,unicode-15.0".
  static std::string DataVersion();

 private:
  explicit TextNormalizer(const NormalizeOptions& options) : options_(options) {}
  NormalizeOptions options_;
};

}  // namespace telltale::scan
