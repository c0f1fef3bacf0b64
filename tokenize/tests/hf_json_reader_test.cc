#include "tokenize/hf_json_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "common/file_io.h"
#include "tokenize/tokenizer.h"

namespace telltale::tokenize {
namespace {

using json = nlohmann::json;

const std::string kDir = TELLTALE_TOKENIZE_TESTDATA;

// What json::parse makes of the text, rebuilt from the streamed pieces: the
// reader must lose nothing and change nothing.
json Rebuild(const HfJson& in) {
  json root = in.root;
  if (in.has_vocab) {
    json vocab = json::object();
    for (const HfVocabEntry& e : in.vocab) vocab[e.key] = e.id;
    root["model"]["vocab"] = vocab;
  }
  if (in.has_merges) {
    json merges = json::array();
    for (const HfMergeEntry& m : in.merges) {
      if (m.form == HfMergeEntry::Form::kLine) merges.push_back(m.a);
      else if (m.form == HfMergeEntry::Form::kPair) merges.push_back(json::array({m.a, m.b}));
      else merges.push_back(nullptr);
    }
    root["model"]["merges"] = merges;
  }
  return root;
}

TEST(HfJsonReader, StreamedFixturesRebuildTheirDom) {
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(kDir)) {
    if (f.path().extension() != ".json" || f.path().filename() == "golden.json") continue;
    auto text = ReadFile(f.path().string());
    ASSERT_TRUE(text.ok());
    HfJson in;
    ASSERT_TRUE(ReadHfJson(*text, &in).ok()) << f.path();
    EXPECT_TRUE(in.has_vocab && in.has_merges) << f.path();
    EXPECT_FALSE(in.root["model"].contains("vocab")) << "captured entries stay out of the DOM";
    EXPECT_EQ(Rebuild(in), json::parse(*text)) << f.path();
    ++files;
  }
  EXPECT_GE(files, 2u);
}

TEST(HfJsonReader, EntriesComeInFileOrderWithTheirForms) {
  HfJson in;
  ASSERT_TRUE(ReadHfJson(R"({"model":{"merges":["a b",["c","d"],["e"],["f","g","h"],["i",["j"]],{"k":1},7,null],
                             "type":"BPE","vocab":{"z":3,"y":-2,"x":1.5,"w":{"v":[1]},"u":18446744073709551615,"z":4}},
                             "normalizer":{"type":"NFC"}})",
                         &in).ok());
  ASSERT_EQ(in.merges.size(), 8u);
  EXPECT_EQ(in.merges[0].form, HfMergeEntry::Form::kLine);
  EXPECT_EQ(in.merges[0].a, "a b");
  EXPECT_EQ(in.merges[1].form, HfMergeEntry::Form::kPair);
  EXPECT_EQ(in.merges[1].a + "|" + in.merges[1].b, "c|d");
  for (size_t i = 2; i < 8; ++i) EXPECT_EQ(in.merges[i].form, HfMergeEntry::Form::kInvalid) << i;
  ASSERT_EQ(in.vocab.size(), 6u);
  const std::pair<const char*, int64_t> want[] = {{"z", 3}, {"y", -2}, {"x", -1}, {"w", -1}, {"u", INT64_MAX}, {"z", 4}};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(in.vocab[i].key, want[i].first) << i;
    EXPECT_EQ(in.vocab[i].id, want[i].second) << i;
  }
  EXPECT_EQ(in.root, json::parse(R"({"model":{"type":"BPE"},"normalizer":{"type":"NFC"}})"));
}

TEST(HfJsonReader, OnlyModelVocabAndMergesAreCaptured) {
  HfJson in;
  // The same names elsewhere, and of the wrong type, stay in the DOM.
  ASSERT_TRUE(ReadHfJson(R"({"vocab":{"a":0},"merges":["a b"],"model":{"vocab":[1],"merges":{"a":1},
                             "x":{"vocab":{"b":1},"merges":[]}}})",
                         &in).ok());
  EXPECT_FALSE(in.has_vocab);
  EXPECT_FALSE(in.has_merges);
  EXPECT_EQ(in.root, json::parse(R"({"vocab":{"a":0},"merges":["a b"],"model":{"vocab":[1],"merges":{"a":1},
                                     "x":{"vocab":{"b":1},"merges":[]}}})"));
}

