// RecordReader: turns one file's byte stream into InputItems for one format
// (text, lines, JSONL, CSV/TSV). DocumentSource owns one at a time.
//
// Every reader reports per-record problems as kError items and a stream
// error (truncated/corrupt compression, I/O) as one final kError item that
// names the line it happened in; records before it were already returned.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>

#include "common/status.h"
#include "scan/input/byte_reader.h"
#include "scan/input/document_source.h"
#include "scan/input/json_field.h"

namespace telltale::scan {

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // Fills kind, line, text, reason and input_bytes of *item (the caller sets
  // index and source). Returns false when the file is exhausted.
  virtual StatusOr<bool> Next(InputItem* item) = 0;
};

// `format` must be resolved (not kAuto). `json_path` is used by kJsonl and
// must outlive the reader.
std::unique_ptr<RecordReader> MakeRecordReader(InputFormat format, std::unique_ptr<ByteReader> bytes,
                                               const InputOptions& options, const JsonFieldPath* json_path);

// Fills an item with kind and reason (text cleared).
void SetProblem(InputItem* item, ItemKind kind, uint64_t line, std::string reason, uint64_t input_bytes);

}  // namespace telltale::scan
