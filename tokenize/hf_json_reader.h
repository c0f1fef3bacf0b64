// ReadHfJson: tokenizer.json in one streaming pass (internal to the loader).
//
// A tokenizer.json is almost all model.vocab (10^5 entries) and model.merges
// (10^5-10^6). Built as a DOM, every entry became a map node and a
// heap-allocated value, and building and freeing them was half of a Llama 3
// load. Here the parser's events for those two go straight into flat arrays
// in file order; everything else (a few kB of options) becomes a DOM.
//
// Edge cases, with the DOM's meaning kept:
//  - model.vocab that is not an object, or model.merges that is not an
//    array, is left in the DOM for the loader to reject by name;
//  - a key given twice keeps its last value: a repeated "model", "vocab" or
//    "merges" replaces what came before; a repeated vocabulary key is passed
//    on each time, in file order, for the loader to keep the last;
//  - an entry of the wrong type is passed on marked as such, so that the
//    loader names it.
// Invalid JSON gives InvalidArgument with the parser's position and reason.
//
// Ownership and thread-safety: ReadHfJson is reentrant; it replaces *out,
// which the caller owns, and keeps no reference to `text`.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"
#include "common/status.h"

namespace telltale::tokenize {

struct HfVocabEntry {
  static constexpr int64_t kNotAnInteger = -1;  // any id < 0 is invalid
  std::string key;
  int64_t id = kNotAnInteger;  // as written; above INT64_MAX reads as INT64_MAX
};

struct HfMergeEntry {
  enum class Form : uint8_t { kLine, kPair, kInvalid };
  Form form = Form::kInvalid;
  std::string a;  // kLine: the whole "a b" line; kPair: the first token
  std::string b;  // kPair: the second token
};

struct HfJson {
  nlohmann::json root;  // without model.vocab / model.merges when captured below
  bool has_vocab = false;   // model.vocab was an object: its entries are in `vocab`
  bool has_merges = false;  // model.merges was an array: its entries are in `merges`
  // Huge pages: 10^5 entries, grown by doubling while parsing, whose first
  // touches were a fifth of the page faults of loading Llama 3.
  HugePageVector<HfVocabEntry> vocab;
  HugePageVector<HfMergeEntry> merges;
};

Status ReadHfJson(std::string_view text, HfJson* out);

}  // namespace telltale::tokenize
