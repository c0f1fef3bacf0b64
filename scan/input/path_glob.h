// PathGlob: shell-style globs for --include/--exclude.
//
// Syntax: `*` any run of characters except '/'; `?` one character (a whole
// UTF-8 sequence) except '/'; `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` one
// character from (or not from) a set, never '/' (a ']' right after the
// opening bracket or '!' is literal); `**` as a whole path component
// ("**/x", "a/**", "a/**/b") matches zero or more directories, elsewhere it
// matches any run including '/'; `\x` matches x literally.
// A pattern without '/' matches the last path component (the file or
// directory name) at any depth, as in .gitignore; a pattern with '/' matches
// the whole relative path ("./" and a leading '/' are ignored).
//
// Thread-safety: immutable after Compile; Matches() is reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale::scan {

class PathGlob {
 public:
  // Fails (InvalidArgument) on an empty pattern, an unclosed '[' or a
  // trailing '\'.
  static StatusOr<PathGlob> Compile(std::string_view pattern);
  // `relative_path` uses '/' separators, no leading "./".
  bool Matches(std::string_view relative_path) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;   // as given
  std::string compiled_;  // leading "./" or "/" removed
  bool basename_only_ = false;
};

}  // namespace telltale::scan
