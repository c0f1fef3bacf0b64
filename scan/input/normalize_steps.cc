#include "scan/input/normalize_steps.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/utf8.h>

#include <array>
#include <cstring>
#include <vector>

#include "scan/input/char_tables.h"

namespace telltale::scan {

using tokenize::NormalizedText;

namespace {

inline bool IsVariationSelector(UChar32 c) {
  return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) || (c >= 0x180B && c <= 0x180D) ||
         c == 0x180F;
}

inline bool IsTag(UChar32 c) { return c >= 0xE0020 && c <= 0xE007F; }

// Whether the ignorable `c` stays, given the last retained code point
// `prev` and the code point after it `next` (-1: none or ill-formed).
bool KeepIgnorable(const CharTables& ct, UChar32 c, UChar32 prev, UChar32 next) {
  if (prev < 0) return false;
  uint16_t pf = ct.flags(prev);
  if (c == 0x200D && next >= 0 && (ct.flags(next) & CharTables::kExtPict) &&
      ((pf & (CharTables::kExtPict | CharTables::kEmojiModifier)) || prev == 0xFE0F || IsTag(prev))) {
    return true;  // emoji ZWJ sequence
  }
  if (c == 0x200C || c == 0x200D) {
    if (pf & CharTables::kVirama) return true;  // Brahmic conjunct control
    return next >= 0 && (pf & CharTables::kJoining) && (ct.flags(next) & CharTables::kJoining);  // cursive joining
  }
  if (IsVariationSelector(c)) {
    if ((c == 0xFE0E || c == 0xFE0F) && (pf & CharTables::kEmoji)) return true;
    return (pf & CharTables::kVsHost) != 0;
  }
  if (IsTag(c)) return prev == 0x1F3F4 || (IsTag(prev) && prev != 0xE007F);
  return false;
}

UChar32 PeekCodePoint(const std::string& s, size_t i) {
  if (i >= s.size()) return -1;
  int32_t j = static_cast<int32_t>(i);
  UChar32 c;
  U8_NEXT(s.data(), j, static_cast<int32_t>(s.size()), c);
  return c;
}

// Index of the first byte >= 0x80 at or after i, or s.size().
inline size_t SkipAscii(const std::string& s, size_t i) {
  const size_t n = s.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

enum WordClass : uint8_t { kNone = 0, kLatin = 1, kForeign = 2, kAmbiguous = 3 };

// ASCII word characters: 1 = letter, 2 = digit, 0 = not a word character.
constexpr auto kAsciiClass = [] {
  std::array<uint8_t, 128> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = 1;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = 1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = 2;
  return t;
}();

// Nearest Latin-or-foreign word class on each side of every word, so a
// word made only of look-alikes is judged by its neighbours in O(words).
struct Neighbours {
  std::vector<uint8_t> left, right;
};

Neighbours NearestDecisive(const std::vector<uint8_t>& cls) {
  Neighbours nb;
  nb.left.resize(cls.size());
  nb.right.resize(cls.size());
  uint8_t last = kNone;
  for (size_t w = 0; w < cls.size(); ++w) {
    nb.left[w] = last;
    if (cls[w] == kLatin || cls[w] == kForeign) last = cls[w];
  }
  last = kNone;
  for (size_t w = cls.size(); w-- > 0;) {
    nb.right[w] = last;
    if (cls[w] == kLatin || cls[w] == kForeign) last = cls[w];
  }
  return nb;
}

}  // namespace

bool IsAscii(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

bool StripInvisible(NormalizedText* t) {
  const CharTables& ct = CharTables::Get();
  const std::string& s = t->text();
  const size_t n = s.size();
  NormalizedText out;
  bool building = false;
  size_t copied = 0;
  UChar32 prev = -1;
  size_t i = 0;
  while (i < n) {
    size_t j = SkipAscii(s, i);
    if (j > i) {
      prev = static_cast<unsigned char>(s[j - 1]);
      i = j;
      if (i >= n) break;
    }
    size_t start = i;
    int32_t k = static_cast<int32_t>(i);
    UChar32 c;
    U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
    i = static_cast<size_t>(k);
    if (c < 0) {
      prev = -1;
      continue;
    }
    if (!(ct.flags(c) & CharTables::kIgnorable) || KeepIgnorable(ct, c, prev, PeekCodePoint(s, i))) {
      prev = c;
      continue;
    }
    if (!building) {
      out.StartExplicit(t->base());
      building = true;
    }
    out.AppendFrom(*t, copied, start);
    copied = i;
  }
  if (!building) return false;
  out.AppendFrom(*t, copied, n);
  *t = std::move(out);
  return true;
}

Status NormalizeForm(bool nfkc, NormalizedText* t, bool* changed) {
  *changed = false;
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* norm =
      nfkc ? icu::Normalizer2::getNFKCInstance(err) : icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU normalizer: ") + u_errorName(err));
  const std::string& s = t->text();
  const size_t n = s.size();
  // Fast exit: if every non-ASCII code point is normalization-inert (never
  // changes and never interacts with a neighbour), the text is already
  // normalized; ASCII can only change by composing with a following
  // non-inert mark. Typical English text has a few curly quotes and no
  // marks, so this replaces a full ICU pass with a table lookup per
  // non-ASCII character.
  bool inert = true;
  for (size_t i = SkipAscii(s, 0); i < n && inert; i = SkipAscii(s, i)) {
    int32_t k = static_cast<int32_t>(i);
    UChar32 c;
    U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
    i = static_cast<size_t>(k);
    if (c >= 0 && !norm->isInert(c)) inert = false;
  }
  if (inert) return Status::Ok();
  // Split into maximal well-formed segments and ill-formed subparts.
  struct Segment { size_t begin, end; bool valid; };
  std::vector<Segment> segs;
  size_t seg_start = 0, i = 0;
  while (i < n) {
    i = SkipAscii(s, i);
    if (i >= n) break;
    size_t start = i;
    int32_t k = static_cast<int32_t>(i);
    UChar32 c;
    U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
    i = static_cast<size_t>(k);
    if (c < 0) {
      if (start > seg_start) segs.push_back({seg_start, start, true});
      segs.push_back({start, i, false});
      seg_start = i;
    }
  }
  if (n > seg_start) segs.push_back({seg_start, n, true});
  std::vector<bool> normalized(segs.size(), true);
  bool any = false;
  for (size_t si = 0; si < segs.size(); ++si) {
    const Segment& g = segs[si];
    if (!g.valid) continue;
    icu::StringPiece sp(s.data() + g.begin, static_cast<int32_t>(g.end - g.begin));
    err = U_ZERO_ERROR;
    bool ok = norm->isNormalizedUTF8(sp, err);
    if (U_FAILURE(err)) return Status::Internal(std::string("ICU isNormalizedUTF8: ") + u_errorName(err));
    if (!ok) {
      normalized[si] = false;
      any = true;
    }
  }
  if (!any) return Status::Ok();
  NormalizedText out;
  out.StartExplicit(t->base());
  std::string buf;
  for (size_t si = 0; si < segs.size(); ++si) {
    const Segment& g = segs[si];
    if (normalized[si]) {
      out.AppendFrom(*t, g.begin, g.end);
      continue;
    }
    buf.clear();
    icu::StringByteSink<std::string> sink(&buf);
    icu::Edits edits;
    err = U_ZERO_ERROR;
    norm->normalizeUTF8(0, icu::StringPiece(s.data() + g.begin, static_cast<int32_t>(g.end - g.begin)), sink, &edits,
                        err);
    if (U_FAILURE(err)) return Status::Internal(std::string("ICU normalizeUTF8: ") + u_errorName(err));
    icu::Edits::Iterator it = edits.getFineIterator();
    while (it.next(err)) {
      size_t sb = g.begin + static_cast<size_t>(it.sourceIndex()), sl = static_cast<size_t>(it.oldLength());
      size_t db = static_cast<size_t>(it.destinationIndex()), dl = static_cast<size_t>(it.newLength());
      if (!it.hasChange()) {
        out.AppendFrom(*t, sb, sb + sl);
      } else if (dl > 0) {
        uint32_t ob, oe;
        t->OrigRange(sb, sb + sl, &ob, &oe);
        out.AppendMapped(std::string_view(buf).substr(db, dl), ob, oe);
      }
    }
    if (U_FAILURE(err)) return Status::Internal(std::string("ICU edits: ") + u_errorName(err));
  }
  *t = std::move(out);
  *changed = true;
  return Status::Ok();
}

bool MapConfusables(NormalizedText* t, bool* mark_follows) {
  *mark_follows = false;
  const CharTables& ct = CharTables::Get();
  const std::string& s = t->text();
  const size_t n = s.size();
  // Cheap pre-check: most documents hold no look-alike at all.
  bool found = false;
  for (size_t i = SkipAscii(s, 0); i < n && !found; i = SkipAscii(s, i)) {
    int32_t k = static_cast<int32_t>(i);
    UChar32 c;
    U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
    i = static_cast<size_t>(k);
    if (c >= 0 && ct.homoglyph(c) != 0) found = true;
  }
  if (!found) return false;

  struct Candidate { size_t word, begin, end; bool ambiguous; };
  std::vector<uint8_t> cls;
  std::vector<Candidate> cands;
  size_t word_start = 0;
  bool in_word = false;
  uint32_t latin = 0, foreign = 0, mappable = 0;
  auto end_word = [&](size_t end) {
    if (!in_word) return;
    in_word = false;
    uint8_t c = foreign > 0 ? kForeign : latin > 0 ? kLatin : mappable > 0 ? kAmbiguous : kNone;
    if (mappable > 0 && foreign == 0) cands.push_back({cls.size(), word_start, end, latin == 0});
    cls.push_back(c);
  };
  auto add = [&](size_t pos, uint32_t* counter) {
    if (!in_word) {
      in_word = true;
      word_start = pos;
      latin = foreign = mappable = 0;
    }
    if (counter != nullptr) ++*counter;
  };
  size_t i = 0;
  while (i < n) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      // A whole ASCII run at once: word characters extend the word (letters
      // count as Latin), anything else ends it.
      if (kAsciiClass[b] == 0) {
        end_word(i);
        do {
          ++i;
        } while (i < n && static_cast<unsigned char>(s[i]) < 0x80 && kAsciiClass[static_cast<unsigned char>(s[i])] == 0);
        continue;
      }
      add(i, nullptr);
      uint32_t letters = 0;
      unsigned char c;
      while (i < n && (c = static_cast<unsigned char>(s[i])) < 0x80 && kAsciiClass[c] != 0) {
        letters += kAsciiClass[c] & 1;
        ++i;
      }
      latin += letters;
      continue;
    }
    size_t start = i;
    int32_t k = static_cast<int32_t>(i);
    UChar32 c;
    U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
    i = static_cast<size_t>(k);
    if (c < 0) {
      end_word(start);
      continue;
    }
    uint16_t f = ct.flags(c);
    if (!(f & CharTables::kWordChar)) {
      end_word(start);
      continue;
    }
    if (ct.homoglyph(c) != 0) {
      add(start, &mappable);
    } else if (f & CharTables::kLatinLetter) {
      add(start, &latin);
    } else if (f & CharTables::kForeignLetter) {
      add(start, &foreign);
    } else {
      add(start, nullptr);
    }
  }
  end_word(n);

