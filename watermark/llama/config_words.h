// Line and word splitting shared by the plug-in's line-oriented config files
// (the policy file and the API-key map), so both read a file the same way.
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

// Lines of `text` split at '\n', one trailing '\r' dropped from each; line
// k (0-based) is line k+1 of the file. A final '\n' yields an empty last
// line, which the formats ignore like any blank line.
inline std::vector<std::string_view> SplitConfigLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
  }
  return lines;
}

}  // namespace telltale
