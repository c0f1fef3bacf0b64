#include "tokenize/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "common/file_io.h"

namespace telltale::tokenize {
namespace {

const std::string kDir = TELLTALE_TOKENIZE_TESTDATA;

std::shared_ptr<const Tokenizer> LoadFixture(const std::string& name) {
  auto t = Tokenizer::Load(kDir + "/" + name);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : nullptr;
}

// Golden ids come from the reference Hugging Face tokenizers (see
// testdata/generate.mjs for how they were produced).
TEST(TokenizerTest, MatchesReferenceGoldenIds) {
  auto golden = ReadFile(kDir + "/golden.json");
  ASSERT_TRUE(golden.ok());
  auto j = nlohmann::json::parse(*golden);
  for (const auto& [name, cases] : j.items()) {
    auto tok = LoadFixture(name);
    ASSERT_NE(tok, nullptr);
    for (const auto& c : cases) {
      auto enc = tok->Encode(c["text"].get<std::string>());
      ASSERT_TRUE(enc.ok()) << enc.status().ToString();
      EXPECT_EQ(enc->ids, c["ids"].get<std::vector<uint32_t>>()) << name << ": " << c["text"];
    }
  }
}

TEST(TokenizerTest, OffsetsTileTheInputAndRoundTrip) {
  auto tok = LoadFixture("byte_level.json");
  const std::string text = "Hello, it's  hello\n\n  world 12345 \xF0\x9F\x98\x80<|end|>x";
  auto enc = tok->Encode(text);
  ASSERT_TRUE(enc.ok());
  uint32_t at = 0;
  for (const auto& o : enc->offsets) {
    EXPECT_EQ(o.begin, at);
    at = o.end;
  }
  EXPECT_EQ(at, text.size());
  auto back = tok->Decode(enc->ids);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
}

TEST(TokenizerTest, OffsetsSurviveNormalization) {
  auto tok = LoadFixture("byte_level.json");  // NFC normalizer
  const std::string text = "cafe\xCC\x81!";     // e + COMBINING ACUTE -> é
  auto enc = tok->Encode(text);
  ASSERT_TRUE(enc.ok());
  // The composed é (token 268) covers the 3 original bytes of e + U+0301.
  ASSERT_EQ(enc->ids, (std::vector<uint32_t>{99, 97, 102, 268, 33}));
  EXPECT_EQ(enc->offsets[3].begin, 3u);
  EXPECT_EQ(enc->offsets[3].end, 6u);
  EXPECT_EQ(enc->offsets[4].begin, 6u);
  auto back = tok->Decode(enc->ids);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "caf\xC3\xA9!");  // decode gives the NFC text
}

TEST(TokenizerTest, SentencePieceOffsetsAndDecode) {
  auto tok = LoadFixture("sentencepiece.json");
  const std::string text = "hello world";
  auto enc = tok->Encode(text);
  ASSERT_TRUE(enc.ok());
  ASSERT_EQ(enc->ids, (std::vector<uint32_t>{277, 282}));  // ▁hello ▁world
  EXPECT_EQ(enc->offsets[0].begin, 0u);  // the prepended ▁ maps to the start
  EXPECT_EQ(enc->offsets[0].end, 5u);
  EXPECT_EQ(enc->offsets[1].begin, 5u);  // the space that became ▁
  EXPECT_EQ(enc->offsets[1].end, 11u);
  auto back = tok->Decode(enc->ids);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  // Byte fallback round-trips characters outside the vocabulary.
  const std::string cjk = "a \xE4\xBD\xA0\xE5\xA5\xBD";
  auto e2 = tok->Encode(cjk);
  ASSERT_TRUE(e2.ok());
  auto b2 = tok->Decode(e2->ids);
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(*b2, cjk);
}

TEST(TokenizerTest, SpecialTokensMatchedOrPlain) {
  auto tok = LoadFixture("byte_level.json");
  EncodeOptions plain;
  plain.match_special = false;
  auto matched = tok->Encode("a<|end|>b");
  auto as_text = tok->Encode("a<|end|>b", plain);
  ASSERT_TRUE(matched.ok() && as_text.ok());
  EXPECT_EQ(matched->ids, (std::vector<uint32_t>{97, 270, 98}));
  EXPECT_GT(as_text->ids.size(), 3u);
  for (uint32_t id : as_text->ids) EXPECT_NE(id, 270u);
  DecodeOptions skip;
  skip.skip_special = true;
  auto d = tok->Decode(matched->ids, skip);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "ab");
}

