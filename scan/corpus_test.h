// CorpusTest: the dataset-level watermark test ("was this corpus built from
// our outputs?"), which detects a corpus even when every document is short.
//
// Every document contributes the (context, token) tuples a Detector would
// score (prompt prefix and ignored ids honoured). All tuples of all documents
// go into ONE global dedup set keyed by TupleFingerprint(context, token)
// (detect/detector.h; key-independent because the context hash is unkeyed).
// At Finish every UNIQUE tuple is scored once under every key, and each key
// gets the exact p-value of the detector's null for that many tuples
// (LogNullTail). Holm's step-down adjusts across keys; the best key is the
// one with the smallest raw p (ties: the earlier key).
//
// Why global dedup: a repeated tuple has the same PRF value every time, so
// counting it twice would break the independence the null relies on (and
// boilerplate repeated across documents would look watermarked). With dedup
// the null is exact for any corpus.
//
// Each thread that adds documents first drops exact repeats of tuples it
// added lately, through a 1.5 MiB per-thread direct-mapped cache (common
// n-grams repeat across documents); what passes is deduplicated exactly by
// the set below, so the cache changes speed, never results.
//
// The dedup set is compact: 12 bytes per unique tuple (64-bit fingerprint +
// 32-bit token, from which the context is recovered), kept as sorted,
// deduplicated runs in 256 partitions (top fingerprint byte). New tuples are
// buffered and folded into the runs; when the runs outgrow
// memory_limit_bytes they are written, all partitions one after another, to
// one scratch file in a private directory under spill_dir, and merged at
// Finish one partition at a time (so Finish needs about 1/256 of the set in
// memory). Scratch files are not fsync'ed: they never outlive the process's
// interest in them. The spill directory and its files are removed at Finish
// and in the destructor, on success and on error alike.
//
// Determinism: the unique set and the sums do not depend on the order or the
// thread in which documents are added, nor on options.threads (records sort
// by fingerprint, then token; each partition is summed in that order and the
// partitions are added in order), so results are identical for any thread
// count.
//
// Thread-safety: AddDocument and AddScoredTuples may be called concurrently
// from any number of threads (they prepare the tuples locally, then take an
// internal lock once to append). Finish must be called once, after every add
// returned; it uses options.threads threads internally.
// Ownership: borrows the detectors, which must outlive the CorpusTest.
#pragma once

#include <cstdint>
#include <functional>
#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/huge_pages.h"
#include "common/status.h"
#include "detect/detector.h"

namespace telltale {

// One unique tuple of the dedup set: packed, 12 bytes (docs/spec/scan.md,
// Corpus test). The context is fp XOR TupleFingerprint(0, token).
struct CorpusRecord {
  uint64_t fp;
  uint32_t token;
} __attribute__((packed));
static_assert(sizeof(CorpusRecord) == 12);

struct CorpusTestOptions {
  std::string spill_dir;                     // where the dedup set spills ("" = $TMPDIR or /tmp)
  uint64_t memory_limit_bytes = 1ull << 30;  // in-memory budget of the dedup set
  // Optional supervised filter (audit): only tuples whose context hash passes are counted.
  std::function<bool(uint64_t context_hash)> context_filter;
  unsigned threads = 0;                      // Finish sorts and scores partitions on this many threads (0 = all cores)
  // Scale-out (docs/dask.md): when set, Finish hands every partition's
  // sorted, unique records to this sink instead of scoring them, from its
  // worker threads (concurrently, each partition exactly once, empty ones
  // included). The result then has documents, tokens_seen and unique_tuples
  // but no key results (keys empty, best_key -1): the caller scores the
  // union of several such sets with ScoreRecords / ResultFromPartitions.
  std::function<void(int partition, std::span<const CorpusRecord> records)> partition_sink;
};

struct CorpusKeyResult {
  std::string key_id;
  uint64_t scored = 0;    // unique tuples scored (the same for every key)
  double score = 0;       // green count (kgw, unigram) or sum of gumbel scores
  double p_value = 1;     // 10^log10_p; 0 when that underflows
  double log10_p = 0;
  double holm_p = 1;
  double holm_log10_p = 0;
};

struct CorpusTestResult {
  uint64_t documents = 0;      // AddDocument calls that succeeded
  uint64_t tokens_seen = 0;    // candidate tuples before dedup (after the context filter)
  uint64_t unique_tuples = 0;
  std::vector<CorpusKeyResult> keys;  // in detector order
  int best_key = -1;           // -1 if there are no keys
  bool partial = false;        // set by the caller when the input was cut short (e.g. SIGINT)
};

class CorpusTest {
 public:
  // Fails when `detectors` is empty, holds a null pointer, or mixes schemes.
  static StatusOr<std::unique_ptr<CorpusTest>> Create(std::vector<const Detector*> detectors,
                                                      CorpusTestOptions options);
  ~CorpusTest();
  CorpusTest(const CorpusTest&) = delete;
  CorpusTest& operator=(const CorpusTest&) = delete;

