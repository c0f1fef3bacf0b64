// The piece memo changes speed, never results: a piece encoded from the memo
// (a hit, at any offset, in either tier) must give exactly the ids and
// offsets of an encoding without the memo, including pieces at the
// tiers' size limits, pieces too long for any slot, and slots overwritten
// by colliding pieces.
#include <gtest/gtest.h>

#include <random>
#include <set>
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

// Short keys are compared as two masked 16-byte words read past the piece's
// end when the text allows: the bytes after a piece must never matter, and
// a key that is a prefix of another (or differs only in a NUL) is not it.
TEST(BpeMemo, BytesAfterAPieceNeverChangeItsHit) {
  const BpeModel m = SmallModel();
  BpeModel::Scratch shared, fresh = NoMemo();
  std::mt19937 rng(5);
  const std::vector<std::string> pieces = {"a", "ab", "aba", "abab", std::string("a\0", 2), std::string("a\0b", 3),
                                           std::string(15, 'b'), std::string(16, 'a'), "abxabxabxabxab"};
  for (int rep = 0; rep < 50; ++rep) {
    for (const std::string& piece : pieces) {
      // 0 to 24 bytes after the piece: readable words past its end or not;
      // often the next letters of a longer piece in the list.
      std::string text = std::string(rep % 7, ' ') + piece;
      const uint32_t at = static_cast<uint32_t>(rep % 7);
      const size_t tail = rng() % 25;
      for (size_t k = 0; k < tail; ++k) text.push_back(k % 2 == 0 ? "ab\0x"[rng() % 4] : piece[k % piece.size()]);
      std::vector<TokenOut> got, want;
      ASSERT_TRUE(m.EncodePiece(text, at, at + static_cast<uint32_t>(piece.size()), &shared, &got).ok());
      ASSERT_TRUE(m.EncodePiece(text, at, at + static_cast<uint32_t>(piece.size()), &fresh, &want).ok());
      ASSERT_TRUE(Same(got, want)) << "piece of " << piece.size() << " bytes, " << tail << " after: got " << Show(got)
                                   << "want " << Show(want);
    }
  }
}

// "abc" and "abc\0" have the same masked words; only the length tells them
// apart when they share a slot. With a merge (c, NUL) for every byte c both
// are 3 tokens, so both live in the short tier. Searches for such a pair in
// one slot, then checks that neither answers for the other.
TEST(BpeMemo, KeysThatDifferOnlyByATrailingNulShareNoHit) {
  BpeModel m;
  m.set_byte_level(true);
  for (int b = 0; b < 256; ++b) ASSERT_TRUE(m.AddToken(std::string(1, static_cast<char>(b)), b).ok());
  for (int b = 0; b < 256; ++b) {
    ASSERT_TRUE(m.AddToken(std::string(1, static_cast<char>(b)) + std::string(1, '\0'), 256 + b).ok());
    ASSERT_TRUE(m.AddMerge(b, 0, b).ok());
  }
  ASSERT_TRUE(m.Finalize().ok());
  std::string shorter, longer;
  for (uint32_t x = 1; x < (1u << 24) && shorter.empty(); ++x) {
    const std::string p = {static_cast<char>(x & 255), static_cast<char>(x >> 8 & 255), static_cast<char>(x >> 16 | 1)};
    const std::string q = p + std::string(1, '\0');
    if (BpeModel::Scratch::ShortIndex(BpeModel::PieceHash(p)) == BpeModel::Scratch::ShortIndex(BpeModel::PieceHash(q))) {
      shorter = p;
      longer = q;
    }
  }
  ASSERT_FALSE(shorter.empty()) << "no pair in the same slot";
  for (const bool longer_first : {true, false}) {
    BpeModel::Scratch shared, fresh = NoMemo();
    const std::string& first = longer_first ? longer : shorter;
    const std::string& second = longer_first ? shorter : longer;
    ASSERT_EQ(Encode(m, first, 0, &fresh).size(), 3u);
    ASSERT_EQ(Encode(m, second, 0, &fresh).size(), 3u);
    ASSERT_TRUE(Same(Encode(m, first, 0, &shared), Encode(m, first, 0, &fresh)));
    const std::vector<TokenOut> got = Encode(m, second, 0, &shared), want = Encode(m, second, 0, &fresh);
    EXPECT_TRUE(Same(got, want)) << "got " << Show(got) << "want " << Show(want);
  }
}

// The inline hit path answers exactly where the short tier holds the piece,
// with EncodePiece's tokens, and leaves the output alone otherwise.
TEST(BpeMemo, InlineShortHitEqualsEncodePiece) {
  const BpeModel m = SmallModel();
  BpeModel::Scratch s, fresh = NoMemo();
  std::set<std::string> seen;
  std::mt19937 rng(9);
  for (size_t len = 0; len <= 20; ++len) {
    for (const char* alphabet : {"a", "ab", "xyz"}) {
      std::string piece;
      for (size_t i = 0; i < len; ++i) piece.push_back(alphabet[rng() % std::char_traits<char>::length(alphabet)]);
      const std::string text = "  " + piece + (len % 2 == 0 ? std::string(20, 'q') : std::string("."));
      const uint32_t b = 2, e = 2 + static_cast<uint32_t>(len);
      const size_t h = BpeModel::PieceHash(text, b, e);
      std::vector<TokenOut> out = {{7, 0, 1}};
      ASSERT_FALSE(BpeModel::EncodeShortHit(text, b, e, h, fresh, &out)) << "memo-less scratch";
      if (seen.insert(piece).second) {
        ASSERT_FALSE(BpeModel::EncodeShortHit(text, b, e, h, s, &out)) << "not stored yet: " << piece;
        ASSERT_EQ(out.size(), 1u);
      }
      std::vector<TokenOut> want;
      ASSERT_TRUE(m.EncodePiece(text, b, e, h, &s, &want).ok());
      std::vector<TokenOut> got;
      const bool hit = BpeModel::EncodeShortHit(text, b, e, h, s, &got);
      // Stored in the short tier: 1-16 bytes and 1-3 tokens.
      EXPECT_EQ(hit, len >= 1 && len <= 16 && want.size() <= 3) << piece;
      if (hit) {
        EXPECT_TRUE(Same(got, want)) << piece << ": got " << Show(got) << "want " << Show(want);
      } else {
        EXPECT_TRUE(got.empty());
      }
    }
  }
}

TEST(BpeMemo, PieceWordsAndHashIgnoreTheBytesAfterThePiece) {
  std::mt19937 rng(3);
  for (size_t n = 0; n <= BpeModel::Scratch::ShortSlot::kKeyMax; ++n) {
    for (int rep = 0; rep < 20; ++rep) {
      std::string a(32, '\0'), b(32, '\0');
      for (size_t k = 0; k < 32; ++k) {
        a[k] = static_cast<char>(rng());
        b[k] = k < n ? a[k] : static_cast<char>(rng());
      }
      const PieceWords wa = LoadPieceWords(a.data(), n, a.size()), wb = LoadPieceWords(b.data(), n, n);
      EXPECT_EQ(wa.lo, wb.lo) << n;
      EXPECT_EQ(wa.hi, wb.hi) << n;
      EXPECT_EQ(BpeModel::PieceHash(a, 0, static_cast<uint32_t>(n)), BpeModel::PieceHash(std::string_view(b).substr(0, n)))
          << n;
    }
  }
}

}  // namespace
}  // namespace telltale::tokenize
