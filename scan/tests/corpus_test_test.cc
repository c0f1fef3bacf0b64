#include "scan/corpus_test.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>

#include "detect/attribution.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

SecretKey KeyFromSeed(uint8_t seed) {
  std::vector<uint8_t> bytes(32);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  return SecretKey::FromBytes(bytes).value();
}

std::vector<std::vector<int32_t>> RandomDocs(int n, int len, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> tok(0, vocab - 1);
  std::vector<std::vector<int32_t>> docs(n);
  for (auto& d : docs) {
    d.resize(len);
    for (auto& t : d) t = tok(rng);
  }
  return docs;
}

void ExpectSameResult(const CorpusTestResult& a, const CorpusTestResult& b) {
  EXPECT_EQ(a.documents, b.documents);
  EXPECT_EQ(a.tokens_seen, b.tokens_seen);
  EXPECT_EQ(a.unique_tuples, b.unique_tuples);
  ASSERT_EQ(a.keys.size(), b.keys.size());
  for (size_t j = 0; j < a.keys.size(); ++j) {
    EXPECT_EQ(a.keys[j].score, b.keys[j].score);  // bit-identical, not just close
    EXPECT_EQ(a.keys[j].log10_p, b.keys[j].log10_p);
    EXPECT_EQ(a.keys[j].holm_log10_p, b.keys[j].holm_log10_p);
  }
  EXPECT_EQ(a.best_key, b.best_key);
}

size_t EntriesIn(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  closedir(d);
  return n;
}

std::string FreshDir(const std::string& name) {
  std::string templ = ::testing::TempDir() + "/" + name + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

class CorpusTestTest : public ::testing::TestWithParam<const char*> {};

// One document under one key: the corpus test must reproduce the detector's
// own context+token dedup statistics exactly.
TEST_P(CorpusTestTest, OneDocumentMatchesDetector) {
  const SchemeSpec spec = SchemeSpec::Parse(GetParam()).value();
  Detector det = Detector::Create(KeyFromSeed(1), spec).value();
  auto docs = RandomDocs(1, 400, 50, 7);  // small vocab: many repeated tuples
  DetectOptions opt;
  opt.prompt_tokens = 5;
  opt.ignore_ids = {3, 4};
  Detection d = det.Score(docs[0], opt).value();
  auto ct = CorpusTest::Create({&det}, {}).value();
  ASSERT_TRUE(ct->AddDocument(docs[0], opt).ok());
  CorpusTestResult r = ct->Finish().value();
  EXPECT_EQ(r.documents, 1u);
  EXPECT_EQ(static_cast<int64_t>(r.unique_tuples), d.scored);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_NEAR(r.keys[0].score, d.score, 1e-9 * std::max(1.0, d.score));
  EXPECT_NEAR(r.keys[0].log10_p, d.log10_p, 1e-9 * std::max(1.0, std::fabs(d.log10_p)));
  EXPECT_EQ(r.keys[0].holm_log10_p, r.keys[0].log10_p);  // one key: no adjustment
  EXPECT_EQ(r.best_key, 0);
  EXPECT_EQ(r.keys[0].key_id, det.key_id());
}

INSTANTIATE_TEST_SUITE_P(Schemes, CorpusTestTest,
                         ::testing::Values("kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.5,delta=2,h=3,seeding=self",
                                           "gumbel:h=2", "unigram:gamma=0.5,delta=2"));

// Scale-out (docs/dask.md): CorpusTests over disjoint document subsets export
// their partitions; the union, deduplicated and scored with the public
// pieces, reproduces one CorpusTest over everything bit for bit.
TEST_P(CorpusTestTest, ExportedPartitionsReproduceFinish) {
  const SchemeSpec spec = SchemeSpec::Parse(GetParam()).value();
  Detector a = Detector::Create(KeyFromSeed(4), spec).value();
  Detector b = Detector::Create(KeyFromSeed(5), spec).value();
  std::vector<const Detector*> dets = {&a, &b};
  auto docs = RandomDocs(90, 60, 40, 11);
  for (int i = 0; i < 10; ++i) docs.push_back(docs[static_cast<size_t>(i) * 7]);  // repeats across subsets
  auto whole = CorpusTest::Create(dets, {}).value();
  for (const auto& d : docs) ASSERT_TRUE(whole->AddDocument(d, {}).ok());
  const CorpusTestResult expected = whole->Finish().value();

  std::vector<std::vector<CorpusRecord>> parts(CorpusTest::kPartitions);
  uint64_t documents = 0, seen = 0;
  for (int s = 0; s < 3; ++s) {
    std::mutex mu;
    CorpusTestOptions o;
    o.threads = 2;
    o.partition_sink = [&](int p, std::span<const CorpusRecord> recs) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(std::is_sorted(recs.begin(), recs.end(), [](const CorpusRecord& x, const CorpusRecord& y) {
        return x.fp < y.fp;
      }));
      parts[static_cast<size_t>(p)].insert(parts[static_cast<size_t>(p)].end(), recs.begin(), recs.end());
    };
    auto ct = CorpusTest::Create(dets, o).value();
    for (size_t i = static_cast<size_t>(s); i < docs.size(); i += 3) ASSERT_TRUE(ct->AddDocument(docs[i], {}).ok());
    CorpusTestResult r = ct->Finish().value();
    EXPECT_TRUE(r.keys.empty());
    EXPECT_EQ(r.best_key, -1);
    documents += r.documents;
    seen += r.tokens_seen;
  }
  std::vector<uint64_t> unique(CorpusTest::kPartitions, 0);
  std::vector<std::vector<double>> sums(CorpusTest::kPartitions, std::vector<double>(dets.size(), 0.0));
  for (int p = 0; p < CorpusTest::kPartitions; ++p) {
    CorpusTest::SortUniqueRecords(&parts[static_cast<size_t>(p)]);
    unique[static_cast<size_t>(p)] = parts[static_cast<size_t>(p)].size();
    CorpusTest::ScoreRecords(dets, parts[static_cast<size_t>(p)], &sums[static_cast<size_t>(p)]);
  }
  ExpectSameResult(CorpusTest::ResultFromPartitions(dets, documents, seen, unique, sums), expected);
}

