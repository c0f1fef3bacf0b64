#include "scan/scanner.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace telltale::scan {
namespace {

SecretKey KeyFromSeed(uint8_t seed) {
  std::vector<uint8_t> bytes(32);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  return SecretKey::FromBytes(bytes).value();
}

Detector TestDetector(uint8_t seed) {
  return Detector::Create(KeyFromSeed(seed), SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value()).value();
}

// Two workers over `path` with the byte-level test tokenizer and one key.
ScanConfig TwoWorkerConfig(const std::string& path, std::shared_ptr<const tokenize::Tokenizer> tok,
                           const Detector* det) {
  ScanConfig cfg;
  cfg.input.paths = {path};
  cfg.tokenizer = std::move(tok);
  cfg.detectors = {det};
  cfg.threads = 2;
  return cfg;
}

// Reads 4 MB of 16 KiB documents with the in-flight bound at 128 KiB; the
// reader is far faster than the workers, so without the bound it would run
// ahead by up to its item window (about the whole file here). The progress
// callback, called after every emitted result, sees how far the reader is
// ahead of the sink.
uint64_t MaxReadAhead(uint64_t max_in_flight_bytes) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale_scanner_test_" + std::to_string(::getpid()) + ".jsonl"))
          .string();
  {
    std::ofstream out(path, std::ios::binary);
    std::string text(16 << 10, 'a');
    for (int d = 0; d < 256; ++d) {
      for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + (i * 7 + d * 13 + i / 5) % 26);
      out << "{\"text\":\"" << text << "\"}\n";
    }
  }
  auto tok = tokenize::Tokenizer::Load(std::string(TELLTALE_TOKENIZE_TESTDATA) + "/byte_level.json");
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  if (!tok.ok()) return 0;
  const Detector det = TestDetector(1);
  ScanConfig cfg = TwoWorkerConfig(path, *tok, &det);
  cfg.max_in_flight_bytes = max_in_flight_bytes;
  uint64_t docs = 0, ahead = 0;
  auto r = RunScan(
      cfg, [&](DocumentResult&&) { ++docs; return Status::Ok(); },
      [&](const ScanProgress& p) { ahead = std::max(ahead, p.disk_bytes - std::min(p.disk_bytes, p.input_bytes)); });
  std::filesystem::remove(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(docs, 256u);
  return ahead;
}

TEST(ScannerTest, InFlightBytesStayBounded) {
  // Read but not handed to the sink: the bound (which counts results until
  // the sink has them), the batch the reader holds while it waits (under a
  // quarter of the bound plus the document that filled it: 48 KiB) and the
  // reader's 64 KiB chunk; 16 KiB of slack for line overheads.
  const uint64_t bounded = MaxReadAhead(128 << 10);
  EXPECT_LT(bounded, (128u << 10) + (48u << 10) + (64u << 10) + (16u << 10)) << bounded;
  // The same scan with the default bound (192 MiB here) runs further ahead,
  // so the check above is not vacuous.
  const uint64_t unbounded = MaxReadAhead(0);
  EXPECT_GT(unbounded, 2 * bounded) << unbounded << " vs " << bounded;
}

// The emitter (the calling thread) runs under SCHED_BATCH while the workers
// scan, so its wake-ups do not preempt them, and gets its own policy back.
TEST(ScannerTest, CallingThreadIsBatchScheduledOnlyDuringTheScan) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale_scanner_sched_" + std::to_string(::getpid()) + ".jsonl"))
          .string();
  {
    std::ofstream out(path, std::ios::binary);
    for (int d = 0; d < 20; ++d) out << "{\"text\":\"document number " << d << " of the test\"}\n";
  }
  auto tok = tokenize::Tokenizer::Load(std::string(TELLTALE_TOKENIZE_TESTDATA) + "/byte_level.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const Detector det = TestDetector(2);
  const ScanConfig cfg = TwoWorkerConfig(path, *tok, &det);
  auto policy = [] {
    int p = -1;
    sched_param sp{};
    EXPECT_EQ(pthread_getschedparam(pthread_self(), &p, &sp), 0);
    return p;
  };
  if (policy() != SCHED_OTHER) GTEST_SKIP() << "the test runs under a non-default policy; RunScan leaves it alone";
  std::vector<int> in_sink;
  auto r = RunScan(cfg, [&](DocumentResult&&) { in_sink.push_back(policy()); return Status::Ok(); }, {});
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(in_sink.size(), 20u);
  for (int p : in_sink) EXPECT_EQ(p, SCHED_BATCH);
  EXPECT_EQ(policy(), SCHED_OTHER);
}

