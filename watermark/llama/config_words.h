// Whitespace splitting shared by the plug-in's line-oriented config files
// (the policy file and the API-key map), so both read a line the same way.
// Thread-safety: pure. The views point into `line`, which must outlive them.
#pragma once

#include <string_view>
#include <vector>

namespace telltale {

// Words of `line` separated by runs of spaces or tabs; no quoting, no
// escapes (neither format allows spaces inside a field).
inline std::vector<std::string_view> SplitConfigWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace telltale