TEST(CorpusTest, DuplicateDocumentsCountOnce) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector det = Detector::Create(KeyFromSeed(2), spec).value();
  auto docs = RandomDocs(5, 100, 1000, 3);
  auto once = CorpusTest::Create({&det}, {}).value();
  auto twice = CorpusTest::Create({&det}, {}).value();
  for (const auto& d : docs) {
    ASSERT_TRUE(once->AddDocument(d, {}).ok());
    ASSERT_TRUE(twice->AddDocument(d, {}).ok());
    ASSERT_TRUE(twice->AddDocument(d, {}).ok());
  }
  CorpusTestResult a = once->Finish().value(), b = twice->Finish().value();
  EXPECT_EQ(b.documents, 2 * a.documents);
  EXPECT_EQ(b.tokens_seen, 2 * a.tokens_seen);
  EXPECT_EQ(a.unique_tuples, b.unique_tuples);
  EXPECT_EQ(a.keys[0].score, b.keys[0].score);
  EXPECT_EQ(a.keys[0].log10_p, b.keys[0].log10_p);
}

// Spilling to disk (a tiny memory budget) must give the same answer as the
// in-memory set, and leave no file behind.
TEST(CorpusTest, SpillGivesSameResultAndCleansUp) {
  const SchemeSpec spec = SchemeSpec::Parse("gumbel:h=1").value();
  Detector a = Detector::Create(KeyFromSeed(3), spec).value();
  Detector b = Detector::Create(KeyFromSeed(4), spec).value();
  auto docs = RandomDocs(200, 300, 30000, 11);
  auto mem = CorpusTest::Create({&a, &b}, {}).value();
  const std::string dir = FreshDir("spill");
  CorpusTestOptions small;
  small.spill_dir = dir;
  small.memory_limit_bytes = 64 << 10;
  auto disk = CorpusTest::Create({&a, &b}, small).value();
  for (const auto& d : docs) {
    ASSERT_TRUE(mem->AddDocument(d, {}).ok());
    ASSERT_TRUE(disk->AddDocument(d, {}).ok());
  }
  EXPECT_GT(disk->spill_files(), 0u);
  EXPECT_LE(disk->memory_bytes(), small.memory_limit_bytes);
  EXPECT_EQ(EntriesIn(dir), 1u);  // the private spill directory
  CorpusTestResult rm = mem->Finish().value(), rd = disk->Finish().value();
  ExpectSameResult(rm, rd);
  EXPECT_EQ(EntriesIn(dir), 0u);
  EXPECT_EQ(mem->spill_files(), 0u);
}

