#include "scan/corpus_test.h"

#include <algorithm>
#include <bit>
#include <atomic>
#include <thread>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>

#include <cstdio>
#include "detect/null_distribution.h"
#include "watermark/context_hash.h"

namespace telltale {
namespace {

using Record = CorpusTest::Record;

// Sorted by fingerprint, so partitions (top byte) are contiguous ranges.
inline bool RecordLess(const Record& a, const Record& b) {
  const uint64_t fa = a.fp, fb = b.fp;
  if (fa != fb) return fa < fb;
  return a.token < b.token;
}
constexpr auto kRecordLess = [](const Record& a, const Record& b) { return RecordLess(a, b); };
constexpr auto kSameFingerprint = [](const Record& a, const Record& b) { return a.fp == b.fp; };

// A per-thread, direct-mapped cache of the tuples this thread added lately,
// tagged with the CorpusTest they went to. A hit is an exact repeat of a tuple
// already in that set, so dropping it changes nothing; a miss (or an evicted
// entry) just goes on to the buffer, where the sort deduplicates it. Common
// n-grams repeat across documents, so most tuples of a large corpus never
// reach the buffer, the lock or the sort. Owners are 64-bit instance ids that
// are never reused, so a cache slot left by a destroyed CorpusTest can not
// match a new one.
struct RecentTuple {
  uint64_t fp;
  uint64_t owner;  // 0: empty
  uint32_t token;
};
constexpr size_t kRecentTuples = size_t{1} << 16;  // 1.5 MiB per thread that adds documents
std::atomic<uint64_t> g_next_corpus_test_id{1};
std::atomic<size_t> g_next_shard{0};  // numbers the threads that add records

RecentTuple* RecentCache() {
  // Huge pages: the slots are probed at random, one per tuple.
  thread_local HugePageVector<RecentTuple> cache(kRecentTuples);
  return cache.data();
}

// The top byte picks the partition; bits 16..31 are independent of it.
inline RecentTuple& RecentSlot(RecentTuple* cache, uint64_t fp) { return cache[(fp >> 16) & (kRecentTuples - 1)]; }

// Returns true if (fp, token) was the last tuple this thread cached in its
// slot for `owner`, and caches it either way.
inline bool SeenRecently(RecentTuple& slot, uint64_t owner, uint64_t fp, uint32_t token) {
  // One branch-free test: hits and misses alternate at random.
  const bool hit = ((slot.fp ^ fp) | (slot.owner ^ owner) | (slot.token ^ token)) == 0;
  slot = RecentTuple{fp, owner, token};
  return hit;
}

}  // namespace

// Keeps the smallest token of each fingerprint: deterministic even in the
// 2^-64 case of two tuples sharing a fingerprint, and the same whichever
// subsets the records were first deduplicated in.
//
// Fingerprints are uniformly distributed, so one counting pass over the bits
// just below the common prefix of all fingerprints spreads the records over
// about n/2 buckets that are already in order; each bucket (a couple of
// records) is then sorted by comparison: a quarter of std::sort's time on
// 256 partitions of 6,000 records (20 vs 85 ms, one core, 2026-12-05).
void CorpusTest::SortUniqueRecords(std::vector<Record>* v) {
  const size_t n = v->size();
  if (n < 1024) {
    std::sort(v->begin(), v->end(), kRecordLess);
    v->erase(std::unique(v->begin(), v->end(), kSameFingerprint), v->end());
    return;
  }
  uint64_t lo = ~uint64_t{0}, hi = 0;
  for (const Record& r : *v) {
    lo = std::min<uint64_t>(lo, r.fp);
    hi = std::max<uint64_t>(hi, r.fp);
  }
  const int varying = lo == hi ? 0 : 64 - __builtin_clzll(lo ^ hi);  // bits below the common prefix
  const int bits = std::min({varying, 16, std::max(1, static_cast<int>(std::bit_width(n)) - 1)});
  const int shift = varying - bits;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  auto bucket = [&](const Record& r) { return static_cast<size_t>((r.fp >> shift) & mask); };
  std::vector<size_t> start((size_t{1} << bits) + 1, 0);
  for (const Record& r : *v) ++start[bucket(r) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<Record> sorted(n);
  {
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (const Record& r : *v) sorted[next[bucket(r)]++] = r;
  }
  for (size_t b = 0; b + 1 < start.size(); ++b) {
    Record* first = sorted.data() + start[b];
    Record* last = sorted.data() + start[b + 1];
    // Insertion sort: buckets hold a few records, unless the fingerprints
    // were chosen to collide (the context hash is unkeyed), which must not
    // make the sort quadratic.
    if (last - first > 32) {
      std::sort(first, last, kRecordLess);
      continue;
    }
    for (Record* i = first + 1; i < last; ++i) {
      const Record x = *i;
      Record* j = i;
      for (; j > first && RecordLess(x, *(j - 1)); --j) *j = *(j - 1);
      *j = x;
    }
  }
  sorted.erase(std::unique(sorted.begin(), sorted.end(), kSameFingerprint), sorted.end());
  v->swap(sorted);
}

void CorpusTest::ScoreRecords(const std::vector<const Detector*>& detectors, std::span<const Record> recs,
                              std::vector<double>* sums) {
  std::vector<uint64_t> contexts(recs.size());
  std::vector<int32_t> ids(recs.size());
  std::vector<double> values(recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    const uint64_t fp = recs[i].fp;
    ids[i] = static_cast<int32_t>(recs[i].token);
    // TupleFingerprint is context ^ f(token), so the context comes back exactly.
    contexts[i] = fp ^ TupleFingerprint(0, ids[i]);
  }
  sums->assign(detectors.size(), 0.0);
  for (size_t j = 0; j < detectors.size(); ++j) {
    detectors[j]->TupleValues(contexts.data(), ids.data(), recs.size(), values.data());
    double s = 0;
    for (double v : values) s += v;  // record order: the sum is part of the spec
    (*sums)[j] = s;
  }
}

CorpusTestResult CorpusTest::ResultFromPartitions(const std::vector<const Detector*>& detectors, uint64_t documents,
                                                  uint64_t tokens_seen, const std::vector<uint64_t>& part_unique,
                                                  const std::vector<std::vector<double>>& part_sums) {
  const size_t k = detectors.size();
  std::vector<double> sums(k, 0.0);
  uint64_t unique = 0;
  for (size_t p = 0; p < part_unique.size(); ++p) {
    unique += part_unique[p];
    for (size_t j = 0; j < k; ++j) sums[j] += part_sums[p][j];
  }
  CorpusTestResult result;
  result.documents = documents;
  result.tokens_seen = tokens_seen;
  result.unique_tuples = unique;
  std::vector<double> log_p(k);
  for (size_t j = 0; j < k; ++j) {
    CorpusKeyResult r;
    r.key_id = detectors[j]->key_id();
    r.scored = unique;
    r.score = sums[j];
    log_p[j] = LogNullTail(detectors[j]->spec(), sums[j], static_cast<int64_t>(unique));
    r.log10_p = log_p[j] * kLog10E;
    r.p_value = std::pow(10.0, r.log10_p);
    result.keys.push_back(std::move(r));
  }
  const std::vector<double> holm = HolmAdjustLog(log_p);
  for (size_t j = 0; j < k; ++j) {
    result.keys[j].holm_log10_p = holm[j] * kLog10E;
    result.keys[j].holm_p = std::pow(10.0, result.keys[j].holm_log10_p);
  }
  result.best_key = k == 0 ? -1 : 0;
  for (size_t j = 1; j < k; ++j) {
    if (log_p[j] < log_p[static_cast<size_t>(result.best_key)]) result.best_key = static_cast<int>(j);
  }
  return result;
}

CorpusTest::CorpusTest(std::vector<const Detector*> detectors, CorpusTestOptions options)
    : detectors_(std::move(detectors)),
      options_(std::move(options)),
      id_(g_next_corpus_test_id.fetch_add(1, std::memory_order_relaxed)),
      shards_(new Shard[kShards]),
      runs_(kPartitions) {
  // A quarter of the budget buffers new tuples (shards included); the rest
  // holds the runs.
  buffer_cap_ = static_cast<size_t>(std::max<uint64_t>(4096, options_.memory_limit_bytes / 4 / sizeof(Record)));
  shard_cap_ = std::clamp<size_t>(buffer_cap_ / kShards, 64, 16384);
}

CorpusTest::~CorpusTest() { RemoveSpillFiles(); }

StatusOr<std::unique_ptr<CorpusTest>> CorpusTest::Create(std::vector<const Detector*> detectors,
                                                         CorpusTestOptions options) {
  if (detectors.empty()) return Status::InvalidArgument("corpus test needs at least one key");
  for (const Detector* d : detectors) {
    if (d == nullptr) return Status::InvalidArgument("corpus test: null detector");
    if (!(d->spec() == detectors[0]->spec())) {
      return Status::InvalidArgument("corpus test: every key must use the same scheme (" +
                                     detectors[0]->spec().ToString() + " vs " + d->spec().ToString() + ")");
    }
  }
  if (options.memory_limit_bytes < (1u << 16)) {
    return Status::InvalidArgument("corpus test: memory limit must be at least 64 KiB");
  }
  return std::unique_ptr<CorpusTest>(new CorpusTest(std::move(detectors), std::move(options)));
}

Status CorpusTest::AddDocument(std::span<const int32_t> tokens, const DetectOptions& options) {
  TT_ASSIGN_OR_RETURN(std::vector<ScoringTuple> tuples, detectors_[0]->ScoringTuples(tokens, options));
  std::vector<Record> local;
  local.reserve(tuples.size());
  for (const ScoringTuple& t : tuples) {
    if (options_.context_filter && !options_.context_filter(t.context)) continue;
    local.push_back(Record{TupleFingerprint(t.context, t.token), static_cast<uint32_t>(t.token)});
  }
  const uint64_t candidates = local.size();
  return AddRecords(&local, candidates);
}

Status CorpusTest::AddScoredTuples(std::span<const uint64_t> fingerprints, std::span<const int32_t> tokens,
                                   uint64_t candidates) {
  if (options_.context_filter) {
    return Status::FailedPrecondition("corpus test: scored tuples carry no contexts for the context filter");
  }
  if (fingerprints.size() != tokens.size() || fingerprints.size() > candidates) {
    return Status::InvalidArgument("corpus test: " + std::to_string(fingerprints.size()) + " fingerprints, " +
                                   std::to_string(tokens.size()) + " tokens, " + std::to_string(candidates) +
                                   " candidates");
  }
  thread_local std::vector<Record> local;
  local.resize(fingerprints.size());
  for (size_t i = 0; i < local.size(); ++i) {
    if (tokens[i] < 0) return Status::InvalidArgument("corpus test: negative token id " + std::to_string(tokens[i]));
    local[i] = Record{fingerprints[i], static_cast<uint32_t>(tokens[i])};
  }
  return AddRecords(&local, candidates);
}

namespace {

// In-place radix partition of [b, e) by the top fingerprint byte (American
// flag sort, one level): O(n), no second buffer, so no fresh pages to fault
// in. Returns the kPartitions + 1 bounds, as offsets from `origin`.
std::vector<size_t> PartitionInPlace(Record* origin, Record* b, Record* e) {
  constexpr int kParts = CorpusTest::kPartitions;
  std::vector<size_t> start(kParts + 1, 0);
  for (const Record* r = b; r != e; ++r) ++start[static_cast<size_t>(CorpusTest::PartitionOf(r->fp)) + 1];
  start[0] = static_cast<size_t>(b - origin);
  for (int p = 0; p < kParts; ++p) start[p + 1] += start[p];
  std::vector<size_t> next(start.begin(), start.end() - 1);
  for (int bucket = 0; bucket < kParts; ++bucket) {
    while (next[bucket] < start[bucket + 1]) {
      Record r = origin[next[bucket]];
      int pb = CorpusTest::PartitionOf(r.fp);
      while (pb != bucket) {  // carry r to its bucket, picking up what was there
        std::swap(r, origin[next[pb]++]);
        pb = CorpusTest::PartitionOf(r.fp);
      }
      origin[next[bucket]++] = r;
    }
  }
  return start;
}

}  // namespace

void CorpusTest::PrefetchRecent(std::span<const uint64_t> fingerprints) const {
  RecentTuple* cache = RecentCache();
  for (const uint64_t fp : fingerprints) __builtin_prefetch(&RecentSlot(cache, fp), 1);
}

Status CorpusTest::AddRecords(std::vector<Record>* local, uint64_t candidates) {
  // Recent repeats (within the document and across this thread's previous
  // documents) are dropped here already: less to buffer, lock for and sort.
  // Then one lock per document, of this thread's shard.
  // The cache is larger than L2 and its slots are random, so each lookup
  // would wait for memory; the slots a few records ahead are prefetched
  // (the loop spent 60% of its time on that one load).
  std::vector<Record>& recs = *local;
  RecentTuple* cache = RecentCache();
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < std::min(kAhead, recs.size()); ++i) __builtin_prefetch(&RecentSlot(cache, recs[i].fp), 1);
  size_t kept = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (i + kAhead < recs.size()) __builtin_prefetch(&RecentSlot(cache, recs[i + kAhead].fp), 1);
    const Record r = recs[i];
    recs[kept] = r;
    kept += !SeenRecently(RecentSlot(cache, r.fp), id_, r.fp, r.token);  // no branch: repeats are data-dependent
  }
  thread_local const size_t shard_of_thread = g_next_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
  thread_local std::vector<Record> moving;
  Shard& shard = shards_[shard_of_thread];
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    if (finished_.load()) return Status::FailedPrecondition("corpus test: AddDocument after Finish");
    ++shard.documents;
    shard.tokens_seen += candidates;
    shard.records.insert(shard.records.end(), recs.begin(), recs.begin() + static_cast<std::ptrdiff_t>(kept));
    if (shard.records.size() < shard_cap_) return Status::Ok();
    moving.clear();
    moving.swap(shard.records);  // the shard keeps `moving`'s old capacity
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Finish ran between the two locks: a caller added and finished at once.
  if (finished_.load()) return Status::FailedPrecondition("corpus test: AddDocument after Finish");
  return AppendLocked(moving);
}

