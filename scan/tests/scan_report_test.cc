#include "scan/scan_report.h"

#include <gtest/gtest.h>

#include "scan/html_report.h"

namespace telltale::scan {
namespace {

ReportParams Params() {
  ReportParams p;
  p.scheme = "kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false";
  p.normalization = "nfc,strip-invisible,confusables";
  p.tokenizer = "gguf:llama";
  p.keys = {{"aaaa", "acme"}, {"bbbb", "globex"}};
  p.alpha = 1e-3;
  return p;
}

TEST(ScanReport, InvalidUtf8IsBase64NeverMangled) {
  nlohmann::json j;
  SetBytesField(j, "text", std::string("ok \xff\xfe", 5));
  EXPECT_FALSE(j.contains("text"));
  EXPECT_EQ(j["text_base64"], "b2sg//4=");
  nlohmann::json k;
  SetBytesField(k, "text", "caf\xc3\xa9");
  EXPECT_EQ(k["text"], "caf\xc3\xa9");
}

TEST(ScanReport, DocumentAndErrorRecords) {
  DocumentResult r;
  r.index = 3;
  r.source = "a.jsonl";
  r.line = 4;
  r.text = "hello \xff world";
  r.spans = {{0, 8}};
  r.best_key = 1;
  r.keys = {{-1, -0.7}, {-9, -8.7}};
  r.log10_p = -8.7;
  r.decision_log10_p = -8.7;
  r.detected = true;
  auto j = nlohmann::json::parse(ItemRecord(r, Params()));
  EXPECT_EQ(j["type"], "document");
  EXPECT_EQ(j["data"]["key_id"], "bbbb");
  EXPECT_EQ(j["data"]["key_name"], "globex");
  EXPECT_EQ(j["data"]["spans"][0]["text_base64"], "aGVsbG8g/yA=");
  EXPECT_EQ(j["data"]["detected"], true);
  r.kind = ResultKind::kError;
  r.reason = "JSON parse error at byte 17";
  auto e = nlohmann::json::parse(ItemRecord(r, Params()));
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["data"]["reason"], "JSON parse error at byte 17");
  EXPECT_EQ(e["data"]["line"], 4);
}

TEST(ScanReport, CsvQuotesAndColumnCount) {
  DocumentResult r;
  r.source = "we,ird \"name\".txt";
  const std::string row = CsvRow(r, Params());
  EXPECT_NE(row.find("\"we,ird \"\"name\"\".txt\""), std::string::npos) << row;
  DocumentResult s;
  s.kind = ResultKind::kSkipped;
  s.source = "x";
  s.reason = "empty";
  auto count = [](const std::string& line) {
    size_t n = 0;
    bool q = false;
    for (char c : line) {
      if (c == '"') q = !q;
      if (c == ',' && !q) ++n;
    }
    return n;
  };
  EXPECT_EQ(count(CsvRow(r, Params())), count(CsvHeader()));
  EXPECT_EQ(count(CsvRow(s, Params())), count(CsvHeader()));
}

TEST(HtmlReport, SelfContainedWithPlotsAndTopDocuments) {
  HtmlReport h(2);
  for (int i = 0; i < 5; ++i) {
    DocumentResult r;
    r.index = static_cast<uint64_t>(i);
    r.source = "<doc>";
    r.text = "tok" + std::to_string(i);
    r.decision_log10_p = -i;
    r.token_view = {{0, 3, 1, 1.0f}};
    h.Add(r);
  }
  ASSERT_EQ(h.top().size(), 2u);
  EXPECT_EQ(h.top()[0].index, 4u);
  ScanSummary s;
  s.corpus.keys = {{"aaaa", 10, 5, 1e-9, -9, 2e-9, -8.7}, {"bbbb", 10, 2, 0.5, -0.3, 0.5, -0.3}};
  s.corpus.best_key = 0;
  s.corpus.unique_tuples = 10;
  s.corpus_detected = true;
  const std::string html = h.Render(s, Params());
  EXPECT_NE(html.find("id=\"p-histogram\""), std::string::npos);
  EXPECT_NE(html.find("id=\"qq-plot\""), std::string::npos);
  EXPECT_NE(html.find("WATERMARKED under acme"), std::string::npos);
  EXPECT_NE(html.find("&lt;doc&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external assets
}

}  // namespace
}  // namespace telltale::scan
