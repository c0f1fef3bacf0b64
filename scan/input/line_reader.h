// LineReader: splits a ByteReader into '\n'-terminated lines with bounded
// memory.
//
// A line longer than max_line bytes is not buffered: the reader reports it
// once as kTooLong with its full length and resyncs after the next '\n',
// reading the rest in chunks that are thrown away. The buffer therefore
// never exceeds max_line + 1 + one 64 KiB chunk.
//
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "scan/input/byte_reader.h"

namespace telltale::scan {

class LineReader {
 public:
  enum class Result { kLine, kTooLong, kEnd };
  LineReader(ByteReader* source, uint64_t max_line);

  // kLine: *line is the line without its '\n' (valid until the next call).
  // kTooLong: the line's length without '\n' is in *length and nothing else.
  // *consumed is the number of input bytes the line used, '\n' included.
  // A stream error is returned as its Status; complete lines before it were
  // already returned, and partial_bytes() tells how much of an unfinished
  // line was lost.
  StatusOr<Result> Next(std::string_view* line, uint64_t* length, uint64_t* consumed);
  // 1-based number of the line last returned (or being read on error).
  uint64_t line_number() const { return line_number_; }
  uint64_t partial_bytes() const { return end_ - pos_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status ReadMore();
  StatusOr<Result> SkipLongLine(uint64_t* length, uint64_t* consumed);

  ByteReader* source_;
  uint64_t max_line_;
  size_t chunk_;
  std::string buf_;
  size_t pos_ = 0, scan_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace telltale::scan