Status CorpusTest::AppendLocked(std::span<const Record> records) {
  if (buffer_.capacity() == 0) {
    // Reserving the whole buffer once avoids re-copying it as it grows; the
    // OS backs only the pages actually written.
    buffer_.reserve(buffer_cap_ + 4096);
  }
  buffer_.insert(buffer_.end(), records.begin(), records.end());
  buffer_records_ += records.size();
  if (buffer_records_ >= buffer_cap_) return CompactLocked();
  // The tail is partitioned while it is still in cache: at Finish the whole
  // buffer (tens of MB) was partitioned at once, with a cache miss per swap,
  // while the workers had nothing left to do.
  if (buffer_.size() - partitioned_ >= kPartitionChunk) {
    Record* origin = buffer_.data();
    buffer_bounds_.push_back(PartitionInPlace(origin, origin + partitioned_, origin + buffer_.size()));
    partitioned_ = buffer_.size();
  }
  return Status::Ok();
}

void CorpusTest::PartitionBufferLocked(unsigned threads) {
  // Each partition's range is sorted later by whoever consumes it, so
  // partitions can be sorted in parallel. With several threads the buffer is
  // cut into that many chunks, each partitioned on its own (at Finish this
  // pass was serial: 3% of a two-worker scan's wall time on 48 MB); a
  // partition is then the union of its ranges in every chunk.
  // Only the tail that AppendLocked has not partitioned yet.
  const size_t first = partitioned_, n = buffer_.size() - first;
  if (n == 0) return;
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(threads, n / 65536));
  const size_t old = buffer_bounds_.size();
  buffer_bounds_.resize(old + chunks);
  Record* origin = buffer_.data();
  Record* tail = origin + first;
  auto run = [&](size_t c) {
    buffer_bounds_[old + c] = PartitionInPlace(origin, tail + n * c / chunks, tail + n * (c + 1) / chunks);
  };
  std::vector<std::thread> pool;
  for (size_t c = 1; c < chunks; ++c) pool.emplace_back(run, c);
  run(0);
  for (std::thread& t : pool) t.join();
  partitioned_ = buffer_.size();
}

