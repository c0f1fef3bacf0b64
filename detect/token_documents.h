// Reading documents of token ids for `telltale detect`.
//
// One document per line, in either form (chosen per line):
//   - whitespace-separated non-negative integers: "17 4 9 1002"
//   - a JSON object with a "tokens" array of integers and an optional "id"
//     (string or number): {"id": "doc-7", "tokens": [17, 4, 9]}
// Blank lines are skipped (they still count for line numbers). Lines are read
// one at a time, so memory is bounded by the longest line.
//
// Errors name the source, the 1-based line and the offending field or column:
//   "tokens.txt:3: column 9: 'x1' is not a token id (0..2147483647)".
// Ownership: TokenDocumentReader owns its FILE* (except stdin) and closes it.
// Thread-safety: one reader per thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/status.h"

namespace telltale {

struct TokenDocument {
  int64_t line = 0;       // 1-based line number in the source
  std::string id;         // the JSON "id", or empty
  std::vector<int32_t> tokens;
};

class TokenDocumentReader {
 public:
  // "-" reads stdin.
  static StatusOr<TokenDocumentReader> Open(const std::string& path);
  TokenDocumentReader(TokenDocumentReader&& o) noexcept;
  TokenDocumentReader& operator=(TokenDocumentReader&&) = delete;
  TokenDocumentReader(const TokenDocumentReader&) = delete;
  ~TokenDocumentReader();

  // Reads the next document into *doc. Returns false at end of input.
  StatusOr<bool> Next(TokenDocument* doc);

  // Parses one line (exposed for tests and the Python API).
  static Status ParseLine(std::string_view line, const std::string& where, TokenDocument* doc);

 private:
  TokenDocumentReader(FILE* f, std::string name) : file_(f), name_(std::move(name)) {}
  FILE* file_ = nullptr;
  std::string name_;
  int64_t line_no_ = 0;
  char* buf_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace telltale
