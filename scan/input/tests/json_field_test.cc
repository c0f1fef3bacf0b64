#include "scan/input/json_field.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

namespace telltale::scan {
namespace {

void ExpectSame(const JsonFieldPath& path, const std::string& line) {
  JsonFieldPath::Result fast = path.Extract(line);
  JsonFieldPath::Result ref = path.ExtractReference(line);
  ASSERT_EQ(static_cast<int>(fast.outcome), static_cast<int>(ref.outcome)) << "line: " << line;
  ASSERT_EQ(fast.value, ref.value) << "line: " << line;
  ASSERT_EQ(fast.detail, ref.detail) << "line: " << line;
}

TEST(JsonFieldTest, ScannerAgreesWithNlohmannOnHandPickedLines) {
  auto path = JsonFieldPath::Parse("a.1.b");
  ASSERT_TRUE(path.ok());
  const std::vector<std::string> lines = {
      R"({"a": [0, {"b": "x\"y\\z\/\b\f\n\r\t\u00e9\ud83d\ude00"}]})",
      R"({"a": [0, {"b": null}]})",
      R"({"a": [0, {"b": 1.5e-3}]})",
      R"({"a": [0, {"b": [1]}]})",
      R"({"a": {"1": {"b": "key"}}})",
      R"({"a": "flat"})",
      R"({"a": [0]})",
      R"("top")",
      R"(  {"a": [0, {"b": "dup"}], "a": [0, {"b": "last"}]}  )",
      R"({"a": [0, {"b": "\ud800"}]})",
      R"({"a": [0, {"b": "\udc00"}]})",
      R"({"a": [0, {"b": "tab	raw"}]})",
      R"({"a": [01]})",
      R"({"a": [-0, 0e5, -1.0E+2, 1E400]})",
      R"({"a": [1.]})",
      R"({"a": [.5]})",
      R"({"a": [tru]})",
      R"({"a": [0,]})",
      R"({"a": [0] x)",
      "{\"a\": [0, {\"b\": \"\xC3\xA9 \xF0\x9F\x98\x80\"}]}",
      "{\"a\": [0, {\"b\": \"\xC0\xAF\"}]}",
      "{\"a\": [0, {\"b\": \"\xED\xA0\x80\"}]}",
      "{\"a\": [0, {\"b\": \"\xF4\x90\x80\x80\"}]}",
      "\xEF\xBB\xBF{\"a\": [0, {\"b\": \"bom\"}]}",
      std::string(300, '[') + std::string(300, ']'),
      "{}",
      "[]",
      "",
  };
  for (const std::string& l : lines) ExpectSame(*path, l);
}

// Random JSON, then random damage: whatever the scanner accepts must be
// exactly what nlohmann accepts, with the same outcome.
TEST(JsonFieldTest, ScannerAgreesWithNlohmannOnRandomDamagedJson) {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<std::string> atoms = {"null", "true", "false", "0", "-12.5e3", "\"s\"", "\"\\u00e9\"",
                                          "\"text\"", "1", "\"\xC3\xA9\""};
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    int k = depth > 3 ? 0 : pick(4);
    if (k <= 1) return atoms[static_cast<size_t>(pick(static_cast<int>(atoms.size())))];
    if (k == 2) {
      std::string s = "[";
      int n = pick(4);
      for (int i = 0; i < n; ++i) s += (i ? ", " : "") + gen(depth + 1);
      return s + "]";
    }
    std::string s = "{";
    int n = pick(4);
    const char* keys[] = {"text", "meta", "0", "1", "body"};
    for (int i = 0; i < n; ++i) s += std::string(i ? ", " : "") + "\"" + keys[pick(5)] + "\": " + gen(depth + 1);
    return s + "}";
  };
  const std::vector<std::string> paths = {"text", "meta.body", "meta.0", "text.1.body", "0"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string line = gen(0);
    int damage = pick(4);
    for (int d = 0; d < damage && !line.empty(); ++d) {
      size_t at = static_cast<size_t>(pick(static_cast<int>(line.size())));
      switch (pick(3)) {
        case 0: line.erase(at, 1); break;
        case 1: line.insert(at, 1, "{}[]\",:\\ex0-\x80\xC3\x01"[pick(15)]); break;
        default: line[at] = static_cast<char>(pick(256)); break;
      }
    }
    auto path = JsonFieldPath::Parse(paths[static_cast<size_t>(pick(static_cast<int>(paths.size())))]);
    ExpectSame(*path, line);
  }
}

// Long strings, where the scanner skips plain ASCII 16 bytes at a time: an
// escape, a raw control byte, valid and invalid UTF-8, the closing quote or
// the end of the line at every offset from the string's start.
TEST(JsonFieldTest, LongStringsAgreeWithNlohmannAtEveryOffset) {
  auto path = JsonFieldPath::Parse("text");
  ASSERT_TRUE(path.ok());
  const std::vector<std::string> specials = {"\\n", "\\u00e9", "\\\"", "\x01", "\x7f", "\xC3\xA9",
                                             "\xF0\x9F\x98\x80", "\xC3", "\xFF", "\\q", ""};
  for (const std::string& special : specials) {
    for (size_t at = 0; at <= 70; ++at) {
      std::string body;
      for (size_t i = 0; i < at; ++i) body.push_back(static_cast<char>('a' + i % 26));
      body += special;
      body += "tail of the string, past another sixteen bytes";
      ExpectSame(*path, "{\"text\": \"" + body + "\"}");
      ExpectSame(*path, "{\"text\": \"" + body);  // unterminated
    }
  }
}

}  // namespace
}  // namespace telltale::scan
