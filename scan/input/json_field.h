// JsonField: pulls one string field out of a JSON text without building a
// DOM (nlohmann SAX), for JSONL inputs.
//
// Path: dotted components ("meta.body", "messages.0.content"); a component
// made of digits indexes an array, or names an object key spelled that way.
// A key that itself contains '.' cannot be addressed (documented limit).
// Duplicate keys: the last occurrence wins, as in most JSON readers.
//
// Speed: the scanner validates JSON (RFC 8259, strict UTF-8) at several
// hundred MB/s and decodes only the wanted string, where a full SAX parse
// decodes every string; JSONL reading is otherwise bound by JSON parsing.
//
// Thread-safety: immutable after Parse; Extract() is reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace telltale::scan {

class JsonFieldPath {
 public:
  // Fails on an empty path or an empty component ("a..b").
  static StatusOr<JsonFieldPath> Parse(std::string_view dotted);

  enum class Outcome { kString, kNull, kWrongType, kMissing, kParseError };
  struct Result {
    Outcome outcome = Outcome::kMissing;
    std::string value;   // kString: the decoded string (UTF-8)
    std::string detail;  // kWrongType: JSON type name; kParseError: message
  };
  // Parses `json` (one JSON value, whitespace around it allowed) and finds
  // the field. A hand-written validating scanner does the work; any input it
  // does not accept (malformed JSON, a BOM, nesting deeper than 256) goes
  // through ExtractReference() instead, which gives the error message.
  Result Extract(std::string_view json) const;
  // The same into *out, whose storage is reused: a reader that keeps one
  // Result (and swaps the value out) allocates nothing per line once its
  // buffers have grown.
  void ExtractInto(std::string_view json, Result* out) const;
  // nlohmann's SAX parser: the reference the fast scanner must agree with
  // (tested differentially).
  Result ExtractReference(std::string_view json) const;

  const std::string& dotted() const { return dotted_; }
  const std::vector<std::string>& components() const { return components_; }

 private:
  std::string dotted_;
  std::vector<std::string> components_;
  std::vector<int64_t> indexes_;  // component as an array index, or -1
};

}  // namespace telltale::scan