TEST(CorpusTest, SpillFilesRemovedWithoutFinish) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector det = Detector::Create(KeyFromSeed(5), spec).value();
  const std::string dir = FreshDir("abandon");
  {
    CorpusTestOptions small;
    small.spill_dir = dir;
    small.memory_limit_bytes = 64 << 10;
    auto ct = CorpusTest::Create({&det}, small).value();
    for (const auto& d : RandomDocs(100, 300, 30000, 12)) ASSERT_TRUE(ct->AddDocument(d, {}).ok());
    EXPECT_GT(ct->spill_files(), 0u);
  }  // destroyed on an error path: no Finish
  EXPECT_EQ(EntriesIn(dir), 0u);
}

TEST(CorpusTest, UnwritableSpillDirIsAnError) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector det = Detector::Create(KeyFromSeed(5), spec).value();
  CorpusTestOptions small;
  small.spill_dir = "/nonexistent/telltale-spill";
  small.memory_limit_bytes = 64 << 10;
  auto ct = CorpusTest::Create({&det}, small).value();
  Status st = Status::Ok();
  for (const auto& d : RandomDocs(100, 300, 30000, 12)) {
    st = ct->AddDocument(d, {});
    if (!st.ok()) break;
  }
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/telltale-spill"), std::string::npos) << st.message();
}

// Any order and any number of threads: bit-identical results.
TEST(CorpusTest, ThreadAndOrderInvariant) {
  const SchemeSpec spec = SchemeSpec::Parse("gumbel:h=1").value();
  Detector a = Detector::Create(KeyFromSeed(6), spec).value();
  Detector b = Detector::Create(KeyFromSeed(7), spec).value();
  auto docs = RandomDocs(400, 120, 2000, 13);
  CorpusTestOptions one;
  one.threads = 1;
  auto serial = CorpusTest::Create({&a, &b}, one).value();
  for (const auto& d : docs) ASSERT_TRUE(serial->AddDocument(d, {}).ok());
  CorpusTestOptions small;
  small.threads = 3;  // Finish on 3 threads
  small.spill_dir = FreshDir("threads");
  small.memory_limit_bytes = 64 << 10;
  auto parallel = CorpusTest::Create({&a, &b}, small).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = docs.size() - 1 - t; i < docs.size(); i -= 4) {
        EXPECT_TRUE(parallel->AddDocument(docs[i], {}).ok());
        if (i < 4) break;
      }
    });
  }
  for (auto& th : threads) th.join();
  ExpectSameResult(serial->Finish().value(), parallel->Finish().value());
}

// Finish partitions a large in-memory buffer in one chunk per thread; the
// partitions gathered from several chunks give the serial result.
TEST(CorpusTest, ChunkedPartitionAtFinishEqualsSerial) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector a = Detector::Create(KeyFromSeed(10), spec).value();
  Detector b = Detector::Create(KeyFromSeed(11), spec).value();
  auto docs = RandomDocs(1500, 200, 60000, 14);  // ~300k tuples: 4 chunks of at least 64k
  CorpusTestOptions one;
  one.threads = 1;
  CorpusTestOptions four;
  four.threads = 4;
  auto serial = CorpusTest::Create({&a, &b}, one).value();
  auto chunked = CorpusTest::Create({&a, &b}, four).value();
  for (const auto& d : docs) {
    ASSERT_TRUE(serial->AddDocument(d, {}).ok());
    ASSERT_TRUE(chunked->AddDocument(d, {}).ok());
  }
  EXPECT_EQ(chunked->spill_files(), 0u);
  EXPECT_GT(chunked->memory_bytes(), 4u * 65536 * sizeof(CorpusRecord));
  const CorpusTestResult s = serial->Finish().value(), c = chunked->Finish().value();
  EXPECT_GT(s.unique_tuples, 250000u);
  ExpectSameResult(s, c);
}