  // A run of look-alike-only words is mapped when the nearest words with a
  // decisive script on both sides are Latin (or one side has none): a
  // foreign neighbour on either side keeps it (genuine Russian or Greek).
  Neighbours nb;
  bool any_ambiguous = false;
  for (const Candidate& cand : cands) any_ambiguous |= cand.ambiguous;
  if (any_ambiguous) nb = NearestDecisive(cls);
  NormalizedText out;
  bool building = false;
  size_t copied = 0;
  for (const Candidate& cand : cands) {
    if (cand.ambiguous) {
      uint8_t l = nb.left[cand.word], r = nb.right[cand.word];
      if (l == kForeign || r == kForeign || (l == kNone && r == kNone)) continue;
    }
    for (size_t p = cand.begin; p < cand.end;) {
      size_t start = p;
      int32_t k = static_cast<int32_t>(p);
      UChar32 c;
      U8_NEXT(s.data(), k, static_cast<int32_t>(n), c);
      p = static_cast<size_t>(k);
      char target = c >= 0 ? ct.homoglyph(c) : 0;
      if (target == 0) continue;
      if (!building) {
        out.StartExplicit(t->base());
        building = true;
      }
      out.AppendFrom(*t, copied, start);
      uint32_t ob, oe;
      t->OrigRange(start, p, &ob, &oe);
      out.AppendMapped(std::string_view(&target, 1), ob, oe);
      copied = p;
      UChar32 next = PeekCodePoint(s, p);
      if (next >= 0x80 && (ct.flags(next) & CharTables::kMark)) *mark_follows = true;
    }
  }
  if (!building) return false;
  out.AppendFrom(*t, copied, n);
  *t = std::move(out);
  return true;
}

}  // namespace telltale::scan