// Documents' buffers are recycled (scan/buffer_pool.h): a text decoded into
// the storage of a longer one, a path copied into an old path's, key scores
// into an old result's. Every result must still be its own document's: sizes
// from 1 byte to past the pool's 64 KiB limit, in an order that makes long
// and short documents follow each other, at 1 and 3 workers.
TEST(ScannerTest, RecycledBuffersNeverCarryAnotherDocument) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale_scanner_recycled_" + std::to_string(::getpid()) + ".jsonl"))
          .string();
  std::vector<std::string> docs;
  for (int d = 0; d < 600; ++d) {
    const size_t len = d % 50 == 7 ? (70u << 10) + d : d % 3 == 0 ? 1 + d % 7 : d % 3 == 1 ? 2000 + 37 * d : 90 + d;
    std::string text(len, 'a');
    for (size_t i = 0; i < len; ++i) text[i] = static_cast<char>('a' + (i * 7 + d * 13 + i / 5) % 26);
    docs.push_back(std::move(text));
  }
  {
    std::ofstream out(path, std::ios::binary);
    for (const std::string& d : docs) out << "{\"text\":\"" << d << "\"}\n";
  }
  auto tok = tokenize::Tokenizer::Load(std::string(TELLTALE_TOKENIZE_TESTDATA) + "/byte_level.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const Detector det = TestDetector(3);
  // Kept texts go to the sink, not back to the pool: both ways.
  for (const auto& [threads, keep_text] : {std::pair{1u, false}, std::pair{3u, false}, std::pair{3u, true}}) {
    ScanConfig cfg = TwoWorkerConfig(path, *tok, &det);
    cfg.threads = threads;
    cfg.keep_text = keep_text;
    std::vector<DocumentResult> got;
    // A copy: what the sink leaves in the result (path, key scores) is recycled.
    auto r = RunScan(cfg, [&](DocumentResult&& d) { got.push_back(d); return Status::Ok(); }, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(got.size(), docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      const DocumentResult& d = got[i];
      ASSERT_EQ(d.kind, ResultKind::kDocument) << i << ": " << d.reason;
      EXPECT_EQ(d.source, path) << i;
      EXPECT_EQ(d.line, i + 1);
      EXPECT_EQ(d.bytes, docs[i].size()) << i;
      if (keep_text) {
        EXPECT_EQ(d.text, docs[i]) << "document " << i << " at " << threads << " workers";
      }
      auto enc = (*tok)->Encode(docs[i]);
      ASSERT_TRUE(enc.ok());
      EXPECT_EQ(static_cast<size_t>(d.tokens), enc->ids.size()) << i;
      ASSERT_EQ(d.keys.size(), 1u) << i;
      const Detection one = det.Score(std::vector<int32_t>(enc->ids.begin(), enc->ids.end()), cfg.detect).value();
      EXPECT_EQ(d.keys[0].log10_p, one.log10_p) << i;
    }
  }
  std::filesystem::remove(path);
}

// When the corpus test cannot take a document's tuples (here: the dedup set
// must spill, to a directory that cannot exist), the document is an error
// record that says so, with nothing of its detection, and no document is
// lost.
TEST(ScannerTest, CorpusFailureMakesTheDocumentAnError) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale_scanner_spill_" + std::to_string(::getpid()) + ".jsonl"))
          .string();
  constexpr int kDocs = 400;
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t x = 88172645463325252ull;
    for (int d = 0; d < kDocs; ++d) {
      std::string text(300, 'a');
      for (char& c : text) {  // random letters: nearly every tuple is new, so the set must spill
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>('a' + x % 26);
      }
      out << "{\"text\":\"" << text << "\"}\n";
    }
  }
  auto tok = tokenize::Tokenizer::Load(std::string(TELLTALE_TOKENIZE_TESTDATA) + "/byte_level.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  // A context of four tokens: tuples of random letters hardly repeat.
  const Detector det =
      Detector::Create(KeyFromSeed(4), SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=4").value()).value();
  ScanConfig cfg = TwoWorkerConfig(path, *tok, &det);
  cfg.corpus.spill_dir = "/nonexistent/telltale-spill";
  cfg.corpus.memory_limit_bytes = 64 << 10;
  std::vector<DocumentResult> got;
  auto r = RunScan(cfg, [&](DocumentResult&& d) { got.push_back(d); return Status::Ok(); }, {});
  std::filesystem::remove(path);
  ASSERT_EQ(got.size(), static_cast<size_t>(kDocs));
  size_t errors = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const DocumentResult& d = got[i];
    EXPECT_EQ(d.line, i + 1);
    if (d.kind != ResultKind::kError) continue;
    ++errors;
    EXPECT_NE(d.reason.find("corpus test failed"), std::string::npos) << d.reason;
    EXPECT_NE(d.reason.find("/nonexistent/telltale-spill"), std::string::npos) << d.reason;
    EXPECT_EQ(d.tokens, 0) << i;
    EXPECT_TRUE(d.keys.empty()) << i;
    EXPECT_EQ(d.bytes, 300u) << i;
  }
  EXPECT_GT(errors, 0u);
  if (r.ok()) {
    EXPECT_EQ(r->failed, errors);
  }
}

}  // namespace
}  // namespace telltale::scan