Status CorpusTest::CompactLocked() {
  PartitionBufferLocked(1);
  std::vector<Record> fresh;
  for (int p = 0; p < kPartitions; ++p) {
    fresh.clear();
    for (const std::vector<size_t>& bounds : buffer_bounds_) {
      fresh.insert(fresh.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(bounds[p]),
                   buffer_.begin() + static_cast<std::ptrdiff_t>(bounds[p + 1]));
    }
    if (fresh.empty()) continue;
    SortUniqueRecords(&fresh);
    std::vector<Record>& run = runs_[p];
    std::vector<Record> merged;
    merged.reserve(run.size() + fresh.size());
    std::merge(run.begin(), run.end(), fresh.begin(), fresh.end(), std::back_inserter(merged), kRecordLess);
    merged.erase(std::unique(merged.begin(), merged.end(), kSameFingerprint), merged.end());
    run_records_ += merged.size() - run.size();
    run.swap(merged);
  }
  buffer_.clear();  // keeps the reserved capacity for the next round
  buffer_bounds_.clear();
  partitioned_ = 0;
  buffer_records_ = 0;
  const uint64_t run_cap = (options_.memory_limit_bytes - options_.memory_limit_bytes / 4) / sizeof(Record);
  if (run_records_ > run_cap) TT_RETURN_IF_ERROR(SpillLocked());
  return Status::Ok();
}