  // Thread-safe. `tokens` as scored by Detector (DetectOptions: prompt prefix,
  // ignored ids honoured; dedup is always global context+token here).
  // Fails on negative ids, a negative prompt length, or a spill I/O error.
  Status AddDocument(std::span<const int32_t> tokens, const DetectOptions& options);
  // Thread-safe. The same document given as the tuples Detector::ScoreKeys
  // handed its sink (fingerprints and tokens; fresh within the document under
  // dedup context+token, or all of them under dedup none) and its
  // Detection::candidates: adds exactly what AddDocument would, without
  // recomputing the contexts. Fails with FailedPrecondition when the set has a
  // context filter (the fingerprints do not carry the contexts), and on
  // mismatched lengths or negative ids.
  Status AddScoredTuples(std::span<const uint64_t> fingerprints, std::span<const int32_t> tokens,
                         uint64_t candidates);
  // A hint, no effect on results: starts loading the calling thread's
  // recent-tuple cache slots of these fingerprints, which AddScoredTuples
  // will probe. A scan calls it as detection hands over a document's tuples,
  // so that the loads overlap the rest of detection (in AddScoredTuples a
  // document's first slots came too late to prefetch, and the probe loop
  // was mostly waiting on them).
  void PrefetchRecent(std::span<const uint64_t> fingerprints) const;
  bool has_context_filter() const { return static_cast<bool>(options_.context_filter); }
  // Once only. Merges, scores and removes every spill file.
  StatusOr<CorpusTestResult> Finish();

  // Bytes currently held by the in-memory dedup set (runs + buffers).
  uint64_t memory_bytes() const;
  // Number of spill files written so far (for tests and the report).
  uint64_t spill_files() const;

  using Record = CorpusRecord;
  static constexpr int kPartitions = 256;  // by the top fingerprint byte
  static int PartitionOf(uint64_t fp) { return static_cast<int>(fp >> 56); }

  // The pieces of Finish, public so that a distributed run (docs/dask.md)
  // reproduces it bit for bit from partial sets.
  // Sorts by (fp, token) and keeps the first record of each fingerprint.
  static void SortUniqueRecords(std::vector<Record>* records);
  // sums[j] = detector j's values over `records` (sorted, unique, one
  // partition), added in record order. `sums` is resized to the key count.
  static void ScoreRecords(const std::vector<const Detector*>& detectors, std::span<const Record> records,
                           std::vector<double>* sums);
  // Per-key p-values, Holm and the best key from per-partition unique
  // counts and sums (kPartitions entries each, added in partition order).
  static CorpusTestResult ResultFromPartitions(const std::vector<const Detector*>& detectors, uint64_t documents,
                                               uint64_t tokens_seen, const std::vector<uint64_t>& part_unique,
                                               const std::vector<std::vector<double>>& part_sums);

 private:
  CorpusTest(std::vector<const Detector*> detectors, CorpusTestOptions options);
  // Drops this thread's recent repeats from *local, then appends the rest.
  Status AddRecords(std::vector<Record>* local, uint64_t candidates);
  // Appends to buffer_ and compacts when it is full.
  Status AppendLocked(std::span<const Record> records);
  Status CompactLocked();
  // Partitions what AppendLocked left of buffer_ in place, on up to
  // `threads` threads (buffer_bounds_).
  void PartitionBufferLocked(unsigned threads);
  Status SpillLocked();
  Status EnsureSpillDirLocked();
  void RemoveSpillFiles();
  Status LoadPartition(int part, std::vector<Record>* out);

  std::vector<const Detector*> detectors_;
  CorpusTestOptions options_;
  const uint64_t id_;  // tags this set's entries in the per-thread recent-tuple caches
  // Each adding thread appends its documents' records to its own shard
  // (picked by a per-thread number), so threads do not contend for mu_ once
  // per document; a shard moves to buffer_ under mu_ once it holds
  // shard_cap_ records (at most the buffer's budget over all shards), and
  // Finish moves what is left. Locks are never nested.
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<Record> records;
    uint64_t documents = 0, tokens_seen = 0;
  };
  std::unique_ptr<Shard[]> shards_;
  size_t buffer_cap_ = 0, shard_cap_ = 0;
  std::atomic<bool> finished_{false};
  mutable std::mutex mu_;
  std::vector<std::vector<Record>> runs_;     // per partition: sorted, unique
  HugePageVector<Record> buffer_;             // new tuples, unsorted; huge pages: fewer faults as it fills
  // Per partitioned chunk of buffer_ (the first partitioned_ records; all of
  // them after PartitionBufferLocked), partition p's range
  // is [bounds[p], bounds[p + 1]).
  std::vector<std::vector<size_t>> buffer_bounds_;
  size_t partitioned_ = 0;
  // AppendLocked partitions the buffer's tail once it holds this many
  // records (768 KiB: in cache from being appended, and few chunks to gather).
  static constexpr size_t kPartitionChunk = size_t{1} << 16;
  uint64_t run_records_ = 0, buffer_records_ = 0;
  std::string spill_path_;                    // private directory, "" until the first spill
  struct SpillFile {
    std::string path;
    std::vector<uint64_t> offset, count;  // per partition, in records
  };
  std::vector<SpillFile> spill_files_;
};

}  // namespace telltale
