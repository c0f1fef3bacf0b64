#include "tokenize/ascii_pretokenizer.h"

#include "tokenize/known_patterns.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace telltale::tokenize {

namespace {

// ASCII classes. Each is false for every byte >= 0x80.
bool IsLetter(unsigned char c) { return static_cast<unsigned>((c | 0x20) - 'a') < 26u; }
bool IsUpper(unsigned char c) { return static_cast<unsigned>(c - 'A') < 26u; }
bool IsLower(unsigned char c) { return static_cast<unsigned>(c - 'a') < 26u; }
bool IsDigit(unsigned char c) { return static_cast<unsigned>(c - '0') < 10u; }
bool IsSpace(unsigned char c) { return c == ' ' || static_cast<unsigned>(c - '\t') < 5u; }
// [^\s\p{L}\p{N}]
bool IsOther(unsigned char c) { return c < 0x80 && !IsSpace(c) && !IsLetter(c) && !IsDigit(c); }
bool IsNewline(unsigned char c) { return c == '\r' || c == '\n'; }

struct Subject {
  const unsigned char* s;
  size_t n;
};

// End of the run of `in` bytes from i, or kUndecided when the run stops at
// a non-ASCII byte, which the Unicode class may contain.
template <class In>
int64_t RunEnd(Subject t, size_t i, In in) {
  while (i < t.n && in(t.s[i])) ++i;
  if (i < t.n && t.s[i] >= 0x80) return kUndecided;
  return static_cast<int64_t>(i);
}

// RunEnd(t, i, IsLetter), 16 bytes at a time: a word is one step, and the
// byte loop's exit, mispredicted about once per word, was the largest cost
// of pre-tokenizing English.
int64_t LetterRunEnd(Subject t, size_t i) {
#if defined(__SSE2__)
  // (c | 0x20) - 'a' < 26 as unsigned bytes, compared signed after flipping
  // the top bit; false for every byte >= 0x80, like IsLetter.
  const __m128i fold = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a');
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80)), limit = _mm_set1_epi8(static_cast<char>(26 - 128));
  while (i + 16 <= t.n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.s + i));
    const __m128i x = _mm_xor_si128(_mm_sub_epi8(_mm_or_si128(v, fold), a), flip);
    const unsigned other = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(x, limit))) & 0xFFFFu;
    if (other != 0) {
      i += static_cast<size_t>(__builtin_ctz(other));
      return t.s[i] >= 0x80 ? kUndecided : static_cast<int64_t>(i);
    }
    i += 16;
  }
#endif
  return RunEnd(t, i, IsLetter);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its length, 0 if none, or kUndecided
// when a byte it depends on is non-ASCII (U+017F folds to 's', for one).
int64_t ContractionFolded(Subject t, size_t i) {
  if (i >= t.n || t.s[i] != '\'') return 0;
  if (i + 1 >= t.n) return 0;
  const unsigned char c1 = t.s[i + 1];
  if (c1 >= 0x80) return kUndecided;
  if (!IsLetter(c1)) return 0;
  unsigned char want;
  switch (c1 | 0x20) {
    case 's': case 't': case 'm': case 'd': return 2;
    case 'r': case 'v': want = 'e'; break;
    case 'l': want = 'l'; break;
    default: return 0;
  }
  if (i + 2 >= t.n) return 0;
  const unsigned char c2 = t.s[i + 2];
  if (c2 >= 0x80) return kUndecided;
  return IsLetter(c2) && (c2 | 0x20) == want ? 3 : 0;
}