// Invalid UTF-8 is repaired to U+FFFD per maximal subpart, as Node, WHATWG
// and Rust's from_utf8_lossy do before the reference tokenizers see it; the
// offsets still point at the original bytes.
TEST(TokenizerTest, InvalidUtf8BecomesReplacementCharacter) {
  auto tok = LoadFixture("byte_level.json");
  const std::string bad = "a\xFF\xE4\xBD" "b";  // a, lone FF, truncated 3-byte sequence, b
  auto enc = tok->Encode(bad);
  ASSERT_TRUE(enc.ok());
  auto good = tok->Encode("a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(enc->ids, good->ids);
  EXPECT_EQ(enc->offsets.back().end, bad.size());
  EXPECT_EQ(enc->offsets.front().begin, 0u);
}

// One Encoding reused across documents (as a scan's workers do): long then
// short then invalid UTF-8 then special tokens, each equal to a fresh Encode,
// never a leftover of the one before.
TEST(TokenizerTest, EncodeIntoReusesStorageAndEqualsEncode) {
  for (const std::string name : {"byte_level.json", "sentencepiece.json"}) {
    auto tok = LoadFixture(name);
    ASSERT_NE(tok, nullptr);
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word" + std::to_string(i * 31) + " and more, ";
    const std::vector<std::string> texts = {long_text, "hi", "", "a\xFF\xE4\xBD" "b", "x <|endoftext|> y", "hi"};
    Encoding reused;
    for (const std::string& text : texts) {
      ASSERT_TRUE(tok->EncodeInto(text, &reused).ok()) << name;
      auto fresh = tok->Encode(text);
      ASSERT_TRUE(fresh.ok());
      EXPECT_EQ(reused.ids, fresh->ids) << name << ": " << text.size() << " bytes";
      ASSERT_EQ(reused.offsets.size(), fresh->offsets.size());
      for (size_t i = 0; i < reused.offsets.size(); ++i) {
        EXPECT_EQ(reused.offsets[i].begin, fresh->offsets[i].begin);
        EXPECT_EQ(reused.offsets[i].end, fresh->offsets[i].end);
      }
    }
    EXPECT_GE(reused.ids.capacity(), long_text.size() / 3);  // the storage was kept
  }
}

TEST(TokenizerTest, BatchEqualsSequential) {
  auto tok = LoadFixture("byte_level.json");
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("hello world " + std::to_string(i * 7919) + " it's\n");
  std::vector<std::string_view> views(texts.begin(), texts.end());
  auto batch = tok->EncodeBatch(views, 4);
  ASSERT_TRUE(batch.ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = tok->Encode(texts[i]);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*batch)[i].ids, one->ids);
  }
}

TEST(TokenizerTest, DecodeRejectsUnknownIds) {
  auto tok = LoadFixture("byte_level.json");
  std::vector<uint32_t> ids = {97, 999999};
  auto d = tok->Decode(ids);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("999999"), std::string::npos);
}

// A corrupt or unsupported file fails at load with a message naming the field.
TEST(TokenizerTest, BadTokenizerJsonNamesTheField) {
  struct Case { const char* json; const char* field; };
  const Case cases[] = {
      {"{", "not valid JSON"},
      {"{}", "model"},
      {R"({"model":{"type":"WordPiece","vocab":{}}})", "model.type"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}})", "model.merges[0]"},
      {R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}})", "model.vocab[\"a\"]"},
      {R"({"model":{"type":"BPE","vocab":{"a":4294967296},"merges":[]}})", "model.vocab[\"a\"]: id is too large"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b","x b"]}})",
       "model.merges[1]: token \"x\" is not in model.vocab"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b c"]}})", "model.merges[0]: \"a b c\""},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"}})", "model.unk_token"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Lowercase"}})", "normalizer.type"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"a+?"},"behavior":"Isolated"}})",
       "pre_tokenizer.pattern.Regex"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":1,"content":"x","lstrip":true}]})",
       "added_tokens[0].lstrip"},
  };
  for (const Case& c : cases) {
    auto t = Tokenizer::FromHuggingFaceJson(c.json);
    ASSERT_FALSE(t.ok()) << c.json;
    EXPECT_NE(t.status().message().find(c.field), std::string::npos) << t.status().message();
  }
}

TEST(TokenizerTest, BadTiktokenAndGgufFilesFailClearly) {
  auto t1 = Tokenizer::FromTiktoken("IQ== 0\n!!!! 1\n", "cl100k_base");
  ASSERT_FALSE(t1.ok());
  EXPECT_NE(t1.status().message().find("line 2"), std::string::npos);
  auto t2 = Tokenizer::FromTiktoken("IQ== 0\n", "cl100k_base");
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.status().message().find("expects 100256 ranks"), std::string::npos);
  std::string gguf("GGUF\x03\x00\x00\x00", 8);
  auto t3 = Tokenizer::FromGguf(gguf);
  ASSERT_FALSE(t3.ok());
  EXPECT_NE(t3.status().message().find("truncated"), std::string::npos);
  auto t4 = Tokenizer::Load(kDir + "/does-not-exist.json");
  ASSERT_FALSE(t4.ok());
}

}  // namespace
}  // namespace telltale::tokenize
