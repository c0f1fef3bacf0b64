// The values `telltale scan` reports: one DocumentResult per input item (in
// input order) and one ScanSummary at the end. Every output (JSON Lines, CSV,
// HTML, terminal) is rendered from these, so they all agree.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scan/corpus_test.h"

namespace telltale::scan {

enum class ResultKind { kDocument, kSkipped, kError };

struct KeyScore {
  double log10_p = 0;       // raw, this key alone
  double log10_p_holm = 0;  // Holm-adjusted across the keys
};

struct Span {  // a detected byte range of the ORIGINAL document text
  uint32_t begin = 0, end = 0;
};

struct TokenView {  // for the HTML report: one token of the best key's view
  uint32_t begin, end;  // original byte range
  int8_t mark;          // TokenMark (detect/detector.h)
  float score;          // NaN when not scored
};

struct DocumentResult {
  ResultKind kind = ResultKind::kDocument;
  uint64_t index = 0;    // input item index (0-based, read order)
  std::string source;    // file ("-" = stdin)
  uint64_t line = 0;     // 1-based; 0 = whole file
  std::string reason;    // skipped / error: one line
  uint64_t input_bytes = 0;
  // kDocument:
  uint64_t bytes = 0;    // raw document bytes
  int64_t tokens = 0, scored = 0;
  double score = 0, expected = 0, z = 0;
  double log10_p = 0;      // best key, Holm-adjusted (the raw value with one key)
  double log10_p_raw = 0;  // best key, raw
  double decision_log10_p = 0;  // window statistic when window search is on (detect/detection_report.h)
  bool detected = false;
  int best_key = 0;
  std::vector<KeyScore> keys;
  struct Window {
    int64_t begin = 0, end = 0, scored = 0, windows_tested = 0;
    double score = 0, log10_p = 0, log10_p_corrected = 0;
  };
  std::optional<Window> window;
  std::vector<Span> spans;
  // Kept only when the caller asks (top documents of the HTML report, --json-text).
  std::string text;
  std::vector<TokenView> token_view;
};

struct KeyInfo {
  std::string key_id;
  std::string name;  // tenant label of a derived key, else the key file's name
};

struct ScanSummary {
  uint64_t items = 0;       // input items seen
  uint64_t documents = 0;   // documents read and scanned
  uint64_t skipped = 0;     // legitimately not scanned (empty, null field)
  uint64_t failed = 0;      // error records (input or processing)
  uint64_t detected = 0;    // documents detected at alpha
  uint64_t bytes = 0;       // raw document bytes scanned
  uint64_t input_bytes = 0; // decompressed input bytes consumed
  uint64_t tokens = 0;
  std::vector<uint64_t> detected_per_key;  // detected documents attributed to each key
  CorpusTestResult corpus;
  bool corpus_detected = false;
  bool partial = false;     // interrupted (SIGINT) or stopped by a fatal input error
  std::string stop_reason;  // why it is partial
  double seconds = 0;       // wall time (terminal only: never in JSON/CSV/HTML, which are deterministic)
};

}  // namespace telltale::scan