TEST(HfJsonReader, ALaterKeyReplacesAnEarlierOne) {
  HfJson in;
  // vocab: object then string; merges: string then array; model given twice.
  ASSERT_TRUE(ReadHfJson(R"({"model":{"vocab":{"a":0},"merges":["a a"]},
                             "model":{"vocab":{"b":0},"vocab":"none","merges":"none","merges":["b b"]}})",
                         &in).ok());
  EXPECT_FALSE(in.has_vocab);
  EXPECT_TRUE(in.vocab.empty());
  ASSERT_TRUE(in.has_merges);
  ASSERT_EQ(in.merges.size(), 1u);
  EXPECT_EQ(in.merges[0].a, "b b");
  EXPECT_EQ(in.root, json::parse(R"({"model":{"vocab":"none"}})"));
}

// Random documents with repeated keys at every level and the captured
// names in and out of place: rebuilt, they must equal json::parse's DOM.
class RandomDoc {
 public:
  explicit RandomDoc(uint32_t seed) : rng_(seed) {}

  // Appends with += only: GCC 12 warns falsely (-Wrestrict) on chains of
  // string temporaries.
  std::string Root() {
    std::string s = "{";
    for (int i = 0, n = 1 + Pick(4); i < n; ++i) {
      if (i > 0) s += ',';
      if (Pick(3) != 0) {
        s += "\"model\":";
        Model(&s);
      } else {  // a name that is captured only under "model"
        s += Pick(2) != 0 ? "\"vocab\":" : "\"merges\":";
        Value(2, &s);
      }
    }
    s += '}';
    return s;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  void Key(std::string* s) {
    static const char* const kKeys[] = {"\"model\"", "\"vocab\"", "\"merges\"", "\"type\"", "\"a\"", "\"b\\u00e9\""};
    *s += kKeys[Pick(6)];
  }
  void Word(std::string* s) {
    *s += "abc"[Pick(3)];
    if (Pick(2) != 0) *s += "\\u0120";
    *s += "de"[Pick(2)];
  }
  void QuotedWord(std::string* s) {
    *s += '"';
    Word(s);
    *s += '"';
  }
  void Scalar(std::string* s) {
    switch (Pick(6)) {
      case 0: *s += "null"; break;
      case 1: *s += Pick(2) != 0 ? "true" : "false"; break;
      case 2: *s += std::to_string(Pick(1000) - 500); break;
      case 3: *s += "2.5e3"; break;
      default: QuotedWord(s); break;
    }
  }
  void Value(int depth, std::string* s) {
    if (depth == 0 || Pick(3) == 0) return Scalar(s);
    const bool object = Pick(2) != 0;
    *s += object ? '{' : '[';
    for (int i = 0, n = Pick(4); i < n; ++i) {
      if (i > 0) *s += ',';
      if (object) {
        Key(s);
        *s += ':';
      }
      Value(depth - 1, s);
    }
    *s += object ? '}' : ']';
  }
  void Model(std::string* s) {
    if (Pick(5) == 0) return Scalar(s);  // "model" that is not an object
    *s += '{';
    for (int i = 0, n = 1 + Pick(5); i < n; ++i) {
      if (i > 0) *s += ',';
      switch (Pick(4)) {
        case 0:
          *s += "\"vocab\":";
          if (Pick(4) != 0) Vocab(s);
          else Scalar(s);
          break;
        case 1:
          *s += "\"merges\":";
          if (Pick(4) != 0) Merges(s);
          else Scalar(s);
          break;
        default:  // any other key (vocab and merges of the wrong type are case 0 and 1)
          *s += Pick(2) != 0 ? "\"type\":" : "\"model\":";
          if (Pick(2) != 0) {
            Value(2, s);
          } else {  // "vocab" one level too deep
            *s += "{\"vocab\":";
            Value(2, s);
            *s += '}';
          }
          break;
      }
    }
    *s += '}';
  }
  void Vocab(std::string* s) {
    *s += '{';
    for (int i = 0, n = Pick(6); i < n; ++i) {
      if (i > 0) *s += ',';
      QuotedWord(s);
      *s += ':';
      *s += std::to_string(Pick(50));
    }
    *s += '}';
  }
  void Merges(std::string* s) {
    *s += '[';
    for (int i = 0, n = Pick(6); i < n; ++i) {
      if (i > 0) *s += ',';
      if (Pick(2) != 0) {
        *s += '"';
        Word(s);
        *s += ' ';
        Word(s);
        *s += '"';
      } else {
        *s += '[';
        QuotedWord(s);
        *s += ',';
        QuotedWord(s);
        *s += ']';
      }
    }
    *s += ']';
  }

  std::mt19937 rng_;
};

TEST(HfJsonReader, RandomDocumentsRebuildTheirDom) {
  size_t captured = 0;
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    const std::string text = RandomDoc(seed).Root();
    HfJson in;
    ASSERT_TRUE(ReadHfJson(text, &in).ok()) << text;
    ASSERT_EQ(Rebuild(in), json::parse(text)) << text;
    if (in.has_vocab) {
      ASSERT_FALSE(in.root.at("model").contains("vocab")) << text;
    }
    if (in.has_merges) {
      ASSERT_FALSE(in.root.at("model").contains("merges")) << text;
    }
    captured += in.has_vocab + in.has_merges;
  }
  EXPECT_GT(captured, 1500u) << "the captured paths must be well exercised";
}

