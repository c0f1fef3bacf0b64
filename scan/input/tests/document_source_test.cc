#include "scan/input/document_source.h"

#include <gtest/gtest.h>

#include "scan/input/tests/test_files.h"

namespace telltale::scan {
namespace {

TEST(DocumentSourceTest, ReadsPlainTextFilesInSortedOrder) {
  TempDir dir;
  dir.Write("b.txt", "second");
  dir.Write("a.txt", "first");
  dir.Write("sub/c.txt", "third");
  InputOptions o;
  o.paths = {dir.path()};
  auto items = ReadAll(o);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].text, "first");
  EXPECT_EQ(items[0].source, dir.path() + "/a.txt");
  EXPECT_EQ(items[1].text, "second");
  EXPECT_EQ(items[2].text, "third");
  EXPECT_EQ(items[2].source, dir.path() + "/sub/c.txt");
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].index, i);
    EXPECT_EQ(items[i].kind, ItemKind::kDocument);
    EXPECT_EQ(items[i].line, 0u);
  }
}

}  // namespace
}  // namespace telltale::scan
