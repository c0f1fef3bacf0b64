#include "tokenize/ascii_pretokenizer.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tokenize/known_patterns.h"
#include "tokenize/normalized_text.h"
#include "tokenize/pre_tokenizer.h"
#include "tokenize/regex.h"
#include "tokenize/utf8.h"

namespace telltale::tokenize {
namespace {

// What random texts are strung together from: every ASCII byte, the bytes
// and digraphs the patterns branch on, and the non-ASCII characters that
// can change an ASCII-looking decision (long s and the Kelvin sign fold to
// ASCII letters; NBSP, NEL, U+2028 and U+3000 are \s; combining marks,
// title-case, modifier and other letters, non-ASCII digits and punctuation
// extend runs).
std::vector<std::string> Alphabet() {
  std::vector<std::string> a;
  for (int c = 0; c < 128; ++c) a.push_back(std::string(1, static_cast<char>(c)));
  for (const char* s : {"'", "'", "'", " ", " ", " ", "  ", "\n", "\r\n", "\t", "s", "S", "t", "T", "re", "rE", "VE",
                        "ll", "lL", "m", "D", "/", "1", "22", "333", "ab", "AB", "Ab", "aB", "x", "Q", ".", "!?",
                        // Letter runs across the fast path's 16-byte steps.
                        "abcdefghijklmnop", "QRSTUVWXYZabcdefghijk", "Zz@`[{"}) {
    a.push_back(s);
  }
  for (const char* s : {"\xC3\xA9", "\xC3\x89", "\xC5\xBF", "\xE2\x84\xAA", "\xCC\x81", "\xC2\xA0", "\xC2\x85",
                        "\xE3\x80\x80", "\xE2\x80\xA8", "\xE2\x80\x9C", "\xE2\x80\xA6", "\xD9\xA3", "\xE4\xB8\xAD",
                        "\xC7\x85", "\xCA\xB0", "\xC2\xAA", "\xF0\x9F\x98\x80", "\xC2\xB2"}) {
    a.push_back(s);
  }
  return a;
}

struct Case {
  const char* name;
  const char* pattern;
  KnownPattern known;
};

class AsciiPretokenizerTest : public ::testing::TestWithParam<Case> {};

TEST_P(AsciiPretokenizerTest, AgreesWithTheGeneralEngineAtEveryPosition) {
  const Case& c = GetParam();
  auto re = Regex::Compile(c.pattern);
  ASSERT_TRUE(re.ok()) << re.status().ToString();
  ASSERT_EQ((*re)->known_pattern(), c.known);
  const std::vector<std::string> alphabet = Alphabet();
  std::mt19937_64 rng(0x5eed + static_cast<int>(c.known));
  Regex::Scratch scratch;
  size_t positions = 0, decided = 0;
  for (int doc = 0; doc < 30000; ++doc) {
    std::string text;
    const size_t parts = 1 + rng() % 24;
    for (size_t i = 0; i < parts; ++i) text += alphabet[rng() % alphabet.size()];
    for (size_t pos = 0; pos < text.size(); ++pos) {
      if ((static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) continue;  // matching starts at code points
      const int64_t general = (*re)->MatchAtGeneral(text, pos, &scratch);
      ASSERT_EQ((*re)->MatchAt(text, pos, &scratch), general) << c.name << " at " << pos << " of \"" << text << "\"";
      if (static_cast<unsigned char>(text[pos]) >= 0x80) continue;
      ++positions;
      const int64_t fast = MatchKnownPatternAscii(c.known, text, pos);
      if (fast == kUndecided) continue;
      ++decided;
      ASSERT_EQ(fast, general) << c.name << " at " << pos << " of \"" << text << "\"";
    }
  }
  // The fast path must actually carry the ASCII positions, or this test
  // checks nothing.
  EXPECT_GT(decided, positions * 3 / 4) << decided << " of " << positions;
}

// The isolated split through PreTokenizer (ASCII stretches split in one
// call, the rest by the general engine) gives the pieces of a per-match
// loop over the general engine alone, gaps included.
TEST_P(AsciiPretokenizerTest, IsolatedSplitEqualsThePerMatchLoopOfTheGeneralEngine) {
  const Case& c = GetParam();
  auto re = Regex::Compile(c.pattern);
  ASSERT_TRUE(re.ok()) << re.status().ToString();
  std::shared_ptr<const Regex> shared = std::move(*re);
  PreTokenizer pre;
  ASSERT_TRUE(pre.AddSplit(shared, "", PreTokenizer::Behavior::kIsolated, false).ok());
  const std::vector<std::string> alphabet = Alphabet();
  std::mt19937_64 rng(0xface + static_cast<int>(c.known));
  Regex::Scratch scratch;
  PreTokenizer::Scratch pre_scratch;
  size_t pieces_checked = 0;
  for (int doc = 0; doc < 5000; ++doc) {
    std::string text;
    const size_t parts = 1 + rng() % 40;
    for (size_t i = 0; i < parts; ++i) text += alphabet[rng() % alphabet.size()];
    std::vector<Piece> want;
    size_t gap = 0, p = 0;
    while (p < text.size()) {
      const int64_t len = shared->MatchAtGeneral(text, p, &scratch);
      if (len > 0) {
        if (gap < p) want.push_back({static_cast<uint32_t>(gap), static_cast<uint32_t>(p)});
        want.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(p + static_cast<size_t>(len))});
        p += static_cast<size_t>(len);
        gap = p;
      } else {
        p += Utf8SeqLen(static_cast<unsigned char>(text[p]));  // as the engine steps over a gap
      }
    }
    if (gap < text.size()) want.push_back({static_cast<uint32_t>(gap), static_cast<uint32_t>(text.size())});
    NormalizedText nt(text, 0);
    std::vector<Piece> got;
    ASSERT_TRUE(pre.Run(&nt, &pre_scratch, &got).ok());
    ASSERT_EQ(got.size(), want.size()) << c.name << " \"" << text << "\"";
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_TRUE(got[i].begin == want[i].begin && got[i].end == want[i].end)
          << c.name << " piece " << i << " of \"" << text << "\": got [" << got[i].begin << ", " << got[i].end
          << "), want [" << want[i].begin << ", " << want[i].end << ")";
    }
    pieces_checked += want.size();
  }
  EXPECT_GT(pieces_checked, 5000u);  // more than one piece per text
}

