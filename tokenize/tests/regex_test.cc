#include "tokenize/regex.h"

#include <gtest/gtest.h>

namespace telltale::tokenize {
namespace {

std::vector<std::string> SplitAll(const std::string& pattern, const std::string& text) {
  auto re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status().ToString();
  std::vector<std::string> out;
  Regex::Scratch scratch;
  size_t p = 0, gap = 0;
  while (p < text.size()) {
    int64_t len = (*re)->MatchAt(text, p, &scratch);
    if (len > 0) {
      if (gap < p) out.push_back(std::string(1, '~').append(text, gap, p - gap));
      out.push_back(text.substr(p, static_cast<size_t>(len)));
      p += static_cast<size_t>(len);
      gap = p;
    } else {
      ++p;
      while (p < text.size() && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) ++p;
    }
  }
  if (gap < text.size()) out.push_back(std::string(1, '~').append(text, gap));
  return out;
}

constexpr const char* kCl100k =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

TEST(RegexTest, Cl100kPieces) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitAll(kCl100k, "Hello world's  \n\n 12345 x"),
            (V{"Hello", " world", "'s", "  \n\n", " ", "123", "45", " x"}));
  // Whitespace before a word leaves its last space to the word (lookahead).
  EXPECT_EQ(SplitAll(kCl100k, "a   b"), (V{"a", "  ", " b"}));
  // Case-insensitive contraction, including U+017F LATIN SMALL LETTER LONG S.
  EXPECT_EQ(SplitAll(kCl100k, "IT'S"), (V{"IT", "'S"}));
  EXPECT_EQ(SplitAll(kCl100k, "it'\xC5\xBF"), (V{"it", "'\xC5\xBF"}));
  // Non-ASCII letters and digits.
  EXPECT_EQ(SplitAll(kCl100k, "\xD0\xBF\xD1\x80\xD0\xB8 \xD9\xA1\xD9\xA2"), (V{"\xD0\xBF\xD1\x80\xD0\xB8", " ", "\xD9\xA1\xD9\xA2"}));
}

TEST(RegexTest, PossessiveDoesNotBacktrack) {
  using V = std::vector<std::string>;
  // a++a can never match: the possessive run keeps every 'a'.
  EXPECT_EQ(SplitAll("a++a|b", "aaab"), (V{"~aaa", "b"}));
  EXPECT_EQ(SplitAll("a+a|b", "aaab"), (V{"aaa", "b"}));
  EXPECT_EQ(SplitAll("(?:ab)++", "ababx"), (V{"abab", "~x"}));
}

TEST(RegexTest, EndAnchorAndClasses) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitAll("\\s+$|\\S+", "a b  "), (V{"a", "~ ", "b", "  "}));
  EXPECT_EQ(SplitAll("[^\\s\\p{L}]+", "ab!? c"), (V{"~ab", "!?", "~ c"}));
  EXPECT_EQ(SplitAll("\\p{N}{1,3}", "12345"), (V{"123", "45"}));
}

TEST(RegexTest, RejectsUnsupportedSyntaxClearly) {
  for (const char* bad : {"a+?", "(?<=a)b", "[a", "(a", "\\p{Foo}", "a{2", "(?:)*"}) {
    auto re = Regex::Compile(bad);
    ASSERT_FALSE(re.ok()) << bad;
    EXPECT_NE(re.status().message().find("pattern"), std::string::npos);
  }
}

}  // namespace
}  // namespace telltale::tokenize