// The buffer is partitioned in 64k-record chunks as it fills, compacted into
// runs when full, and spilled when the runs outgrow memory. Against a
// reference that skips all of that (every tuple, one sort, the public scoring
// pieces), with budgets that make each path run several times.
TEST(CorpusTest, PartitionedChunksCompactionAndSpillEqualOneSortOfEveryTuple) {
  const SchemeSpec spec = SchemeSpec::Parse("gumbel:h=1").value();
  Detector a = Detector::Create(KeyFromSeed(12), spec).value();
  Detector b = Detector::Create(KeyFromSeed(13), spec).value();
  const std::vector<const Detector*> dets = {&a, &b};
  auto docs = RandomDocs(2000, 200, 30000, 15);  // ~400k tuples, some repeated
  for (int i = 0; i < 300; ++i) docs.push_back(docs[static_cast<size_t>(i) * 5]);
  // The reference.
  std::vector<std::vector<CorpusRecord>> parts(CorpusTest::kPartitions);
  uint64_t seen = 0;
  for (const auto& d : docs) {
    const std::vector<ScoringTuple> tuples = a.ScoringTuples(d, {}).value();
    for (const ScoringTuple& t : tuples) {
      const uint64_t fp = TupleFingerprint(t.context, t.token);
      parts[static_cast<size_t>(CorpusTest::PartitionOf(fp))].push_back({fp, static_cast<uint32_t>(t.token)});
      ++seen;
    }
  }
  std::vector<uint64_t> unique(CorpusTest::kPartitions);
  std::vector<std::vector<double>> sums(CorpusTest::kPartitions);
  for (size_t p = 0; p < parts.size(); ++p) {
    CorpusTest::SortUniqueRecords(&parts[p]);
    unique[p] = parts[p].size();
    CorpusTest::ScoreRecords(dets, parts[p], &sums[p]);
  }
  const CorpusTestResult want = CorpusTest::ResultFromPartitions(dets, docs.size(), seen, unique, sums);
  ASSERT_GT(want.unique_tuples, 300000u);
  // 1 GiB: chunks only. 8 MiB: a 174k-record buffer (two chunks, then a
  // compaction), runs that stay in memory. 4 MiB: a chunk, compactions and a
  // spill. 2 MiB: a buffer below one chunk, compactions and spills.
  for (uint64_t budget : {uint64_t{1} << 30, uint64_t{8} << 20, uint64_t{4} << 20, uint64_t{2} << 20}) {
    CorpusTestOptions o;
    o.threads = 2;
    o.memory_limit_bytes = budget;
    o.spill_dir = FreshDir("chunks");
    auto ct = CorpusTest::Create(dets, o).value();
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < docs.size(); i += 2) EXPECT_TRUE(ct->AddDocument(docs[i], {}).ok());
      });
    }
    for (auto& th : threads) th.join();
    if (budget <= (uint64_t{4} << 20)) {
      EXPECT_GT(ct->spill_files(), 0u);
    }
    SCOPED_TRACE("budget " + std::to_string(budget));
    ExpectSameResult(ct->Finish().value(), want);
  }
}

// The scanner's path: tuples handed over by Detector::ScoreKeys give the same
// corpus result as AddDocument, from any thread.
TEST(CorpusTest, ScoredTuplesEqualAddDocument) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector a = Detector::Create(KeyFromSeed(8), spec).value();
  Detector b = Detector::Create(KeyFromSeed(9), spec).value();
  const std::vector<const Detector*> ds = {&a, &b};
  auto docs = RandomDocs(300, 150, 300, 21);  // small vocabulary: repeats inside and across documents
  for (DedupMode dedup : {DedupMode::kContextToken, DedupMode::kNone}) {
    DetectOptions opt;
    opt.dedup = dedup;
    opt.prompt_tokens = 3;
    opt.ignore_ids = {5};
    auto plain = CorpusTest::Create(ds, {}).value();
    for (const auto& d : docs) ASSERT_TRUE(plain->AddDocument(d, opt).ok());
    CorpusTestOptions small;
    small.spill_dir = FreshDir("scored");
    small.memory_limit_bytes = 64 << 10;  // spills too
    auto scored = CorpusTest::Create(ds, small).value();
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < docs.size(); i += 2) {
          std::vector<uint64_t> fps;
          std::vector<int32_t> ids;
          const TupleSink sink = [&](std::span<const uint64_t> f, std::span<const int32_t> k) {
            fps.insert(fps.end(), f.begin(), f.end());
            ids.insert(ids.end(), k.begin(), k.end());
          };
          auto dets = Detector::ScoreKeys(ds, docs[i], opt, &sink);
          ASSERT_TRUE(dets.ok());
          EXPECT_TRUE(scored->AddScoredTuples(fps, ids, static_cast<uint64_t>((*dets)[0].candidates)).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    ExpectSameResult(plain->Finish().value(), scored->Finish().value());
  }
  auto c = CorpusTest::Create(ds, {}).value();
  const std::vector<uint64_t> fps = {1, 2};
  const std::vector<int32_t> two = {1, 2}, one = {1}, negative = {1, -2};
  EXPECT_FALSE(c->AddScoredTuples(fps, one, 2).ok());
  EXPECT_FALSE(c->AddScoredTuples(fps, two, 1).ok());
  EXPECT_FALSE(c->AddScoredTuples(fps, negative, 2).ok());
  CorpusTestOptions filtered;
  filtered.context_filter = [](uint64_t) { return true; };
  EXPECT_EQ(CorpusTest::Create(ds, filtered).value()->AddScoredTuples(fps, two, 2).code(),
            StatusCode::kFailedPrecondition);
}

