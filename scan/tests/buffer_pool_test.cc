#include "scan/buffer_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace telltale::scan {
namespace {

std::string WithCapacity(size_t n) {
  std::string s;
  s.reserve(n);
  s.assign(n / 2, 'x');
  return s;
}

TEST(BufferPool, KeepsOnlyBuffersWorthReusingWithinItsBounds) {
  BufferPool pool(4);
  pool.GiveText(std::string("short"));                      // inline: nothing to reuse
  pool.GiveText(WithCapacity(BufferPool::kMaxText + 1));     // too large to hold on to
  pool.GiveText(WithCapacity(1000));
  pool.GiveText(WithCapacity(2000));
  std::vector<std::string> texts;
  pool.TakeTexts(&texts);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_GE(texts[0].capacity(), 1000u);
  // At most max_items, and at most kMaxTextBytes in all.
  for (int i = 0; i < 10; ++i) pool.GiveText(WithCapacity(1000));
  std::vector<std::string> more;
  pool.TakeTexts(&more);
  EXPECT_EQ(more.size(), 4u);
  for (size_t i = 0; i < 4 * BufferPool::kMaxTextBytes / BufferPool::kMaxText; ++i) {
    pool.GiveText(WithCapacity(BufferPool::kMaxText));
  }
  std::vector<std::string> big;
  pool.TakeTexts(&big);
  size_t bytes = 0;
  for (const std::string& s : big) bytes += s.capacity();
  EXPECT_LE(bytes, BufferPool::kMaxTextBytes);
  EXPECT_FALSE(big.empty());
}

TEST(BufferPool, TakeWaitsUntilTheTakerHasUsedWhatItHas) {
  BufferPool pool(8);
  pool.GiveSource(std::string(100, 'p'));
  std::vector<std::string> sources = {std::string(50, 'q')};
  pool.TakeSources(&sources);  // still holds one: nothing moves
  EXPECT_EQ(sources.size(), 1u);
  std::string into = "old content that must not survive";
  BufferPool::Reuse(&sources, &into);
  EXPECT_TRUE(into.empty());
  EXPECT_GE(into.capacity(), 50u);
  EXPECT_TRUE(sources.empty());
  pool.TakeSources(&sources);
  EXPECT_EQ(sources.size(), 1u);
  // Reuse from an empty list leaves the target alone.
  std::vector<std::string> none;
  std::string keep = "kept";
  BufferPool::Reuse(&none, &keep);
  EXPECT_EQ(keep, "kept");
}

TEST(BufferPool, KeyScoresComeBackEmpty) {
  BufferPool pool(2);
  pool.GiveKeys(std::vector<KeyScore>(3, KeyScore{-5, -4}));
  pool.GiveKeys({});  // no storage: not kept
  std::vector<std::vector<KeyScore>> keys;
  pool.TakeKeys(&keys);
  ASSERT_EQ(keys.size(), 1u);
  std::vector<KeyScore> v;
  BufferPool::Reuse(&keys, &v);
  EXPECT_TRUE(v.empty());
  EXPECT_GE(v.capacity(), 3u);
}

}  // namespace
}  // namespace telltale::scan
