#include "scan/input/text_normalizer.h"

#include <gtest/gtest.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/utf8.h>

#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scan/input/char_tables.h"
#include "scan/input/normalize_steps.h"

namespace telltale::scan {
namespace {

using tokenize::NormalizedText;

const std::string kSampleDir = std::string(TELLTALE_SOURCE_DIR) + "/datasets/sample";

NormalizedText Normalize(std::string_view raw, const NormalizeOptions& o = {}) {
  auto n = TextNormalizer::Create(o);
  EXPECT_TRUE(n.ok());
  NormalizedText out;
  Status s = n->Apply(raw, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::string Norm(std::string_view raw, const NormalizeOptions& o = {}) { return Normalize(raw, o).text(); }

std::vector<std::string> Paragraphs(const std::string& file) {
  std::ifstream f(kSampleDir + "/" + file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string all = ss.str();
  std::vector<std::string> out;
  size_t start = 0;
  while (start < all.size()) {
    size_t e = all.find("\n\n", start);
    if (e == std::string::npos) e = all.size();
    if (e > start) out.push_back(all.substr(start, e - start));
    start = e + 2;
  }
  return out;
}

// Every output code point's original range must hold what produced it:
// the same code point, or (for a mapped/normalized char) a non-empty range.
void ExpectAlignmentSane(std::string_view raw, const NormalizedText& t) {
  const std::string& s = t.text();
  for (size_t j = 0; j < s.size(); ++j) {
    ASSERT_LT(t.OrigBegin(j), t.OrigEnd(j)) << "byte " << j;
    ASSERT_LE(t.OrigEnd(j), raw.size()) << "byte " << j;
    if (j > 0) {
      ASSERT_LE(t.OrigBegin(j - 1), t.OrigBegin(j)) << "alignment must be monotone at byte " << j;
    }
  }
}

TEST(NormalizeOptionsTest, DescribeAndParseAreInverse) {
  NormalizeOptions d;
  EXPECT_EQ(d.Describe(), "nfc,strip-invisible,confusables");
  for (auto form : {NormalizeOptions::Form::kNone, NormalizeOptions::Form::kNfc, NormalizeOptions::Form::kNfkc}) {
    for (bool strip : {false, true}) {
      for (bool conf : {false, true}) {
        NormalizeOptions o;
        o.form = form;
        o.strip_invisible = strip;
        o.map_confusables = conf;
        auto p = NormalizeOptions::Parse(o.Describe());
        ASSERT_TRUE(p.ok()) << o.Describe();
        EXPECT_EQ(*p, o) << o.Describe();
      }
    }
  }
  EXPECT_EQ(NormalizeOptions::Parse("none")->Describe(), "none");
  EXPECT_EQ(NormalizeOptions::Parse("confusables,nfkc")->Describe(), "nfkc,confusables");
  EXPECT_FALSE(NormalizeOptions::Parse("").ok());
  EXPECT_FALSE(NormalizeOptions::Parse("nfc,nfkc").ok());
  EXPECT_FALSE(NormalizeOptions::Parse("nfc,nfc").ok());
  EXPECT_FALSE(NormalizeOptions::Parse("nfd").ok());
  EXPECT_FALSE(NormalizeOptions::Parse("nfc,").ok());
}

TEST(TextNormalizerTest, AsciiIsIdentityWithoutExplicitAlignment) {
  NormalizedText t = Normalize("Hello, world! 123 rn m l I 0 O");
  EXPECT_EQ(t.text(), "Hello, world! 123 rn m l I 0 O");
  EXPECT_TRUE(t.identity());
}

TEST(TextNormalizerTest, NfcComposesWithAlignment) {
  // "e" + U+0301 -> U+00E9, both bytes map to the 3 source bytes.
  NormalizedText t = Normalize("cafe\u0301!");
  EXPECT_EQ(t.text(), "caf\u00E9!");
  EXPECT_EQ(t.OrigBegin(3), 3u);
  EXPECT_EQ(t.OrigEnd(3), 6u);
  EXPECT_EQ(t.OrigBegin(4), 3u);
  EXPECT_EQ(t.OrigBegin(5), 6u);
  EXPECT_EQ(t.OrigEnd(5), 7u);
}

TEST(TextNormalizerTest, NfkcFoldsCompatibilityCharacters) {
  NormalizeOptions o;
  o.form = NormalizeOptions::Form::kNfkc;
  NormalizedText t = Normalize("\uFB01nd", o);  // U+FB01 "fi" ligature
  EXPECT_EQ(t.text(), "find");
  EXPECT_EQ(t.OrigBegin(0), 0u);
  EXPECT_EQ(t.OrigEnd(1), 3u);
  EXPECT_EQ(t.OrigBegin(2), 3u);
  // NFC keeps the ligature.
  EXPECT_EQ(Norm("\uFB01nd"), "\uFB01nd");
}

TEST(TextNormalizerTest, StripsZeroWidthAndInvisibleCharacters) {
  // ZWSP, ZWNJ, ZWJ, word joiner, soft hyphen, BOM, LRM inside Latin words.
  std::string raw = "\uFEFFwa\u200Bter\u200C ma\u200Drk\u2060s co\u00ADde \u200Ex";
  NormalizedText t = Normalize(raw);
  EXPECT_EQ(t.text(), "water marks code x");
  ExpectAlignmentSane(raw, t);
  // 'w' came from byte 3 (after the BOM), 't' from after the ZWSP.
  EXPECT_EQ(t.OrigBegin(0), 3u);
  EXPECT_EQ(raw.substr(t.OrigBegin(2), 1), "t");
  NormalizeOptions keep;
  keep.strip_invisible = false;
  EXPECT_EQ(Norm(raw, keep), raw);
}

TEST(TextNormalizerTest, KeepsJoinersAndSelectorsThatCarryMeaning) {
  const std::vector<std::string> keep = {
      "\U0001F468\u200D\U0001F469\u200D\U0001F467",  // family ZWJ sequence
      "\U0001F3F3\uFE0F\u200D\U0001F308",                  // rainbow flag
      "\U0001F44D\U0001F3FD",                                          // skin tone
      "1\uFE0F\u20E3",                                                 // keycap 1
      "\u2764\uFE0F",                                                  // red heart + VS16
      "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",  // England flag tags
      "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645",      // Persian mi+ZWNJ+khaham
      "\u0915\u094D\u200D\u0937",                          // Devanagari k+virama+ZWJ+ss
      "\u845B\U000E0100",                                              // Han + IVS
  };
  for (const std::string& s : keep) EXPECT_EQ(Norm(s), s) << s;
  // Arabic heh (a look-alike of 'o') twice with a ZWJ between, inside a
  // Latin word: the joiner goes, the look-alikes become o.
  EXPECT_EQ(Norm("b\u0647\u200D\u0647k shelf"), "book shelf");
  // The same controls next to Latin letters are stripped.
  EXPECT_EQ(Norm("a\uFE0F" "b\u200D" "c\U000E0067"), "abc");
}

TEST(TextNormalizerTest, MapsLookAlikesInsideLatinWords) {
  // Cyrillic a, e, o, p, c (U+0430 U+0435 U+043E U+0440 U+0441) in English words.
  EXPECT_EQ(Norm("p\u0430ssw\u043Erd"), "password");
  EXPECT_EQ(Norm("\u0441\u043E\u0440\u0435 values"), "cope values");  // all-Cyrillic word, Latin context
  EXPECT_EQ(Norm("\u03BF\u03BD the river"), "ov the river");              // Greek omicron, nu
  EXPECT_EQ(Norm("\uFF28\uFF45llo there"), "Hello there");        // fullwidth H, e
  EXPECT_EQ(Norm("\U0001D407\U0001D41E\U0001D425\U0001D425\U0001D428 world"),
            "Hello world");                                                    // math bold
  EXPECT_EQ(Norm("\u0406 think"), "I think");                                // Cyrillic capital I (U+0406)
}

TEST(TextNormalizerTest, MappedLetterComposesWithAFollowingMark) {
  // Cyrillic o + combining acute has no precomposed form, so NFC keeps it;
  // once the o is mapped, the second NFC pass composes U+00F3.
  NormalizedText t = Normalize("Jos\u043E\u0301 said");
  EXPECT_EQ(t.text(), "Jos\u00F3 said");
  EXPECT_EQ(t.OrigBegin(3), 3u);
  EXPECT_EQ(t.OrigEnd(4), 7u);
  // Precomposed Cyrillic yo (NFC of e + U+0308) has no single-letter
  // look-alike: it stays (a documented limit).
  EXPECT_EQ(Norm("No\u0435\u0308l"), "No\u0451l");
}

TEST(TextNormalizerTest, LeavesGenuineNonLatinWordsAlone) {
  const std::vector<std::string> keep = {
      "\u043E\u043D \u0441\u043A\u0430\u0437\u0430\u043B, \u0447\u0442\u043E \u0441\u043E\u0440 "
      "\u0438 \u0430 \u043C\u044B \u043F\u0440\u0438\u0448\u043B\u0438",  // он сказал, что сор и а мы пришли
      "\u039F \u03BA\u03CC\u03C3\u03BC\u03BF\u03C2 \u03BA\u03B1\u03B9 \u03BF\u03B9 "
      "\u03AC\u03BD\u03B8\u03C1\u03C9\u03C0\u03BF\u03B9",  // Ο κόσμος και οι άνθρωποι
      "\u5171\u6709\uFF11\uFF12\u4E2A \uFF21\uFF22\uFF23 \u516C\u53F8",
      "Stra\u00DF" "e \u00FC" "ber T\u00FCr k\u0131z \u0251",  // German, Turkish dotless i, Latin alpha
      "1\u00AA planta, 2\u00BA piso",                               // Spanish ordinals
  };
  for (const std::string& s : keep) EXPECT_EQ(Norm(s), s) << s;
}

TEST(TextNormalizerTest, InvalidUtf8PassesThroughIdentityAligned) {
  std::string raw = "ab\xFF" "c\xC3" "d\u200B" "e\xD0\xB6\x80";
  NormalizedText t = Normalize(raw);
  EXPECT_EQ(t.text(), "ab\xFF" "c\xC3" "de\xD0\xB6\x80");
  ExpectAlignmentSane(raw, t);
  EXPECT_EQ(t.OrigBegin(2), 2u);  // \xFF
  EXPECT_EQ(t.OrigBegin(4), 4u);  // \xC3
}

// Whitespace-separated tokens, to compare paragraphs word by word.
std::vector<std::string> Tokens(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool HasAsciiLetter(const std::string& w) {
  for (char c : w) {
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  }
  return false;
}

TEST(TextNormalizerTest, SampleCorporaComeOutByteIdentical) {
  auto n = TextNormalizer::Create({});
  ASSERT_TRUE(n.ok());
  size_t checked = 0, changed = 0;
  for (const char* file : {"english.txt", "chinese.txt", "mixed.txt"}) {
    for (const std::string& p : Paragraphs(file)) {
      NormalizedText out;
      ASSERT_TRUE(n->Apply(p, &out).ok());
      ++checked;
      if (out.text() == p) continue;
      // The only change allowed is in a word that itself mixes ASCII Latin
      // letters with non-ASCII look-alikes (a homoglyph in real text, such
      // as "Мicrosoft" with a Cyrillic М in fortunes-ru).
      ++changed;
      std::vector<std::string> a = Tokens(p), b = Tokens(out.text());
      ASSERT_EQ(a.size(), b.size()) << file;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == b[i]) continue;
        bool mixed = HasAsciiLetter(a[i]) && !IsAscii(a[i]);
        EXPECT_TRUE(mixed) << file << ": genuine word changed: [" << a[i] << "] -> [" << b[i] << "]";
        std::cout << "  mixed-script word mapped in " << file << ": [" << a[i] << "] -> [" << b[i] << "]\n";
      }
    }
  }
  EXPECT_GT(checked, 3000u);
  EXPECT_LE(changed, 2u) << "more mixed-script words than the known fortunes-ru one";
}

// Look-alikes an attacker would use (the test's own table, independent of
// CharTables): Cyrillic and Greek letters that render like ASCII letters.
const std::vector<std::pair<char, const char*>> kLookAlikes = {
    {'a', "\u0430"}, {'e', "\u0435"}, {'o', "\u043E"}, {'p', "\u0440"}, {'c', "\u0441"}, {'x', "\u0445"},
    {'y', "\u0443"}, {'i', "\u0456"}, {'j', "\u0458"}, {'s', "\u0455"}, {'h', "\u04BB"}, {'d', "\u0501"},
    {'q', "\u051B"}, {'w', "\u051D"}, {'A', "\u0410"}, {'B', "\u0412"}, {'E', "\u0415"}, {'K', "\u041A"},
    {'M', "\u041C"}, {'H', "\u041D"}, {'O', "\u041E"}, {'P', "\u0420"}, {'C', "\u0421"}, {'T', "\u0422"},
    {'X', "\u0425"}, {'S', "\u0405"}, {'I', "\u0406"}, {'J', "\u0408"}, {'o', "\u03BF"}, {'v', "\u03BD"},
    {'p', "\u03C1"}, {'A', "\u0391"}, {'B', "\u0392"}, {'E', "\u0395"}, {'Z', "\u0396"}, {'H', "\u0397"},
    {'I', "\u0399"}, {'K', "\u039A"}, {'M', "\u039C"}, {'N', "\u039D"}, {'O', "\u039F"}, {'P', "\u03A1"},
    {'T', "\u03A4"}, {'Y', "\u03A5"}, {'X', "\u03A7"},
};
const std::vector<const char*> kInvisibles = {"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"};

TEST(TextNormalizerTest, EveryAttackLookAlikeMapsToItsLetter) {
  const CharTables& ct = CharTables::Get();
  EXPECT_GT(ct.homoglyph_count(), 500u);
  for (const auto& [letter, alike] : kLookAlikes) {
    int32_t i = 0;
    UChar32 c;
    U8_NEXT(alike, i, -1, c);
    EXPECT_EQ(ct.homoglyph(c), letter) << "U+" << std::hex << c;
    EXPECT_EQ(Norm(std::string("xx") + alike + "x"), std::string("xx") + letter + "x");
  }
}

// Sentences from the English sample, at least 5 words long.
std::vector<std::string> EnglishSentences(size_t count) {
  std::vector<std::string> out;
  for (const std::string& p : Paragraphs("english.txt")) {
    size_t start = 0;
    while (start < p.size() && out.size() < count) {
      size_t e = p.find(". ", start);
      if (e == std::string::npos) e = p.size();
      std::string sentence = p.substr(start, e + 1 - start);
      if (Tokens(sentence).size() >= 5) out.push_back(sentence);
      start = e + 2;
    }
    if (out.size() >= count) break;
  }
  return out;
}

struct Attacked {
  std::string text;
  size_t words = 0, attacked = 0;
};

// Replaces letters of 30% of the words with look-alikes (each letter with a
// look-alike at probability 1/2, at least one per attacked word) and puts a
// random invisible character inside half of the attacked words.
Attacked Attack(const std::string& clean, std::mt19937* rng) {
  std::multimap<char, const char*> table(kLookAlikes.begin(), kLookAlikes.end());
  Attacked out;
  size_t i = 0;
  while (i < clean.size()) {
    char c = clean[i];
    if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
      out.text += c;
      ++i;
      continue;
    }
    size_t e = i;
    while (e < clean.size() && ((clean[e] | 0x20) >= 'a' && (clean[e] | 0x20) <= 'z')) ++e;
    std::string word = clean.substr(i, e - i);
    ++out.words;
    if (std::uniform_real_distribution<double>(0, 1)(*rng) < 0.3) {
      std::vector<size_t> can;
      for (size_t k = 0; k < word.size(); ++k) {
        if (table.count(word[k])) can.push_back(k);
      }
      if (!can.empty()) {
        ++out.attacked;
        size_t forced = can[std::uniform_int_distribution<size_t>(0, can.size() - 1)(*rng)];
        size_t zw_at = std::uniform_int_distribution<size_t>(0, word.size())(*rng);
        bool zw = std::uniform_int_distribution<int>(0, 1)(*rng) == 1;
        std::string w;
        for (size_t k = 0; k <= word.size(); ++k) {
          if (zw && k == zw_at) w += kInvisibles[std::uniform_int_distribution<size_t>(0, kInvisibles.size() - 1)(*rng)];
          if (k == word.size()) break;
          auto range = table.equal_range(word[k]);
          bool swap = range.first != range.second &&
                      (k == forced || std::uniform_int_distribution<int>(0, 1)(*rng) == 1);
          if (swap) {
            size_t n = static_cast<size_t>(std::distance(range.first, range.second));
            auto it = range.first;
            std::advance(it, std::uniform_int_distribution<size_t>(0, n - 1)(*rng));
            w += it->second;
          } else {
            w += word[k];
          }
        }
        word = w;
      }
    }
    out.text += word;
    i = e;
  }
  return out;
}

// Each output code point's original range holds what produced it: the same
// code point, a look-alike CharTables maps to it, or text whose NFKC holds
// it; removed invisibles may sit at the edges of a range only if the range
// also holds the producing character.
void ExpectOffsetsRoundTrip(const std::string& raw, const NormalizedText& t) {
  const CharTables& ct = CharTables::Get();
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(err);
  const std::string& s = t.text();
  int32_t j = 0;
  while (j < static_cast<int32_t>(s.size())) {
    int32_t start = j;
    UChar32 c;
    U8_NEXT(s.data(), j, static_cast<int32_t>(s.size()), c);
    uint32_t ob = t.OrigBegin(static_cast<size_t>(start)), oe = t.OrigEnd(static_cast<size_t>(j - 1));
    ASSERT_LT(ob, oe);
    ASSERT_LE(oe, raw.size());
    std::string orig = raw.substr(ob, oe - ob);
    std::string mine = s.substr(static_cast<size_t>(start), static_cast<size_t>(j - start));
    if (orig == mine) continue;
    bool ok = false;
    int32_t k = 0;
    UChar32 first;
    U8_NEXT(orig.data(), k, static_cast<int32_t>(orig.size()), first);
    if (first >= 0 && k == static_cast<int32_t>(orig.size()) && c >= 0 && c < 0x80 && ct.homoglyph(first) == c) ok = true;
    if (!ok) {
      std::string folded;
      icu::StringByteSink<std::string> sink(&folded);
      nfkc->normalizeUTF8(0, icu::StringPiece(orig.data(), static_cast<int32_t>(orig.size())), sink, nullptr, err);
      ok = folded.find(mine) != std::string::npos;
    }
    ASSERT_TRUE(ok) << "output [" << mine << "] at byte " << start << " maps to original [" << orig << "]";
  }
}

TEST(TextNormalizerTest, HomoglyphAttackOnRealSentencesMapsBackExactly) {
  std::vector<std::string> sentences = EnglishSentences(400);
  ASSERT_EQ(sentences.size(), 400u);
  std::mt19937 rng(4);
  auto n = TextNormalizer::Create({});
  ASSERT_TRUE(n.ok());
  size_t words = 0, attacked = 0, restored = 0;
  for (const std::string& clean : sentences) {
    Attacked a = Attack(clean, &rng);
    words += a.words;
    attacked += a.attacked;
    NormalizedText out;
    ASSERT_TRUE(n->Apply(a.text, &out).ok());
    EXPECT_EQ(out.text(), clean) << "attacked: " << a.text;
    if (out.text() == clean) ++restored;
    ExpectOffsetsRoundTrip(a.text, out);
  }
  // About 30% of the words were attacked.
  EXPECT_GT(attacked * 100, words * 25);
  EXPECT_LT(attacked * 100, words * 35);
  EXPECT_EQ(restored, sentences.size());
  // Without normalization the attack changes most sentences.
  NormalizeOptions off = *NormalizeOptions::Parse("none");
  std::mt19937 rng2(4);
  size_t same = 0;
  for (const std::string& clean : sentences) {
    if (Norm(Attack(clean, &rng2).text, off) == clean) ++same;
  }
  EXPECT_LT(same, sentences.size() / 4);
}

TEST(TextNormalizerTest, OffsetsRoundTripOnMultilingualTextUnderNfkc) {
  NormalizeOptions o;
  o.form = NormalizeOptions::Form::kNfkc;
  auto n = TextNormalizer::Create(o);
  ASSERT_TRUE(n.ok());
  std::vector<std::string> paras = Paragraphs("mixed.txt");
  size_t changed = 0;
  for (const std::string& p : paras) {
    NormalizedText out;
    ASSERT_TRUE(n->Apply(p, &out).ok());
    if (out.text() != p) ++changed;
    ExpectOffsetsRoundTrip(p, out);
  }
  EXPECT_GT(changed, 10u);  // full-width digits, ideographic spaces, ...
}

// Random bytes and random mixes of tricky characters (ignorables, marks,
// look-alikes, emoji parts, ill-formed bytes) under every option set: Apply
// never fails, alignment stays within the input, non-empty and monotone, and
// a second Apply changes nothing more.
TEST(TextNormalizerTest, RandomInputsKeepAlignmentInvariants) {
  const std::vector<std::string> pool = {
      "a", "e", "o", " ", "\u0430", "\u043E", "\u0436", "\u03BF", "\u200B", "\u200C", "\u200D", "\u00AD", "\uFEFF",
      "\u0301", "\u0308", "\uFE0F", "\U0001F468", "\U0001F3F4", "\U000E0067", "\u0915", "\u094D", "\u0645",
      "\u0626", "\uFF21", "\U0001D400", "\u00E9", "\uFB01", "\u0131", "\u4E00", "\xFF", "\xC3", "\xE2\x80",
      "\xED\xA0\x80", "1", "\u0661", "\n", "\u0300", "\u1100\u1161", "\u00AA"};
  std::mt19937 rng(11);
  std::vector<TextNormalizer> normalizers;
  for (const char* spec : {"nfc,strip-invisible,confusables", "nfkc,strip-invisible,confusables", "nfc",
                           "strip-invisible", "confusables", "nfkc,confusables"}) {
    normalizers.push_back(*TextNormalizer::Create(*NormalizeOptions::Parse(spec)));
  }
  for (int iter = 0; iter < 3000; ++iter) {
    std::string raw;
    int len = std::uniform_int_distribution<int>(0, 40)(rng);
    bool bytes = iter % 4 == 0;
    bool simple = !bytes;
    for (int k = 0; k < len; ++k) {
      if (bytes) {
        raw += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      } else {
        const std::string& piece = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
        if (piece == "\xFF" || piece == "\xC3" || piece == "\xE2\x80" || piece == "\xED\xA0\x80" ||
            piece == "\u1100\u1161") {
          simple = false;
        }
        raw += piece;
      }
    }
    const TextNormalizer& n = normalizers[static_cast<size_t>(iter) % normalizers.size()];
    NormalizedText out;
    ASSERT_TRUE(n.Apply(raw, &out).ok());
    ExpectAlignmentSane(raw, out);
    // Idempotence holds for well-formed text whose characters NFC does not
    // merge into a new host (Hangul jamo compose into syllables, which
    // changes what a following selector is attached to; bytes around a
    // removed invisible can join into a new sequence).
    if (simple) {
      NormalizedText again;
      ASSERT_TRUE(n.Apply(out.text(), &again).ok());
      EXPECT_EQ(again.text(), out.text()) << n.options().Describe() << " on [" << raw << "]";
    }
  }
}

}  // namespace
}  // namespace telltale::scan