Status CorpusTest::EnsureSpillDirLocked() {
  if (!spill_path_.empty()) return Status::Ok();
  std::string base = options_.spill_dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = base + "/telltale-corpus-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return Status::Unavailable("corpus test: cannot create a spill directory in " + base + ": " + std::strerror(errno));
  }
  spill_path_ = buf.data();
  return Status::Ok();
}

Status CorpusTest::SpillLocked() {
  TT_RETURN_IF_ERROR(EnsureSpillDirLocked());
  SpillFile file;
  file.path = spill_path_ + "/run-" + std::to_string(spill_files_.size());
  file.offset.assign(kPartitions, 0);
  file.count.assign(kPartitions, 0);
  // Registered before writing so a failed write is still cleaned up.
  spill_files_.push_back(file);
  FILE* f = std::fopen(file.path.c_str(), "wb");
  if (f == nullptr) {
    return Status::Unavailable("corpus test: cannot create spill file " + file.path + ": " + std::strerror(errno));
  }
  uint64_t pos = 0;
  bool ok = true;
  for (int p = 0; p < kPartitions && ok; ++p) {
    std::vector<Record>& run = runs_[p];
    file.offset[p] = pos;
    file.count[p] = run.size();
    ok = run.empty() || std::fwrite(run.data(), sizeof(Record), run.size(), f) == run.size();
    pos += run.size();
  }
  const int saved = errno;
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    return Status::Unavailable("corpus test: cannot write spill file " + file.path + ": " +
                               std::strerror(saved != 0 ? saved : errno));
  }
  spill_files_.back() = std::move(file);
  for (auto& run : runs_) std::vector<Record>().swap(run);
  run_records_ = 0;
  return Status::Ok();
}

