// Tokenizer: exact re-tokenization with the vocabulary of a real model.
//
// Load() reads a Hugging Face tokenizer.json (BPE models), a tiktoken rank
// file (cl100k_base, o200k_base, r50k_base/gpt2, p50k_base) or a llama.cpp
// GGUF file, and reproduces the reference tokenizer's ids exactly (see
// docs/tokenize.md for the conformance test). Encode() maps every token to the
// byte range of the ORIGINAL input it came from, through UTF-8 repair and
// normalization; Decode() turns ids back into bytes.
//
// Pipeline (as in Hugging Face tokenizers): repair invalid UTF-8 (U+FFFD per
// maximal subpart, see utf8.h) -> split off added/special tokens -> normalize
// each remaining segment -> pre-tokenize into pieces -> BPE each piece.
// No BOS/EOS or other post-processing is added.
//
// Ownership and thread-safety: a Tokenizer is immutable after Load() and may
// be shared by any number of threads; Encode/Decode/EncodeBatch are
// thread-safe. Each thread keeps a bounded memo of piece -> ids for the
// tokenizer it used last (thread_local, cleared when it switches tokenizer).
// Inputs must be smaller than 4 GiB.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenize/added_tokens.h"
#include "tokenize/bpe_model.h"
#include "tokenize/normalized_text.h"
#include "tokenize/normalizer.h"
#include "tokenize/pre_tokenizer.h"

namespace telltale::tokenize {

struct TokenSpan {
  uint32_t begin, end;  // byte offsets into the original input; end >= begin
};

struct Encoding {
  std::vector<uint32_t> ids;
  std::vector<TokenSpan> offsets;  // parallel to ids
};

struct EncodeOptions {
  // true: special tokens such as <|endoftext|> in the text become their ids.
  // false: they are tokenized as ordinary text (tiktoken's encode_ordinary).
  bool match_special = true;
};

struct DecodeOptions {
  bool skip_special = false;
};

// How ids are turned back into text (from tokenizer.json's decoder).
struct DecoderRules {
  bool byte_level = false;      // token bytes are raw bytes
  std::string metaspace;        // replaced by ' ' when non-empty
  bool byte_fallback = true;    // <0xXX> tokens are bytes
  size_t strip_leading_spaces = 0;
};

class Tokenizer {
 public:
  // Detects the format from the content: GGUF magic, JSON object, or tiktoken
  // "base64 rank" lines (the encoding is named by the file name, e.g.
  // cl100k_base.tiktoken, or inferred from the vocabulary size).
  static StatusOr<std::shared_ptr<const Tokenizer>> Load(const std::string& path);
  static StatusOr<std::shared_ptr<const Tokenizer>> FromHuggingFaceJson(std::string_view json);
  static StatusOr<std::shared_ptr<const Tokenizer>> FromTiktoken(std::string_view data, const std::string& encoding);
  static StatusOr<std::shared_ptr<const Tokenizer>> FromGguf(std::string_view data);

  StatusOr<Encoding> Encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Encode into *out, replacing its contents but keeping its vectors'
  // capacity: a caller that encodes many short documents reuses one
  // Encoding and allocates nothing per document. On failure *out holds an
  // unspecified prefix of the encoding.
  Status EncodeInto(std::string_view text, Encoding* out, const EncodeOptions& options = {}) const;
  // Encodes every text on up to `threads` threads (0: hardware concurrency).
  StatusOr<std::vector<Encoding>> EncodeBatch(const std::vector<std::string_view>& texts, unsigned threads,
                                              const EncodeOptions& options = {}) const;
  // Concatenated bytes of the tokens (not necessarily valid UTF-8 when the
  // ids cut a character). Fails on an id outside the vocabulary.
  StatusOr<std::string> Decode(std::span<const uint32_t> ids, const DecodeOptions& options = {}) const;

  size_t vocab_size() const;
  const std::string& kind() const { return kind_; }  // e.g. "tokenizer.json", "tiktoken:cl100k_base"

  // Parts, set by the loaders.
  struct Parts {
    std::string kind;
    Normalizer normalizer;
    PreTokenizer pre_tokenizer;
    BpeModel model;
    AddedTokens added;
    DecoderRules decoder;
  };
  explicit Tokenizer(Parts parts);

 private:
  // Encodes text[begin, end); `repaired` is the alignment of `text` when it
  // is not the identity (invalid UTF-8 replaced), else null.
  Status EncodeSegment(std::string_view text, const NormalizedText* repaired, uint32_t begin, uint32_t end,
                       Encoding* out) const;

  std::string kind_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  BpeModel model_;
  AddedTokens added_;
  DecoderRules decoder_;
  uint64_t instance_id_;
};

}  // namespace telltale::tokenize
