#include "detect/token_documents.h"

#include <gtest/gtest.h>

#include "common/file_io.h"
#include "test_util.h"

namespace telltale {
namespace {

TEST(TokenDocuments, ParsesIdLinesAndJsonl) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("t"), "1 2 3\n\n{\"id\":\"a\",\"tokens\":[4,5]}\n  7\t8 \r\n").ok());
  auto r = TokenDocumentReader::Open(dir.File("t"));
  ASSERT_TRUE(r.ok());
  TokenDocument doc;
  ASSERT_TRUE(*r->Next(&doc));
  EXPECT_EQ(doc.tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(doc.line, 1);
  ASSERT_TRUE(*r->Next(&doc));
  EXPECT_EQ(doc.tokens, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(doc.id, "a");
  EXPECT_EQ(doc.line, 3);
  ASSERT_TRUE(*r->Next(&doc));
  EXPECT_EQ(doc.tokens, (std::vector<int32_t>{7, 8}));
  EXPECT_FALSE(*r->Next(&doc));
}

TEST(TokenDocuments, ErrorsNameLineColumnAndReason) {
  struct Case {
    const char* line;
    const char* part;
  } cases[] = {
      {"1 2 x3", "f:1: column 5: 'x3' is not a token id"},
      {"1 -2", "column 3: '-2' is not a token id"},
      {"1 99999999999", "'99999999999' is not a token id"},
      {"{\"tokens\": [1, \"a\"]}", "tokens[1] = \"a\" is not a token id"},
      {"{\"tokens\": 5}", "\"tokens\" is not an array"},
      {"{\"toks\": []}", "has no \"tokens\" field"},
      {"{\"tokens\": [1,", "not valid JSON"},
      {"{\"tokens\": [1], \"id\": [1]}", "\"id\" must be a string or a number"},
  };
  for (const Case& c : cases) {
    TokenDocument doc;
    Status s = TokenDocumentReader::ParseLine(c.line, "f:1", &doc);
    ASSERT_FALSE(s.ok()) << c.line;
    EXPECT_NE(s.message().find(c.part), std::string::npos) << c.line << " -> " << s.message();
  }
}

TEST(TokenDocuments, BinaryInputIsRejected) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("b"), std::string("1 2\0 3\n", 7)).ok());
  auto r = TokenDocumentReader::Open(dir.File("b"));
  TokenDocument doc;
  auto next = r->Next(&doc);
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("NUL byte"), std::string::npos);
  EXPECT_EQ(TokenDocumentReader::Open(dir.File("missing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace telltale