TEST(HfJsonReader, InvalidJsonSaysWhere) {
  HfJson in;
  Status s = ReadHfJson("{\"model\":{\"vocab\":{\"a\":0,}}}", &in);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not valid JSON"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("column 26"), std::string::npos) << s.message();
  EXPECT_FALSE(ReadHfJson("{\"model\":{}} x", &in).ok()) << "trailing input";
  EXPECT_FALSE(ReadHfJson("", &in).ok());
}

// The loader keeps a repeated vocabulary key's last id, as a JSON object
// does; the earlier id is then no token at all.
TEST(HfJsonReader, LoaderKeepsTheLastIdOfARepeatedKey) {
  auto t = Tokenizer::FromHuggingFaceJson(
      R"({"model":{"type":"BPE","vocab":{"a":5,"b":1,"a":0,"ab":2},"merges":["a b"]}})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto ab = (*t)->Encode("ab");
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab->ids, std::vector<uint32_t>({2}));
  auto a = (*t)->Encode("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ids, std::vector<uint32_t>({0}));
  EXPECT_FALSE((*t)->Decode(std::vector<uint32_t>{5}).ok());
  auto pair = Tokenizer::FromHuggingFaceJson(
      R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}})");
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ((*pair)->Encode("ab")->ids, std::vector<uint32_t>({2}));
}

TEST(HfJsonReader, LoaderNamesEveryBadEntry) {
  struct Case { const char* json; const char* message; };
  const Case cases[] = {
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":{"x":[1]}},"merges":[]}})",
       "model.vocab[\"b\"]: id must be a non-negative integer"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1.0},"merges":[]}})", "model.vocab[\"b\"]: id must be"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a",["b"]]]}})", "model.merges[0]: must be"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b",{"a":"b"}]}})", "model.merges[1]: must be"},
      {R"({"model":{"type":"BPE","vocab":[["a",0]],"merges":[]}})", "model.vocab: missing or not an object"},
      {R"({"model":{"type":"BPE","vocab":{},"merges":[]}})", "model.vocab: empty"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":"a b"}})", "model.merges: missing or not an array"},
      {R"({"model":{"vocab":{"a":0}}})", "model.type: missing"},
  };
  for (const Case& c : cases) {
    auto t = Tokenizer::FromHuggingFaceJson(c.json);
    ASSERT_FALSE(t.ok()) << c.json;
    EXPECT_NE(t.status().message().find(c.message), std::string::npos) << t.status().message();
  }
}

}  // namespace
}  // namespace telltale::tokenize
