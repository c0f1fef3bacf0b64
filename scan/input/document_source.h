// DocumentSource: the input side of `telltale scan`. Expands files,
// directories and stdin into a deterministic stream of documents read from
// plain text, lines, JSONL or CSV/TSV, decompressing gzip/zstd/xz on the fly.
//
// Contract (docs/scan-input.md has the user-facing rules):
//  - Order: paths in the order given; a directory is walked depth-first with
//    entries sorted bytewise by name, so the item order (and InputItem::index)
//    is the same on every run and machine.
//  - Nothing is dropped silently: every document that is not scanned comes
//    back as a kSkipped item (empty text, JSON null) and every per-file or
//    per-record problem (unreadable file or directory, truncated or corrupt
//    compressed stream, malformed JSON/CSV, missing field, oversized
//    document) as a kError item naming file, line and reason. Reading then
//    goes on with the next record or file. Only bad InputOptions (no paths,
//    bad glob, empty field, stdin twice, zero max_document_bytes) make Open()
//    fail.
//  - Bounded memory: files are streamed in 64 KiB chunks; at most one
//    document (<= max_document_bytes) plus one chunk is buffered. A longer
//    line or record becomes ONE kError item and the reader resyncs at the
//    next record without buffering the rest.
//  - Document text is the raw bytes (may be invalid UTF-8), never altered
//    except that the lines/JSONL formats drop the line terminator ("\n" or
//    "\r\n").
//
// Thread-safety: a single-threaded producer; one thread calls Next().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "scan/input/json_field.h"

namespace telltale::scan {

enum class InputFormat { kAuto, kText, kLines, kJsonl, kCsv, kTsv };
// kAuto: by extension after stripping .gz/.zst/.xz: .jsonl/.ndjson -> kJsonl, .csv -> kCsv,
// .tsv -> kTsv, anything else -> kText (whole file = one document). --lines forces kLines.

// "auto", "text", "lines", "jsonl", "csv", "tsv" (both directions).
std::string_view InputFormatName(InputFormat format);
StatusOr<InputFormat> ParseInputFormat(std::string_view name);

struct InputOptions {
  std::vector<std::string> paths;             // files and directories; "-" is stdin
  std::vector<std::string> include_globs;     // matched against the path relative to the given root;
  std::vector<std::string> exclude_globs;     // "**" crosses directories
  InputFormat format = InputFormat::kAuto;
  std::string field = "text";                 // JSONL: dotted path ("meta.body", "messages.0.content");
                                              // CSV/TSV: column name (header row) or 1-based index
  uint64_t max_document_bytes = 64ull << 20;  // a longer document is an error record, never truncated silently
  // Scale-out partitions (docs/dask.md): read only bytes [range_begin,
  // range_end) of every regular file. Meant for one uncompressed lines/JSONL
  // file cut on line boundaries (line numbers then count from the range
  // start). A compressed file with a range is one error item; stdin ignores it.
  uint64_t range_begin = 0;
  uint64_t range_end = UINT64_MAX;
  bool has_range() const { return range_begin != 0 || range_end != UINT64_MAX; }
};

enum class ItemKind { kDocument, kSkipped, kError };

struct InputItem {
  ItemKind kind = ItemKind::kDocument;
  uint64_t index = 0;       // 0,1,2,... in deterministic read order over ALL items (directories sorted)
  std::string source;       // file path as given/discovered ("-" for stdin)
  uint64_t line = 0;        // 1-based line (JSONL/CSV/lines formats; CSV = record's first line); 0 = whole file
  std::string text;         // kDocument: the raw bytes of the document (may be invalid UTF-8; never altered)
  std::string reason;       // kSkipped/kError: one line saying what and why
  uint64_t input_bytes = 0; // bytes of the (decompressed) input this item accounted for, for progress
};

class InputWalker;
class RecordReader;

class DocumentSource {
 public:
  static StatusOr<std::unique_ptr<DocumentSource>> Open(const InputOptions& options);
  ~DocumentSource();
  DocumentSource(const DocumentSource&) = delete;
  DocumentSource& operator=(const DocumentSource&) = delete;

  // Fetches the next item. Returns false at the end. Per-file problems come
  // back as kError items (see above); a non-OK status means an internal
  // failure, after which the source must not be used.
  StatusOr<bool> Next(InputItem* item);
  uint64_t total_bytes_hint() const;   // sum of on-disk sizes of all regular input files (0 for stdin)
  uint64_t disk_bytes_read() const;    // on-disk (compressed) bytes consumed so far, for ETA

 private:
  explicit DocumentSource(const InputOptions& options);
  Status StartNextEntry(InputItem* item, bool* produced);

  InputOptions options_;
  std::unique_ptr<InputWalker> walker_;
  size_t next_entry_ = 0;
  std::unique_ptr<RecordReader> reader_;
  std::string reader_source_;
  JsonFieldPath json_path_;
  uint64_t next_index_ = 0;
  uint64_t disk_bytes_ = 0;
};

}  // namespace telltale::scan
