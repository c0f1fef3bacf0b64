#include "tokenize/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace telltale::tokenize {
namespace {

std::vector<std::string> Split(const std::string& literal, PreTokenizer::Behavior behavior, bool invert,
                               const std::string& text) {
  PreTokenizer pre;
  EXPECT_TRUE(pre.AddSplit(nullptr, literal, behavior, invert).ok());
  NormalizedText t(text, 0);
  PreTokenizer::Scratch scratch;
  std::vector<Piece> pieces;
  EXPECT_TRUE(pre.Run(&t, &scratch, &pieces).ok());
  std::vector<std::string> out;
  for (const Piece& p : pieces) out.push_back(t.text().substr(p.begin, p.end - p.begin));
  return out;
}

using V = std::vector<std::string>;

// Literal splits find every occurrence left to right, without overlaps,
// for one-byte literals (SentencePiece's " ") and longer ones, as Hugging
// Face's Split with a String pattern does.
TEST(PreTokenizerTest, LiteralSplits) {
  using B = PreTokenizer::Behavior;
  EXPECT_EQ(Split(" ", B::kMergedWithPrevious, false, "a b  c "), (V{"a ", "b ", " ", "c "}));
  EXPECT_EQ(Split(" ", B::kIsolated, false, " x"), (V{" ", "x"}));
  EXPECT_EQ(Split(" ", B::kRemoved, false, "no-space"), (V{"no-space"}));
  EXPECT_EQ(Split("ab", B::kIsolated, false, "xxabyababa"), (V{"xx", "ab", "y", "ab", "ab", "a"}));
  EXPECT_EQ(Split("aa", B::kIsolated, false, "aaa"), (V{"aa", "a"}));
  EXPECT_EQ(Split("\xE2\x96\x81", B::kMergedWithNext, false, "\xE2\x96\x81" "a\xE2\x96\x81" "b"),
            (V{"\xE2\x96\x81" "a", "\xE2\x96\x81" "b"}));
  EXPECT_EQ(Split("ab", B::kRemoved, true, "xabyab"), (V{"ab", "ab"}));
}

}  // namespace
}  // namespace telltale::tokenize