// 's|'t|'re|'ve|'m|'ll|'d, case-sensitive: ASCII literals never match a
// non-ASCII byte, so this one always decides.
int64_t ContractionExact(Subject t, size_t i) {
  if (i + 1 >= t.n || t.s[i] != '\'') return 0;
  const unsigned char c1 = t.s[i + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (i + 2 >= t.n) return 0;
  const unsigned char c2 = t.s[i + 2];
  return ((c1 == 'r' || c1 == 'v') && c2 == 'e') || (c1 == 'l' && c2 == 'l') ? 3 : 0;
}

// The shared tail of every pattern: \s*[\r\n]+ (unless `newline_group` is
// false, as in GPT-2), then \s+(?!\S), then \s+, at a whitespace byte.
int64_t Whitespace(Subject t, size_t pos, bool newline_group) {
  const int64_t end = RunEnd(t, pos, IsSpace);
  if (end == kUndecided) return kUndecided;
  const size_t e = static_cast<size_t>(end);
  if (newline_group) {
    // \s* backs off from the run's end to just before its last newline;
    // [\r\n]+ then takes that newline (the next byte is no newline).
    for (size_t k = e; k > pos; --k) {
      if (IsNewline(t.s[k - 1])) return static_cast<int64_t>(k - pos);
    }
  }
  // \s+(?!\S): the whole run at the subject's end, else all but its last
  // byte, which then is the whitespace the lookahead sees.
  if (e == t.n) return static_cast<int64_t>(e - pos);
  if (e - pos >= 2) return static_cast<int64_t>(e - 1 - pos);
  return 1;  // \s+
}

// ` ?[^\s\p{L}\p{N}]+` followed by a run of `tail` bytes, when the byte
// after the optional space is one of the class; 0 when it is not.
template <class Tail>
int64_t Punctuation(Subject t, size_t pos, Tail tail) {
  const size_t j = pos + (t.s[pos] == ' ' ? 1 : 0);
  if (j >= t.n) return 0;
  if (t.s[j] >= 0x80) return kUndecided;
  if (!IsOther(t.s[j])) return 0;  // with the space taken or not, the class needs t.s[j]
  const int64_t end = RunEnd(t, j, IsOther);
  if (end == kUndecided) return kUndecided;
  size_t e = static_cast<size_t>(end);
  while (e < t.n && tail(t.s[e])) ++e;  // ASCII-only classes: a non-ASCII byte just ends them
  return static_cast<int64_t>(e - pos);
}

// \p{N}{1,max} at a digit.
int64_t Digits(Subject t, size_t pos, size_t max) {
  size_t i = pos + 1;
  while (i < t.n && i - pos < max && IsDigit(t.s[i])) ++i;
  if (i - pos < max && i < t.n && t.s[i] >= 0x80) return kUndecided;
  return static_cast<int64_t>(i - pos);
}

// [^\r\n\p{L}\p{N}]? : where the letters start. The optional class takes
// t.s[pos] when it can; if the letters then fail, giving it back leaves them
// at t.s[pos], which is no letter either, so there is one start to try.
size_t LetterStart(Subject t, size_t pos) {
  const unsigned char c = t.s[pos];
  return IsLetter(c) || IsDigit(c) || IsNewline(c) ? pos : pos + 1;
}

// (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
int64_t Llama3(Subject t, size_t pos, size_t max_digits) {
  const unsigned char c0 = t.s[pos];
  if (c0 == '\'') {
    const int64_t c = ContractionFolded(t, pos);
    if (c != 0) return c;
  }
  const size_t j = LetterStart(t, pos);
  if (j < t.n) {
    if (t.s[j] >= 0x80) return kUndecided;
    if (IsLetter(t.s[j])) {
      const int64_t end = LetterRunEnd(t, j);
      return end == kUndecided ? end : end - static_cast<int64_t>(pos);
    }
  }
  if (IsDigit(c0)) return Digits(t, pos, max_digits);
  const int64_t p = Punctuation(t, pos, IsNewline);
  if (p != 0) return p;
  if (IsSpace(c0)) return Whitespace(t, pos, true);
  return kUndecided;  // unreachable for ASCII: every byte starts some alternative
}

// [^\r\n\p{L}\p{N}]?[\p{Lu}..]*[\p{Ll}..]+(?i:'s|...)?
// |[^\r\n\p{L}\p{N}]?[\p{Lu}..]+[\p{Ll}..]*(?i:'s|...)?
// |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
int64_t O200k(Subject t, size_t pos) {
  const unsigned char c0 = t.s[pos];
  const size_t j = LetterStart(t, pos);
  if (j < t.n) {
    if (t.s[j] >= 0x80) return kUndecided;
    if (IsLetter(t.s[j])) {
      // Upper-case run, then: a lower-case run (first alternative; backing
      // the upper-case run off only puts an upper-case letter where the
      // lower-case run must start), or nothing (second alternative, which
      // needs the upper-case run non-empty: it is, as t.s[j] is a letter
      // and not lower-case there).
      const int64_t upper = RunEnd(t, j, IsUpper);
      if (upper == kUndecided) return kUndecided;
      int64_t end = upper;
      if (static_cast<size_t>(upper) < t.n && IsLower(t.s[upper])) {
        end = RunEnd(t, static_cast<size_t>(upper), IsLower);
        if (end == kUndecided) return kUndecided;
      }
      const int64_t c = ContractionFolded(t, static_cast<size_t>(end));
      if (c == kUndecided) return kUndecided;
      return end + c - static_cast<int64_t>(pos);
    }
  }
  if (IsDigit(c0)) return Digits(t, pos, 3);
  const int64_t p = Punctuation(t, pos, [](unsigned char c) { return IsNewline(c) || c == '/'; });
  if (p != 0) return p;
  if (IsSpace(c0)) return Whitespace(t, pos, true);
  return kUndecided;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
int64_t Gpt2(Subject t, size_t pos) {
  const unsigned char c0 = t.s[pos];
  if (c0 == '\'') {
    const int64_t c = ContractionExact(t, pos);
    if (c != 0) return c;
  }
  const size_t j = pos + (c0 == ' ' ? 1 : 0);
  if (j < t.n) {
    const unsigned char cj = t.s[j];
    if (cj >= 0x80) return kUndecided;
    int64_t end = 0;
    if (IsLetter(cj)) end = LetterRunEnd(t, j);
    else if (IsDigit(cj)) end = RunEnd(t, j, IsDigit);
    else if (IsOther(cj)) end = RunEnd(t, j, IsOther);
    if (end == kUndecided) return kUndecided;
    if (end != 0) return end - static_cast<int64_t>(pos);
  }
  if (IsSpace(c0)) return Whitespace(t, pos, false);
  return kUndecided;
}

// [\p{P}\p{S}] in ASCII: every printable byte that is no letter or digit
// (the 32 that DeepSeek-V3's first alternative also lists).
bool IsPunctOrSymbol(unsigned char c) { return c > 0x20 && c < 0x7F && !IsLetter(c) && !IsDigit(c); }

// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
// |[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
int64_t DeepSeek3(Subject t, size_t pos) {
  const unsigned char c0 = t.s[pos];
  const bool punct = IsPunctOrSymbol(c0);
  // First alternative: its classes are ASCII ranges, so a non-ASCII byte
  // just ends (or fails) it.
  if (punct && pos + 1 < t.n && IsLetter(t.s[pos + 1])) {
    size_t e = pos + 2;
    while (e < t.n && IsLetter(t.s[e])) ++e;
    return static_cast<int64_t>(e - pos);
  }
  // Second: letters, after an optional byte that is no CR/LF, letter,
  // punctuation or symbol (whitespace, a digit, a control). Taking that
  // byte and failing gives it back, which leaves letters to start at c0.
  if (IsLetter(c0)) {
    const int64_t end = LetterRunEnd(t, pos);
    return end == kUndecided ? end : end - static_cast<int64_t>(pos);
  }
  if (!punct && !IsNewline(c0) && pos + 1 < t.n) {
    const unsigned char c1 = t.s[pos + 1];
    if (c1 >= 0x80) return kUndecided;  // a non-ASCII letter or mark would match
    if (IsLetter(c1)) {
      const int64_t end = LetterRunEnd(t, pos + 1);
      return end == kUndecided ? end : end - static_cast<int64_t>(pos);
    }
  }
  // Third: punctuation and symbols, after an optional space.
  const size_t j = pos + (c0 == ' ' ? 1 : 0);
  if (j < t.n) {
    if (t.s[j] >= 0x80) {
      if (c0 == ' ') return kUndecided;  // non-ASCII punctuation after the space would match
    } else if (IsPunctOrSymbol(t.s[j])) {
      const int64_t end = RunEnd(t, j, IsPunctOrSymbol);
      if (end == kUndecided) return kUndecided;
      size_t e = static_cast<size_t>(end);
      while (e < t.n && IsNewline(t.s[e])) ++e;
      return static_cast<int64_t>(e - pos);
    }
  }
  if (IsSpace(c0)) return Whitespace(t, pos, true);
  return -1;  // a digit or a control byte with no letter after it
}

}  // namespace

KnownPattern RecognizePattern(std::string_view pattern) {
  if (pattern == kGpt2Pattern) return KnownPattern::kGpt2;
  if (pattern == kLlama3Pattern) return KnownPattern::kLlama3;
  // \p{M} is empty in ASCII, so "qwen35" behaves as Qwen 2 there.
  if (pattern == kQwen2Pattern || pattern == kQwen35Pattern) return KnownPattern::kQwen2;
  if (pattern == kO200kPattern) return KnownPattern::kO200k;
  if (pattern == kDigits3Pattern) return KnownPattern::kDigits3;
  if (pattern == kDeepSeekCjkPattern) return KnownPattern::kDeepSeekCjk;
  if (pattern == kDeepSeek3Pattern) return KnownPattern::kDeepSeek3;
  return KnownPattern::kNone;
}

namespace {

template <class Match>
size_t SplitRun(Subject t, size_t p, size_t* gap, uint32_t base, std::vector<Piece>* out, Match match) {
  while (p < t.n && t.s[p] < 0x80) {
    const int64_t len = match(t, p);
    if (len == kUndecided) break;
    if (len <= 0) {  // no alternative starts here: a gap byte
      ++p;
      continue;
    }
    if (*gap < p) out->push_back({base + static_cast<uint32_t>(*gap), base + static_cast<uint32_t>(p)});
    out->push_back({base + static_cast<uint32_t>(p), base + static_cast<uint32_t>(p + static_cast<size_t>(len))});
    p += static_cast<size_t>(len);
    *gap = p;
  }
  return p;
}

}  // namespace

size_t SplitKnownPatternAscii(KnownPattern pattern, std::string_view text, size_t pos, size_t* gap, uint32_t base,
                              std::vector<Piece>* out) {
  const Subject t{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  // One loop per pattern, so that the matcher is inlined into it.
  switch (pattern) {
    case KnownPattern::kGpt2: return SplitRun(t, pos, gap, base, out, [](Subject s, size_t p) { return Gpt2(s, p); });
    case KnownPattern::kLlama3:
      return SplitRun(t, pos, gap, base, out, [](Subject s, size_t p) { return Llama3(s, p, 3); });
    case KnownPattern::kQwen2:
      return SplitRun(t, pos, gap, base, out, [](Subject s, size_t p) { return Llama3(s, p, 1); });
    case KnownPattern::kO200k: return SplitRun(t, pos, gap, base, out, [](Subject s, size_t p) { return O200k(s, p); });
    case KnownPattern::kDeepSeek3:
      return SplitRun(t, pos, gap, base, out, [](Subject s, size_t p) { return DeepSeek3(s, p); });
    case KnownPattern::kDigits3:
    case KnownPattern::kDeepSeekCjk:
    case KnownPattern::kNone:
      break;
  }
  // The digit groups and CJK runs match little ASCII: the same loop through
  // the dispatching matcher (kNone: undecided at once, nothing split).
  return SplitRun(t, pos, gap, base, out, [pattern](Subject s, size_t p) {
    return MatchKnownPatternAscii(pattern, std::string_view(reinterpret_cast<const char*>(s.s), s.n), p);
  });
}

int64_t MatchKnownPatternAscii(KnownPattern pattern, std::string_view text, size_t pos) {
  const Subject t{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  switch (pattern) {
    case KnownPattern::kGpt2: return Gpt2(t, pos);
    case KnownPattern::kLlama3: return Llama3(t, pos, 3);
    case KnownPattern::kQwen2: return Llama3(t, pos, 1);
    case KnownPattern::kO200k: return O200k(t, pos);
    case KnownPattern::kDigits3: return IsDigit(t.s[pos]) ? Digits(t, pos, 3) : -1;
    case KnownPattern::kDeepSeekCjk: return -1;  // an ASCII byte is in none of its ranges
    case KnownPattern::kDeepSeek3: return DeepSeek3(t, pos);
    case KnownPattern::kNone: break;
  }
  return kUndecided;
}

}  // namespace telltale::tokenize
