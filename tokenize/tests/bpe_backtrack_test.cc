// The backtracking encoder must give the merge loop's ids on every input.
// Random byte-level vocabularies over a 4-letter alphabet make merges and
// backtracking dense; shuffled ranks make merges fire out of rank order
// inside tokens (the "irregular" path), in-order ranks the fast replay.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tokenize/bpe_model.h"

namespace telltale::tokenize {
namespace {

BpeModel RandomModel(uint32_t seed, int merges, bool shuffled_ranks) {
  std::mt19937 rng(seed);
  BpeModel m;
  m.set_byte_level(true);
  for (int b = 0; b < 256; ++b) EXPECT_TRUE(m.AddToken(std::string(1, static_cast<char>(b)), b).ok());
  std::vector<uint32_t> alphabet = {'a', 'b', 'c', 'd'};
  std::vector<std::string> text(256);
  for (int b = 0; b < 256; ++b) text[b] = std::string(1, static_cast<char>(b));
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  std::set<std::pair<uint32_t, uint32_t>> seen;
  uint32_t next_id = 256;
  while (static_cast<int>(pairs.size()) < merges) {
    uint32_t a = alphabet[rng() % alphabet.size()], b = alphabet[rng() % alphabet.size()];
    if (seen.count({a, b}) != 0) continue;
    std::string joined = text[a] + text[b];
    if (joined.size() > 12) continue;
    seen.insert({a, b});
    uint32_t id = m.Find(joined);
    if (id == BpeModel::kNone) {
      id = next_id++;
      EXPECT_TRUE(m.AddToken(joined, id).ok());
      text.push_back(joined);
      alphabet.push_back(id);
    }
    pairs.emplace_back(a, b);
  }
  std::vector<uint32_t> ranks(pairs.size());
  for (uint32_t i = 0; i < ranks.size(); ++i) ranks[i] = i;
  if (shuffled_ranks) std::shuffle(ranks.begin(), ranks.end(), rng);
  for (size_t i = 0; i < pairs.size(); ++i) EXPECT_TRUE(m.AddMerge(pairs[i].first, pairs[i].second, ranks[i]).ok());
  EXPECT_TRUE(m.Finalize().ok());
  return m;
}

std::vector<uint32_t> Ids(const BpeModel& m, const std::string& s, BpeModel::Scratch* scratch) {
  std::vector<TokenOut> out;
  EXPECT_TRUE(m.EncodePiece(s, 0, static_cast<uint32_t>(s.size()), scratch, &out).ok());
  std::vector<uint32_t> ids;
  uint32_t at = 0;
  for (const auto& o : out) {
    EXPECT_EQ(o.begin, at) << "offsets must tile the piece";
    at = o.end;
    ids.push_back(o.id);
  }
  EXPECT_EQ(at, s.size());
  return ids;
}

void ExpectSameAsMergeLoop(bool shuffled_ranks) {
  size_t checked = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    BpeModel fast = RandomModel(seed, 200, shuffled_ranks);
    ASSERT_TRUE(fast.backtracking());
    fast.set_backtrack_min_bytes(1);  // the encoder on every piece, short ones too
    BpeModel slow = fast;
    slow.DisableBacktracking();
    BpeModel::Scratch fs, ss;
    std::mt19937 rng(seed * 7919);
    std::vector<std::string> words;  // multi-byte vocabulary entries
    for (uint32_t id = 256; id < fast.size(); ++id) words.push_back(fast.token(id));
    for (int k = 0; k < 1500; ++k) {
      std::string s;
      if (k % 3 == 0) {  // random letters
        size_t len = 1 + rng() % 80;
        for (size_t i = 0; i < len; ++i) s.push_back("abcd "[rng() % (k % 2 ? 4 : 5)]);
      } else {  // a few tokens end to end: every boundary is a pair to judge
        for (size_t i = 0, n = 2 + rng() % 4; i < n; ++i) s += words[rng() % words.size()];
      }
      ASSERT_EQ(Ids(fast, s, &fs), Ids(slow, s, &ss)) << "seed " << seed << " text '" << s << "'";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12u * 1500u);
}

// The pair check against BPE itself, for every two valid tokens of small
// random vocabularies: rare constellations decide boundaries in real text.
TEST(BpeBacktrack, PairCheckAgreesWithTheMergeLoopOnEveryPair) {
  size_t checked = 0, split = 0;
  for (uint32_t seed = 1; seed <= 16; ++seed) {
    BpeModel fast = RandomModel(seed, 200, seed % 2 == 0);
    BpeModel slow = fast;
    slow.DisableBacktracking();
    BpeModel::Scratch ss;
    std::vector<uint32_t> valid;
    for (uint32_t id : {uint32_t{'a'}, uint32_t{'b'}, uint32_t{'c'}, uint32_t{'d'}}) valid.push_back(id);
    for (uint32_t id = 256; id < fast.size(); ++id) {
      if (Ids(slow, fast.token(id), &ss) == std::vector<uint32_t>{id}) valid.push_back(id);
    }
    for (uint32_t a : valid) {
      for (uint32_t b : valid) {
        bool want = Ids(slow, fast.token(a) + fast.token(b), &ss) == std::vector<uint32_t>{a, b};
        ASSERT_EQ(fast.ValidPair(a, b), want)
            << "seed " << seed << " '" << fast.token(a) << "' + '" << fast.token(b) << "'";
        ++checked;
        split += want;
      }
    }
  }
  EXPECT_GT(checked, 16u * 80u * 80u);
  EXPECT_GT(split, checked / 10);  // both answers are well represented
  EXPECT_LT(split, checked - checked / 10);
}

TEST(BpeBacktrack, MatchesTheMergeLoopWithRanksInMergeOrder) { ExpectSameAsMergeLoop(false); }
TEST(BpeBacktrack, MatchesTheMergeLoopWithShuffledRanks) { ExpectSameAsMergeLoop(true); }

// Past 8,192 tokens Finalize classifies tokens on several threads; the
// tables must be the ones that make the encoder agree with the merge loop.
TEST(BpeBacktrack, LargeVocabularyBuiltOnThreadsMatchesTheMergeLoop) {
  BpeModel fast = RandomModel(4242, 9000, true);
  ASSERT_GT(fast.size(), 8192u);
  ASSERT_TRUE(fast.backtracking());
  fast.set_backtrack_min_bytes(1);
  BpeModel slow = fast;
  slow.DisableBacktracking();
  BpeModel::Scratch fs, ss;
  std::mt19937 rng(99);
  for (int k = 0; k < 3000; ++k) {
    std::string s;
    for (size_t i = 0, len = 1 + rng() % 60; i < len; ++i) s.push_back("abcd"[rng() % 4]);
    ASSERT_EQ(Ids(fast, s, &fs), Ids(slow, s, &ss)) << "text '" << s << "'";
  }
}

TEST(BpeBacktrack, OffForModelsThatAreNotByteLevel) {
  BpeModel m;
  ASSERT_TRUE(m.AddToken("a", 0).ok());
  ASSERT_TRUE(m.AddToken("b", 1).ok());
  ASSERT_TRUE(m.AddToken("ab", 2).ok());
  ASSERT_TRUE(m.AddMerge(0, 1, 0).ok());
  ASSERT_TRUE(m.Finalize().ok());
  EXPECT_FALSE(m.backtracking());
}

}  // namespace
}  // namespace telltale::tokenize
