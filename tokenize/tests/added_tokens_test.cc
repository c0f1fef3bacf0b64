#include "tokenize/added_tokens.h"

#include <gtest/gtest.h>

#include <string>

namespace telltale::tokenize {
namespace {

struct Hit {
  size_t pos, len;
  std::string content;
};

// Every match FindNext reports, left to right.
std::vector<Hit> All(const AddedTokens& a, std::string_view text, bool match_special) {
  std::vector<Hit> out;
  size_t from = 0, pos, len;
  uint32_t token;
  while (a.FindNext(text, from, match_special, &pos, &len, &token)) {
    out.push_back({pos, len, a.tokens()[token].content});
    from = pos + len;
  }
  return out;
}

TEST(AddedTokens, OneFirstByteLeftmostLongestAndSpecialFilter) {
  // All tokens start with '<': the memchr scan.
  AddedTokens a;
  a.Add({"<|eot|>", 1, true});
  a.Add({"<|eot|>x", 2, false});
  a.Add({"<b>", 3, false});
  const std::string text = "no<|eot|>x then <b>< and <|eot|> <";
  auto with = All(a, text, true);
  ASSERT_EQ(with.size(), 3u);
  EXPECT_EQ(with[0].pos, 2u);
  EXPECT_EQ(with[0].content, "<|eot|>x");  // longest at the leftmost position
  EXPECT_EQ(with[1].content, "<b>");
  EXPECT_EQ(with[2].pos, text.find("<|eot|> <"));
  auto without = All(a, text, false);
  ASSERT_EQ(without.size(), 2u);  // the special "<|eot|>" alone is plain text now
  EXPECT_EQ(without[0].content, "<|eot|>x");
  EXPECT_EQ(without[1].content, "<b>");
}

TEST(AddedTokens, SeveralFirstBytesAndOnlySpecialTokens) {
  AddedTokens a;
  a.Add({"<s>", 1, true});
  a.Add({"[MASK]", 2, false});
  a.Add({"\xE2\x96\x81\xE2\x96\x81", 3, false});
  const std::string text = "x[MASK]<s>\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81";
  auto with = All(a, text, true);
  ASSERT_EQ(with.size(), 3u);
  EXPECT_EQ(with[0].content, "[MASK]");
  EXPECT_EQ(with[1].content, "<s>");
  EXPECT_EQ(with[2].pos, 10u);
  auto without = All(a, text, false);
  ASSERT_EQ(without.size(), 2u);
  EXPECT_EQ(without[0].content, "[MASK]");
  EXPECT_EQ(without[1].pos, 10u);

  AddedTokens specials_only;
  specials_only.Add({"<|endoftext|>", 7, true});
  EXPECT_TRUE(All(specials_only, "a <|endoftext|> b", false).empty());
  EXPECT_EQ(All(specials_only, "a <|endoftext|> b", true).size(), 1u);
  EXPECT_TRUE(All(AddedTokens{}, "<|endoftext|>", true).empty());
}

}  // namespace
}  // namespace telltale::tokenize
