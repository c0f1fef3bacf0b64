// Normalizer: the tokenizer.json normalizers Telltale supports, applied with
// byte alignment (NormalizedText) so offsets survive normalization.
//
// Steps: NFC, NFKC, NFD, NFKD (ICU Normalizer2; text already in the form is
// detected with isNormalizedUTF8 and left untouched), Replace with a literal
// pattern, Prepend. A Sequence is flattened into its steps.
//
// Alignment: ICU's Edits tell which source span produced which output span,
// so every byte of a changed span maps to the whole source span.
//
// Thread-safety: immutable after construction; Apply() is reentrant.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tokenize/normalized_text.h"

namespace telltale::tokenize {

class Normalizer {
 public:
  enum class Kind { kNfc, kNfkc, kNfd, kNfkd, kReplace, kPrepend };
  struct Step {
    Kind kind;
    std::string from, to;  // kReplace: literal pattern and replacement; kPrepend: to
  };

  Status AddStep(Step step);
  bool empty() const { return steps_.empty(); }
  // Transforms `text` in place.
  Status Apply(NormalizedText* text) const;

 private:
  std::vector<Step> steps_;
};

}  // namespace telltale::tokenize
