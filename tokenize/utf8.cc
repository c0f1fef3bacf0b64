#include "tokenize/utf8.h"

namespace telltale::tokenize {

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

namespace {
// Length of the valid sequence at s[i], or 0 when ill-formed. `*maximal`
// receives the length of the maximal subpart to replace by one U+FFFD.
size_t ValidSeqAt(std::string_view s, size_t i, size_t* maximal) {
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  unsigned char b = u[i];
  *maximal = 1;
  if (b < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= n) return 0;
    unsigned char c = u[i + k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (c < l || c > h) return 0;
    *maximal = k + 1;
  }
  return need + 1;
}
}  // namespace

size_t ValidUtf8Prefix(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    // Eight ASCII bytes at a time: the common case for English text.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    size_t maximal;
    size_t len = ValidSeqAt(s, i, &maximal);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

size_t MaximalSubpartAt(std::string_view s, size_t i) {
  size_t maximal;
  ValidSeqAt(s, i, &maximal);
  return maximal;
}

}  // namespace telltale::tokenize
