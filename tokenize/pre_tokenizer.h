// PreTokenizer: splits normalized text into pieces ("words") that the BPE
// model encodes independently, following tokenizer.json semantics.
//
// Stages (a tokenizer.json Sequence is flattened into stages; stage k > 0
// splits each piece of stage k-1 on its own, as Hugging Face does, so `$` and
// lookahead see the piece's end):
//  - Split: a Regex or a literal string, with behavior Isolated, Removed,
//    MergedWithPrevious, MergedWithNext or Contiguous, and `invert`.
//  - ByteLevel with use_regex: a Split by the GPT-2 pattern. (Byte-to-symbol
//    mapping is done by the model on raw bytes.) add_prefix_space inserts a
//    space before text that does not start with one.
//  - Metaspace: replaces ' ' with the replacement, prepends it according to
//    prepend_scheme (always / first / never) and, with split, splits before
//    each replacement. It rewrites the text, so it must be the first stage.
//
// Thread-safety: immutable after construction; Run() is reentrant given its
// own Scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tokenize/known_patterns.h"
#include "tokenize/normalized_text.h"
#include "tokenize/regex.h"

namespace telltale::tokenize {

class PreTokenizer {
 public:
  enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };
  enum class Prepend { kNever, kFirst, kAlways };

  struct Scratch {
    Regex::Scratch regex;
    std::vector<Piece> tmp;
    std::vector<std::pair<Piece, bool>> marks;
  };

  Status AddSplit(std::shared_ptr<const Regex> regex, std::string literal, Behavior behavior, bool invert);
  Status AddByteLevel(bool add_prefix_space, bool use_regex);
  Status AddMetaspace(std::string replacement, Prepend prepend, bool split);

  bool has_stages() const { return !stages_.empty(); }

  // Rewrites `text` when a first stage requires it (Metaspace, ByteLevel
  // prefix space), then cuts it into `pieces` (cleared first).
  Status Run(NormalizedText* text, Scratch* scratch, std::vector<Piece>* pieces) const;

 private:
  struct Stage {
    std::shared_ptr<const Regex> regex;  // null: literal split
    std::string literal;
    Behavior behavior = Behavior::kIsolated;
    bool invert = false;
  };
  void SplitOne(const std::string& text, Piece in, const Stage& st, Scratch* scratch, std::vector<Piece>* out) const;

  std::vector<Stage> stages_;
  // First-stage text rewrites.
  bool rewrite_ = false;
  bool prefix_space_ = false;
  std::string metaspace_;
  Prepend prepend_ = Prepend::kNever;
};

}  // namespace telltale::tokenize
