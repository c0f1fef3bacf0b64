// CsvReader: CSV (RFC 4180) and TSV records from a byte stream, one column
// as the document.
//
// Rules: the first record is the header (a leading UTF-8 BOM is dropped). `column` names a header field, or,
// when no header field has that name and it is all digits, a 1-based column
// index. Fields may be quoted with '"' ("" inside is one quote) and then
// contain the delimiter, CR and LF; records end at LF or CRLF outside quotes.
// A quote inside an unquoted field is taken literally (as Python's csv
// does); a character other than the delimiter or a line end after a closing
// quote is an error for that record, which then resyncs at the next line
// end. TSV uses the same rules with '\t'.
//
// Memory: a streaming state machine that keeps only the wanted field (and
// the header while it is read), each bounded by max_document_bytes; longer
// fields make the record an error without buffering the rest.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scan/input/byte_reader.h"
#include "scan/input/record_reader.h"

namespace telltale::scan {

class CsvReader final : public RecordReader {
 public:
  CsvReader(std::unique_ptr<ByteReader> bytes, char delimiter, std::string column, uint64_t max_bytes);
  StatusOr<bool> Next(InputItem* item) override;

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kBadRecord };
  // Runs the state machine until a record ends; false at end of input.
  StatusOr<bool> ReadRecord(Status* stream_error);
  void Append(char c);
  void EndField();
  bool ResolveColumn(std::string* why);

  std::unique_ptr<ByteReader> bytes_;
  char delim_;
  std::string column_;
  uint64_t max_;

  std::string chunk_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false, done_ = false;

  // Current record.
  State state_ = State::kFieldStart;
  bool pending_cr_ = false;
  size_t col_ = 0;
  std::string field_;        // the wanted column (or a header field)
  bool field_too_long_ = false;
  bool record_empty_ = true;  // nothing but the line end so far
  std::string bad_reason_;
  uint64_t record_line_ = 0, line_ = 1, record_bytes_ = 0;
  uint64_t field_count_ = 0;
  bool wanted_seen_ = false;

  // Header.
  bool header_done_ = false;
  std::vector<std::string> header_;
  uint64_t header_bytes_ = 0;
  size_t target_ = 0;  // 0-based column
};

}  // namespace telltale::scan
