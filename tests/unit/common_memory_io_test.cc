// HugePageAllocator and ReadFile: the pieces of common/ that the tokenizer
// and the corpus test lean on for speed must stay correct at their edges.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "common/file_io.h"
#include "common/huge_pages.h"
#include "common/small_buffer.h"
#include "test_util.h"

namespace telltale {
namespace {

TEST(SmallBuffer, InlineUpToNThenHeapAlwaysZeroed) {
  for (size_t n : {0u, 1u, 16u, 17u, 1000u}) {
    SmallBuffer<int64_t, 16> b(n);
    EXPECT_EQ(b.inline_storage(), n <= 16) << n;
    ASSERT_EQ(b.span().size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(b[i], 0) << n << " at " << i;
      b[i] = static_cast<int64_t>(i) * 3;
    }
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(b.span()[i], static_cast<int64_t>(i) * 3);
  }
}

TEST(HugePageAllocator, LargeBlocksAreAlignedZeroedAndWritable) {
  HugePageVector<uint64_t> v(kMinHugePageBytes / sizeof(uint64_t) + 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageBytes, 0u);
  for (uint64_t x : v) ASSERT_EQ(x, 0u);
  for (size_t i = 0; i < v.size(); ++i) v[i] = i * 7;
  EXPECT_EQ(v.back(), (v.size() - 1) * 7);
}

TEST(HugePageAllocator, GrowthAcrossTheThresholdKeepsEveryElement) {
  // Crosses from operator new to mmap and through several mmap sizes.
  HugePageVector<uint32_t> v;
  const size_t n = 3 * kHugePageBytes / sizeof(uint32_t) + 17;
  for (size_t i = 0; i < n; ++i) v.push_back(static_cast<uint32_t>(i ^ 0x5a5a));
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(v[i], static_cast<uint32_t>(i ^ 0x5a5a)) << i;
  v.clear();
  v.shrink_to_fit();
  EXPECT_EQ(v.capacity(), 0u);
}

TEST(HugePageAllocator, SmallBlocksHonourOverAlignedTypes) {
  struct alignas(64) Line { char b[64]; };
  HugePageVector<Line> v(3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % 64, 0u);
}

TEST(HugePageAllocator, ImpossibleSizesThrowInsteadOfWrapping) {
  HugePageAllocator<uint64_t> a;
  EXPECT_THROW((void)a.allocate(SIZE_MAX / 4), std::bad_array_new_length);
}

class ReadFileTest : public ::testing::Test {
 protected:
  void Write(const std::string& bytes) { ASSERT_TRUE(WriteFileAtomically(path_, bytes).ok()); }
  testing::TempDir dir_;
  const std::string path_ = dir_.File("data.bin");
};

TEST_F(ReadFileTest, ReadsEveryByteOfSmallEmptyAndLargeFiles) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{3} << 20}) {
    std::string bytes(n, '\0');
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 31 + (i >> 8));
    Write(bytes);
    auto got = ReadFile(path_);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->size(), n);
    EXPECT_TRUE(*got == bytes) << "size " << n;
  }
}

TEST_F(ReadFileTest, TheLimitIsInclusiveAndNamesTheFile) {
  Write(std::string(1000, 'x'));
  EXPECT_TRUE(ReadFile(path_, 1000).ok());
  auto over = ReadFile(path_, 999);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find(path_), std::string::npos);
  EXPECT_NE(over.status().message().find("999"), std::string::npos);
}

TEST_F(ReadFileTest, ReadsFilesWithoutASizeSuchAsProcEntries) {
  // /proc files report size 0: the size hint must not cut them short.
  auto got = ReadFile("/proc/self/status");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_NE(got->find("Name:"), std::string::npos);
  EXPECT_NE(got->find("VmRSS"), std::string::npos);
}

}  // namespace
}  // namespace telltale
