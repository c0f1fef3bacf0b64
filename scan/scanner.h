// The scan pipeline behind `telltale scan`.
//
//   reader thread:  DocumentSource::Next -> numbered items
//   N workers:      normalize (TextNormalizer) -> tokenize -> per-key detection
//                   with Holm attribution -> corpus test AddDocument
//   calling thread: reorder buffer -> sink(result) strictly in input order
//
// The sink sees exactly one DocumentResult per input item (documents,
// skipped items and error records alike), in item order, whatever the thread
// count. Between the reader and the sink there are at most a fixed number
// of items (2 * 128 per worker + 1024) and about
// ScanConfig::max_in_flight_bytes of input (plus the reader's next batch, a
// quarter of that bound or 1 MiB at most, and a document longer than the
// bound when it is alone in flight), so memory stays bounded whatever the
// documents' sizes. Per-document results and the corpus test do not
// depend on the thread count, so every output rendered from them is
// byte-identical for any --threads.
//
// Stopping: when *stop becomes true (SIGINT) the reader stops reading, the
// items already read are finished and emitted, and the summary is marked
// partial. A sink error aborts the scan and is returned.
//
// Thread-safety: RunScan may be called from any one thread; the sink and the
// progress callback run on that thread only. While the workers scan, that
// thread (if it is SCHED_OTHER) and the reader run under SCHED_BATCH, so
// their wake-ups do not preempt a worker; the caller's policy is restored
// before the corpus test's Finish and before RunScan returns.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"
#include "detect/detector.h"
#include "scan/corpus_test.h"
#include "scan/input/document_source.h"
#include "scan/input/text_normalizer.h"
#include "scan/scan_result.h"
#include "tokenize/tokenizer.h"

namespace telltale::scan {

struct ScanConfig {
  InputOptions input;
  NormalizeOptions normalize;
  std::shared_ptr<const tokenize::Tokenizer> tokenizer;
  std::vector<const Detector*> detectors;  // one per key, same scheme; borrowed
  DetectOptions detect;                    // window_search / min_window are honoured
  double alpha = 1e-3;
  unsigned threads = 1;                    // workers (>= 1)
  CorpusTestOptions corpus;
  bool keep_text = false;                  // results carry the document text
  // Results carry token_view (the best key's per-token marks, for the HTML
  // report). Off, the keys are scored without per-token output, and only a
  // detected document whose span needs the marks is scored again, under its
  // best key.
  bool token_view = false;
  const std::atomic<bool>* stop = nullptr; // optional: set to stop early (SIGINT)
  // Input bytes read but not yet emitted; 0: 64 MiB per worker plus 64 MiB.
  uint64_t max_in_flight_bytes = 0;
};

struct ScanProgress {
  uint64_t items = 0, documents = 0;
  uint64_t input_bytes = 0;   // decompressed bytes emitted so far
  uint64_t disk_bytes = 0;    // on-disk bytes consumed by the reader
  uint64_t total_disk_bytes = 0;  // 0 when unknown (stdin)
  double seconds = 0;
};

using ResultSink = std::function<Status(DocumentResult&&)>;
using ProgressFn = std::function<void(const ScanProgress&)>;

// Fails on a bad configuration (no keys, no tokenizer, bad input options) or
// when the sink fails; per-document problems are error records instead.
StatusOr<ScanSummary> RunScan(const ScanConfig& config, const ResultSink& sink, const ProgressFn& progress);

}  // namespace telltale::scan
