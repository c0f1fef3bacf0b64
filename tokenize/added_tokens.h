// AddedTokens: the added/special tokens of a tokenizer, matched in raw input
// before normalization with leftmost-longest semantics (Hugging Face's
// AddedVocabulary uses Aho-Corasick LeftmostLongest the same way).
//
// Special tokens (special=true) can be matched or treated as plain text per
// call; non-special added tokens are always matched, as in the reference.
//
// Thread-safety: immutable after the last Add(); Match() is reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace telltale::tokenize {

class AddedTokens {
 public:
  struct Token {
    std::string content;
    uint32_t id;
    bool special;
  };

  void Add(Token t);
  bool empty() const { return tokens_.empty(); }
  const std::vector<Token>& tokens() const { return tokens_; }
  // Returns the index of the added token with this id, or -1.
  int32_t IndexOfId(uint32_t id) const;

  // Finds the leftmost-longest match in text[from, ...). Returns false when
  // none; otherwise sets *pos, *len and *token (index into tokens()).
  bool FindNext(std::string_view text, size_t from, bool match_special, size_t* pos, size_t* len,
                uint32_t* token) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> edges;
    int32_t token = -1;
  };
  // The bytes a match can start with, once over all tokens and once over
  // the non-special ones (match_special=false). Texts are scanned for them
  // with memchr when there is a single one (the usual '<' of "<|...|>").
  struct FirstBytes {
    bool any[256] = {};
    int count = 0;
    unsigned char only = 0;
    void Mark(unsigned char c) {
      if (!any[c] && count++ == 0) only = c;
      any[c] = true;
    }
  };
  std::vector<Token> tokens_;
  std::vector<Node> nodes_{Node{}};
  FirstBytes first_all_, first_plain_;
  std::vector<std::pair<uint32_t, int32_t>> by_id_;  // sorted (id, index)
};

}  // namespace telltale::tokenize