// Documents added from several threads sit in per-thread shards until
// Finish: all are counted, and nothing can be added after Finish.
TEST(CorpusTest, FinishTakesEveryShardAndClosesTheSet) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector det = Detector::Create(KeyFromSeed(9), spec).value();
  auto c = CorpusTest::Create({&det}, {}).value();
  const auto docs = RandomDocs(40, 30, 1000, 5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < docs.size(); i += 4) ASSERT_TRUE(c->AddDocument(docs[i], {}).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(c->memory_bytes(), 0u);
  const CorpusTestResult r = c->Finish().value();
  EXPECT_EQ(r.documents, 40u);
  EXPECT_EQ(r.tokens_seen, 40u * 29u);  // h = 1: every token after the first
  EXPECT_EQ(c->AddDocument(docs[0], {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c->Finish().status().code(), StatusCode::kFailedPrecondition);
}

// SortUniqueRecords against the obvious std::sort + std::unique, on uniform
// fingerprints, on fingerprints that share most of their bits (the bucket
// pass must then look lower), on many equal fingerprints with different
// tokens (the smallest token is kept) and on sizes around the cut-over.
TEST(CorpusTest, SortUniqueRecordsMatchesComparisonSort) {
  std::mt19937_64 rng(77);
  auto reference = [](std::vector<CorpusRecord> v) {
    std::sort(v.begin(), v.end(), [](const CorpusRecord& a, const CorpusRecord& b) {
      return a.fp != b.fp ? a.fp < b.fp : a.token < b.token;
    });
    v.erase(std::unique(v.begin(), v.end(), [](const CorpusRecord& a, const CorpusRecord& b) { return a.fp == b.fp; }),
            v.end());
    return v;
  };
  for (size_t n : {0, 1, 2, 1023, 1024, 1025, 5000, 200000}) {
    for (int shape = 0; shape < 4; ++shape) {
      std::vector<CorpusRecord> v(n);
      for (CorpusRecord& r : v) {
        uint64_t fp = rng();
        if (shape == 1) fp = (uint64_t{0xAB} << 56) | (fp >> 40);  // one partition, 24 varying bits
        if (shape == 2) fp = 0x1234567800000000ull | (fp & 0xFF);   // 8 varying bits: crowded buckets
        if (shape == 3) fp = 42;                                    // all equal
        r = CorpusRecord{fp, static_cast<uint32_t>(rng() % 1000)};
      }
      for (size_t i = 0; i + 1 < n; i += 7) v[i + 1] = v[i];  // exact repeats
      const std::vector<CorpusRecord> want = reference(v);
      CorpusTest::SortUniqueRecords(&v);
      ASSERT_EQ(v.size(), want.size()) << "n " << n << " shape " << shape;
      for (size_t i = 0; i < v.size(); ++i) {
        ASSERT_TRUE(v[i].fp == want[i].fp && v[i].token == want[i].token) << "n " << n << " shape " << shape << " at " << i;
      }
    }
  }
}

TEST(CorpusTest, ContextFilterRestrictsTuples) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  Detector det = Detector::Create(KeyFromSeed(8), spec).value();
  auto docs = RandomDocs(20, 200, 1000, 14);
  CorpusTestOptions opt;
  opt.context_filter = [](uint64_t ctx) { return (ctx & 1) == 0; };
  auto all = CorpusTest::Create({&det}, {}).value();
  auto half = CorpusTest::Create({&det}, opt).value();
  for (const auto& d : docs) {
    ASSERT_TRUE(all->AddDocument(d, {}).ok());
    ASSERT_TRUE(half->AddDocument(d, {}).ok());
  }
  CorpusTestResult ra = all->Finish().value(), rh = half->Finish().value();
  EXPECT_LT(rh.unique_tuples, ra.unique_tuples * 3 / 4);
  EXPECT_GT(rh.unique_tuples, ra.unique_tuples / 4);
}

// Many 20-token watermarked documents: no single one is conclusive, the
// corpus is; Holm picks the right key of two.
TEST(CorpusTest, ShortWatermarkedDocumentsDetectedAsCorpus) {
  const SchemeSpec spec = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  SecretKey ka = KeyFromSeed(9), kb = KeyFromSeed(10);
  Detector da = Detector::Create(ka, spec).value(), db = Detector::Create(kb, spec).value();
  Watermarker wb = Watermarker::Create(kb, spec).value();
  SimulatedLm lm = SimulatedLm::Create(32000, SimulatedLm::ExponentForEntropy(32000, 4.0), 1).value();
  auto ct = CorpusTest::Create({&da, &db}, {}).value();
  double best_doc_log10_p = 0;
  for (int i = 0; i < 300; ++i) {
    SimulatedGenerationParams p;
    p.length = 20;
    p.seed = 1000 + i;
    std::vector<int32_t> toks = GenerateSimulated(lm, &wb, p).value();
    DetectOptions opt;
    opt.prompt_tokens = p.prompt_tokens;
    best_doc_log10_p = std::min(best_doc_log10_p, db.Score(toks, opt).value().log10_p);
    ASSERT_TRUE(ct->AddDocument(toks, opt).ok());
  }
  CorpusTestResult r = ct->Finish().value();
  EXPECT_EQ(r.best_key, 1);
  EXPECT_LT(r.keys[1].holm_log10_p, -12);
  EXPECT_GT(r.keys[0].holm_log10_p, -3);  // the wrong key stays null
  EXPECT_GT(best_doc_log10_p, -12);       // no single document gets there
}

TEST(CorpusTest, RejectsBadInput) {
  const SchemeSpec k1 = SchemeSpec::Parse("kgw:gamma=0.25,delta=2,h=1").value();
  const SchemeSpec k2 = SchemeSpec::Parse("kgw:gamma=0.5,delta=2,h=1").value();
  Detector a = Detector::Create(KeyFromSeed(1), k1).value(), b = Detector::Create(KeyFromSeed(2), k2).value();
  EXPECT_FALSE(CorpusTest::Create({}, {}).ok());
  EXPECT_FALSE(CorpusTest::Create({&a, &b}, {}).ok());
  EXPECT_FALSE(CorpusTest::Create({&a, nullptr}, {}).ok());
  auto ct = CorpusTest::Create({&a}, {}).value();
  std::vector<int32_t> bad = {1, 2, -3};
  EXPECT_FALSE(ct->AddDocument(bad, {}).ok());
  CorpusTestResult r = ct->Finish().value();
  EXPECT_EQ(r.documents, 0u);
  EXPECT_EQ(r.keys[0].log10_p, 0);
  EXPECT_FALSE(ct->Finish().ok());
  EXPECT_FALSE(ct->AddDocument(std::vector<int32_t>{1, 2}, {}).ok());
}

// detect/ additions: ScoringTuples + TupleValues reproduce Score with dedup off.
TEST(DetectorTuples, ReproduceScore) {
  for (const char* s : {"kgw:gamma=0.25,delta=2,h=2", "gumbel:h=1", "kgw:gamma=0.5,delta=2,h=2,seeding=self"}) {
    const SchemeSpec spec = SchemeSpec::Parse(s).value();
    Detector det = Detector::Create(KeyFromSeed(3), spec).value();
    auto docs = RandomDocs(1, 300, 100, 5);
    DetectOptions opt;
    opt.dedup = DedupMode::kNone;
    opt.prompt_tokens = 3;
    opt.ignore_ids = {7};
    Detection d = det.Score(docs[0], opt).value();
    auto tuples = det.ScoringTuples(docs[0], opt).value();
    ASSERT_EQ(static_cast<int64_t>(tuples.size()), d.scored) << s;
    std::vector<uint64_t> ctx;
    std::vector<int32_t> ids;
    for (const auto& t : tuples) {
      ctx.push_back(t.context);
      ids.push_back(t.token);
      EXPECT_EQ(docs[0][t.position], t.token);
    }
    std::vector<double> v(tuples.size());
    det.TupleValues(ctx.data(), ids.data(), ids.size(), v.data());
    for (size_t i = 0; i < tuples.size(); ++i) {
      EXPECT_EQ(static_cast<float>(v[i]), d.token_scores[tuples[i].position]) << s << " at " << i;
    }
  }
}

}  // namespace
}  // namespace telltale