void CorpusTest::RemoveSpillFiles() {
  if (spill_path_.empty()) return;
  for (const SpillFile& f : spill_files_) ::unlink(f.path.c_str());
  spill_files_.clear();
  ::rmdir(spill_path_.c_str());
  spill_path_.clear();
}

Status CorpusTest::LoadPartition(int part, std::vector<Record>* out) {
  out->clear();
  for (const SpillFile& sf : spill_files_) {
    const uint64_t n = sf.count[part];
    if (n == 0) continue;
    FILE* f = std::fopen(sf.path.c_str(), "rb");
    if (f == nullptr) {
      return Status::Unavailable("corpus test: cannot reopen spill file " + sf.path + ": " + std::strerror(errno));
    }
    const size_t old = out->size();
    out->resize(old + n);
    const bool ok = std::fseek(f, static_cast<long>(sf.offset[part] * sizeof(Record)), SEEK_SET) == 0 &&
                    std::fread(out->data() + old, sizeof(Record), n, f) == n;
    std::fclose(f);
    if (!ok) return Status::DataLoss("corpus test: spill file " + sf.path + " is shorter than written");
  }
  out->insert(out->end(), runs_[part].begin(), runs_[part].end());
  for (const std::vector<size_t>& bounds : buffer_bounds_) {
    out->insert(out->end(), buffer_.begin() + static_cast<std::ptrdiff_t>(bounds[part]),
                buffer_.begin() + static_cast<std::ptrdiff_t>(bounds[part + 1]));
  }
  std::vector<Record>().swap(runs_[part]);
  SortUniqueRecords(out);
  return Status::Ok();
}

