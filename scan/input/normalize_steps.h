// The three steps of TextNormalizer as functions over tokenize's
// NormalizedText (each keeps the alignment to the original bytes, and
// leaves an identity-aligned text untouched when it changes nothing).
// docs/spec/scan-input.md is the exact definition.
//
// Thread-safety: pure functions over their arguments (CharTables is
// immutable).
#pragma once

#include "common/status.h"
#include "tokenize/normalized_text.h"

namespace telltale::scan {

// True when `s` has no byte >= 0x80.
bool IsAscii(std::string_view s);

// Step 1. Returns whether anything was removed.
bool StripInvisible(tokenize::NormalizedText* t);

// Step 2. `nfkc` false = NFC. Ill-formed UTF-8 splits the text into
// segments normalized separately; the ill-formed bytes are copied.
Status NormalizeForm(bool nfkc, tokenize::NormalizedText* t, bool* changed);

// Step 3. Returns whether any homoglyph was mapped; *mark_follows tells
// whether a mapped letter is followed by a combining mark (only then can
// the result stop being NFC/NFKC, since an ASCII letter composes only with
// marks after it).
bool MapConfusables(tokenize::NormalizedText* t, bool* mark_follows);

}  // namespace telltale::scan
