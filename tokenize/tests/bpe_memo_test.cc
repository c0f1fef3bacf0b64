// The piece memo changes speed, never results: a piece encoded from the memo
// (a hit, at any offset, in either tier) must give exactly the ids and
// offsets of an encoding without the memo, including pieces at the
// tiers' size limits, pieces too long for any slot, and slots overwritten
// by colliding pieces.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenize/bpe_model.h"

namespace telltale::tokenize {
namespace {

// Bytes, plus merges that make "aa", "aaaa", "ab" and "abab": a piece's
// token count then ranges from 1 to its length, set by its letters.
BpeModel SmallModel() {
  BpeModel m;
  m.set_byte_level(true);
  for (int b = 0; b < 256; ++b) EXPECT_TRUE(m.AddToken(std::string(1, static_cast<char>(b)), b).ok());
  EXPECT_TRUE(m.AddToken("aa", 256).ok());
  EXPECT_TRUE(m.AddToken("aaaa", 257).ok());
  EXPECT_TRUE(m.AddToken("ab", 258).ok());
  EXPECT_TRUE(m.AddToken("abab", 259).ok());
  EXPECT_TRUE(m.AddMerge('a', 'a', 0).ok());
  EXPECT_TRUE(m.AddMerge(256, 256, 1).ok());
  EXPECT_TRUE(m.AddMerge('a', 'b', 2).ok());
  EXPECT_TRUE(m.AddMerge(258, 258, 3).ok());
  EXPECT_TRUE(m.Finalize().ok());
  return m;
}

// The reference: no memo at all.
BpeModel::Scratch NoMemo() {
  BpeModel::Scratch s;
  s.use_memo = false;
  return s;
}

// Encodes `piece` placed at byte `at` of a larger text.
std::vector<TokenOut> Encode(const BpeModel& m, const std::string& piece, uint32_t at, BpeModel::Scratch* s) {
  const std::string text = std::string(at, ' ') + piece + "  ";
  std::vector<TokenOut> out;
  EXPECT_TRUE(m.EncodePiece(text, at, at + static_cast<uint32_t>(piece.size()), s, &out).ok());
  return out;
}

bool Same(const std::vector<TokenOut>& a, const std::vector<TokenOut>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].begin != b[i].begin || a[i].end != b[i].end) return false;
  }
  return true;
}

std::string Show(const std::vector<TokenOut>& v) {
  std::string s;
  for (const TokenOut& o : v) {
    s += std::to_string(o.id) + "@" + std::to_string(o.begin) + "-" + std::to_string(o.end) + " ";
  }
  return s;
}

TEST(BpeMemo, HitsEqualFreshEncodingsAtEveryLengthAndTokenCount) {
  const BpeModel m = SmallModel();
  BpeModel::Scratch shared;
  std::mt19937 rng(7);
  size_t checked = 0;
  // Lengths across both tiers' key limits (16 and 32) and past them; the
  // letter mix sets the token count from 1 ("aaaa...") to the length ("xyz...").
  for (size_t len = 1; len <= 40; ++len) {
    for (const char* alphabet : {"a", "ab", "abx", "xyz", "abxyz"}) {
      const size_t letters = std::char_traits<char>::length(alphabet);
      for (int rep = 0; rep < 6; ++rep) {
        std::string piece;
        for (size_t i = 0; i < len; ++i) piece.push_back(alphabet[rng() % letters]);
        BpeModel::Scratch fresh = NoMemo();
        const std::vector<TokenOut> want_at3 = Encode(m, piece, 3, &fresh);
        const std::vector<TokenOut> want_at11 = Encode(m, piece, 11, &fresh);
        // First sighting (stored), then hits at the same and at another offset.
        for (uint32_t at : {3u, 3u, 11u, 3u}) {
          const std::vector<TokenOut> got = Encode(m, piece, at, &shared);
          const std::vector<TokenOut>& want = at == 3 ? want_at3 : want_at11;
          ASSERT_TRUE(Same(got, want)) << "piece '" << piece << "' at " << at << ": got " << Show(got) << "want "
                                       << Show(want);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 40u * 5u * 6u * 4u);
}

// More distinct pieces than either tier has slots: pieces evict each other,
// and every later lookup must still give the piece's own tokens.
TEST(BpeMemo, CollidingPiecesNeverAnswerForEachOther) {
  const BpeModel m = SmallModel();
  BpeModel::Scratch shared, fresh = NoMemo();
  std::vector<std::string> pieces;
  std::mt19937 rng(11);
  for (size_t i = 0; i < 3 * BpeModel::Scratch::kShortSlots; ++i) {
    // Short keys of 1-3 tokens and of more (which use the long tier), and long keys.
    const size_t len = i % 3 == 0 ? 2 + rng() % 15 : i % 3 == 1 ? 17 + rng() % 16 : 4 + rng() % 8;
    std::string p;
    for (size_t k = 0; k < len; ++k) p.push_back("abxyz"[rng() % (i % 3 == 2 ? 5 : 2)]);
    pieces.push_back(std::move(p));
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < pieces.size(); i += pass == 0 ? 1 : 97) {
      const std::vector<TokenOut> want = Encode(m, pieces[i], 5, &fresh);
      const std::vector<TokenOut> got = Encode(m, pieces[i], 5, &shared);
      ASSERT_TRUE(Same(got, want)) << "pass " << pass << " piece '" << pieces[i] << "'";
      // Right away again: a hit now.
      ASSERT_TRUE(Same(Encode(m, pieces[i], 5, &shared), want)) << "piece '" << pieces[i] << "'";
    }
  }
}

// A hint with no effect on results, also before the memo exists.
TEST(BpeMemo, PrefetchThenEncodeWithTheCallersHash) {
  const BpeModel m = SmallModel();
  BpeModel::Scratch s, fresh = NoMemo();
  const std::vector<std::string> pieces = {"ab", std::string(16, 'b'), std::string(32, 'b'), std::string(40, 'x')};
  for (const std::string& piece : pieces) {
    const size_t h = BpeModel::PieceHash(piece);
    BpeModel::PrefetchMemo(h, piece.size(), &s);
    for (int k = 0; k < 2; ++k) {
      std::vector<TokenOut> got;
      ASSERT_TRUE(m.EncodePiece(piece, 0, static_cast<uint32_t>(piece.size()), h, &s, &got).ok());
      EXPECT_TRUE(Same(got, Encode(m, piece, 0, &fresh))) << piece;
    }
  }
}

}  // namespace
}  // namespace telltale::tokenize