StatusOr<CorpusTestResult> CorpusTest::Finish() {
  if (finished_.exchange(true)) return Status::FailedPrecondition("corpus test: Finish called twice");
  // From here every AddDocument fails; take what the shards hold.
  uint64_t documents = 0, tokens_seen = 0;
  std::vector<Record> rest;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> shard_lock(shards_[i].mu);
    documents += shards_[i].documents;
    tokens_seen += shards_[i].tokens_seen;
    rest.insert(rest.end(), shards_[i].records.begin(), shards_[i].records.end());
    std::vector<Record>().swap(shards_[i].records);
  }
  std::lock_guard<std::mutex> lock(mu_);
  struct Cleanup {
    CorpusTest* self;
    ~Cleanup() { self->RemoveSpillFiles(); }
  } cleanup{this};

  TT_RETURN_IF_ERROR(AppendLocked(rest));
  std::vector<Record>().swap(rest);
  const unsigned threads = std::max(1u, options_.threads > 0 ? options_.threads : std::thread::hardware_concurrency());
  PartitionBufferLocked(threads);  // LoadPartition takes (and sorts) each partition's ranges of it
  const size_t k = detectors_.size();
  // Partitions are loaded, sorted and scored in parallel; each partition's
  // sums are kept apart and added in partition order afterwards, so the
  // result does not depend on the number of threads.
  std::vector<std::vector<double>> part_sums(kPartitions, std::vector<double>(k, 0.0));
  std::vector<uint64_t> part_unique(kPartitions, 0);
  std::vector<Status> part_status(kPartitions, Status::Ok());
  std::atomic<int> next{0};
  const bool export_only = static_cast<bool>(options_.partition_sink);
  auto work = [&] {
    std::vector<Record> recs;
    for (int p = next.fetch_add(1); p < kPartitions; p = next.fetch_add(1)) {
      part_status[p] = LoadPartition(p, &recs);
      if (!part_status[p].ok()) continue;
      part_unique[p] = recs.size();
      if (export_only) {
        options_.partition_sink(p, std::span<const Record>(recs.data(), recs.size()));
      } else {
        ScoreRecords(detectors_, recs, &part_sums[p]);
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (int p = 0; p < kPartitions; ++p) TT_RETURN_IF_ERROR(part_status[p]);
  if (export_only) {
    CorpusTestResult result;
    result.documents = documents;
    result.tokens_seen = tokens_seen;
    for (uint64_t u : part_unique) result.unique_tuples += u;
    return result;
  }
  return ResultFromPartitions(detectors_, documents, tokens_seen, part_unique, part_sums);
}

uint64_t CorpusTest::memory_bytes() const {
  uint64_t records = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    records = run_records_ + buffer_records_;
  }
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    records += shards_[i].records.size();
  }
  return records * sizeof(Record);
}

uint64_t CorpusTest::spill_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spill_files_.size();
}

}  // namespace telltale