INSTANTIATE_TEST_SUITE_P(KnownPatterns, AsciiPretokenizerTest,
                         ::testing::Values(Case{"gpt2", kGpt2Pattern, KnownPattern::kGpt2},
                                           Case{"llama3", kLlama3Pattern, KnownPattern::kLlama3},
                                           Case{"qwen2", kQwen2Pattern, KnownPattern::kQwen2},
                                           Case{"qwen35", kQwen35Pattern, KnownPattern::kQwen2},
                                           Case{"o200k", kO200kPattern, KnownPattern::kO200k},
                                           Case{"digits3", kDigits3Pattern, KnownPattern::kDigits3},
                                           Case{"deepseek_cjk", kDeepSeekCjkPattern, KnownPattern::kDeepSeekCjk},
                                           Case{"deepseek3", kDeepSeek3Pattern, KnownPattern::kDeepSeek3}),
                         [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(AsciiPretokenizer, OnlyExactPatternsAreRecognized) {
  EXPECT_EQ(RecognizePattern(kCl100kPattern), KnownPattern::kLlama3);
  EXPECT_EQ(RecognizePattern(kDeepSeek3Pattern), KnownPattern::kDeepSeek3);
  EXPECT_EQ(RecognizePattern("\\p{N}{1,2}"), KnownPattern::kNone);
  EXPECT_EQ(RecognizePattern(std::string(kDeepSeek3Pattern).substr(1)), KnownPattern::kNone);
  std::string almost = kLlama3Pattern;
  almost.replace(almost.find("{1,3}"), 5, "{1,4}");
  EXPECT_EQ(RecognizePattern(almost), KnownPattern::kNone);
  EXPECT_EQ(RecognizePattern(std::string(kO200kPattern) + "|x"), KnownPattern::kNone);
}

TEST(AsciiPretokenizer, LeavesNonAsciiDecisionsToTheGeneralEngine) {
  // A letter run that ends at a non-ASCII letter, a contraction whose
  // letter is U+017F (folds to 's'), a space run that ends at NBSP.
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kLlama3, "caf\xC3\xA9", 0), kUndecided);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kLlama3, "'\xC5\xBF", 0), kUndecided);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kO200k, "  \xC2\xA0x", 0), kUndecided);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kLlama3, "cafe ", 0), 4);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kO200k, "HTMLParser's x", 0), 12);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kGpt2, "  x", 0), 1);
  // DeepSeek-V3: a digit takes the letters after it; no alternative starts
  // at a lone digit; ".com" is punctuation + ASCII letters; a space before
  // non-ASCII punctuation is the general engine's to decide.
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDeepSeek3, "5abc", 0), 4);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDeepSeek3, "55", 0), -1);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDeepSeek3, ".com!", 0), 4);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDeepSeek3, " \xE2\x80\x9C", 0), kUndecided);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDigits3, "12345", 0), 3);
  EXPECT_EQ(MatchKnownPatternAscii(KnownPattern::kDeepSeekCjk, "a", 0), -1);
}

}  // namespace
}  // namespace telltale::tokenize
