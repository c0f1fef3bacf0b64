#include "scan/input/path_glob.h"

#include <cstdint>
#include <vector>

namespace telltale::scan {

namespace {

// Length of the UTF-8 sequence starting at s[i] (1 for invalid bytes), so
// `?` and classes consume whole characters.
size_t CharLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

uint32_t DecodeAt(std::string_view s, size_t i, size_t n) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (n == 1) return c;
  uint32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// End of the bracket expression starting at p[i] == '[' (index of its ']'),
// or npos if unclosed.
size_t ClassEnd(std::string_view p, size_t i) {
  size_t j = i + 1;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') {
    if (p[j] == '\\') ++j;
    ++j;
  }
  return j < p.size() ? j : std::string_view::npos;
}

bool ClassMatches(std::string_view p, size_t open, size_t close, uint32_t cp) {
  size_t j = open + 1;
  bool negate = false;
  if (p[j] == '!' || p[j] == '^') { negate = true; ++j; }
  bool hit = false;
  bool first = true;
  while (j < close) {
    if (p[j] == ']' && !first) break;
    first = false;
    if (p[j] == '\\' && j + 1 < close) ++j;
    size_t n = CharLength(p, j);
    uint32_t lo = DecodeAt(p, j, n);
    j += n;
    uint32_t hi = lo;
    if (j + 1 < close && p[j] == '-') {
      size_t k = j + 1;
      if (p[k] == '\\' && k + 1 < close) ++k;
      size_t m = CharLength(p, k);
      hi = DecodeAt(p, k, m);
      j = k + m;
    }
    if (cp >= lo && cp <= hi) hit = true;
  }
  return hit != negate;
}

// Dynamic-programming matcher over (pattern index, text index), so patterns
// with many stars stay linear in |p| * |t|.
class Matcher {
 public:
  Matcher(std::string_view p, std::string_view t)
      : p_(p), t_(t), memo_((p.size() + 1) * (t.size() + 1), 0) {}
  bool Match(size_t pi, size_t ti) {
    uint8_t& m = memo_[pi * (t_.size() + 1) + ti];
    if (m != 0) return m == 2;
    bool r = Compute(pi, ti);
    m = r ? 2 : 1;
    return r;
  }

 private:
  bool Compute(size_t pi, size_t ti) {
    if (pi == p_.size()) return ti == t_.size();
    char c = p_[pi];
    if (c == '*') {
      bool dbl = pi + 1 < p_.size() && p_[pi + 1] == '*';
      if (dbl) {
        size_t after = pi + 2;
        bool starts_component = pi == 0 || p_[pi - 1] == '/';
        if (starts_component && after < p_.size() && p_[after] == '/') {
          // "**/": zero or more whole directories.
          if (Match(after + 1, ti)) return true;
          for (size_t k = ti; k < t_.size(); ++k) {
            if (t_[k] == '/' && Match(after + 1, k + 1)) return true;
          }
          return false;
        }
        // "**" elsewhere (including a trailing "/**"): any run, '/' included.
        for (size_t k = ti; k <= t_.size(); ++k) {
          if (Match(after, k)) return true;
        }
        return false;
      }
      for (size_t k = ti; k <= t_.size(); ++k) {
        if (Match(pi + 1, k)) return true;
        if (k < t_.size() && t_[k] == '/') break;
      }
      return false;
    }
    if (ti == t_.size()) return false;
    if (c == '?') {
      if (t_[ti] == '/') return false;
      return Match(pi + 1, ti + CharLength(t_, ti));
    }
    if (c == '[') {
      size_t close = ClassEnd(p_, pi);
      if (t_[ti] == '/') return false;
      size_t n = CharLength(t_, ti);
      if (!ClassMatches(p_, pi, close, DecodeAt(t_, ti, n))) return false;
      return Match(close + 1, ti + n);
    }
    if (c == '\\') {
      ++pi;
      c = p_[pi];
    }
    return t_[ti] == c && Match(pi + 1, ti + 1);
  }

  std::string_view p_, t_;
  std::vector<uint8_t> memo_;  // 0 unknown, 1 false, 2 true
};

}  // namespace

StatusOr<PathGlob> PathGlob::Compile(std::string_view pattern) {
  if (pattern.empty()) return Status::InvalidArgument("glob: empty pattern");
  PathGlob g;
  g.pattern_ = std::string(pattern);
  std::string_view p = pattern;
  while (p.substr(0, 2) == "./") p.remove_prefix(2);
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  if (p.empty()) return Status::InvalidArgument("glob '" + g.pattern_ + "': matches no path");
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (i + 1 == p.size()) return Status::InvalidArgument("glob '" + g.pattern_ + "': trailing backslash");
      ++i;
    } else if (p[i] == '[') {
      size_t close = ClassEnd(p, i);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("glob '" + g.pattern_ + "': unclosed '[' at offset " + std::to_string(i));
      }
      i = close;
    }
  }
  g.compiled_ = std::string(p);
  g.basename_only_ = g.compiled_.find('/') == std::string::npos;
  return g;
}

bool PathGlob::Matches(std::string_view relative_path) const {
  std::string_view t = relative_path;
  if (basename_only_) {
    size_t slash = t.rfind('/');
    if (slash != std::string_view::npos) t = t.substr(slash + 1);
  }
  Matcher m(compiled_, t);
  return m.Match(0, 0);
}

}  // namespace telltale::scan
