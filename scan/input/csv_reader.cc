#include "scan/input/csv_reader.h"

#include <algorithm>

namespace telltale::scan {

namespace {
constexpr size_t kChunk = 64 << 10;
}

CsvReader::CsvReader(std::unique_ptr<ByteReader> bytes, char delimiter, std::string column, uint64_t max_bytes)
    : bytes_(std::move(bytes)), delim_(delimiter), column_(std::move(column)), max_(max_bytes), chunk_(kChunk, '\0') {}

void CsvReader::Append(char c) {
  record_empty_ = false;
  if (!header_done_) {
    if (++header_bytes_ > max_) {
      field_too_long_ = true;
      return;
    }
    field_.push_back(c);
    return;
  }
  if (col_ != target_ || field_too_long_) return;
  if (field_.size() >= max_) {
    field_too_long_ = true;
    field_.clear();
    field_.shrink_to_fit();
    return;
  }
  field_.push_back(c);
}

void CsvReader::EndField() {
  if (!header_done_) {
    // Spreadsheet exports often start with a UTF-8 byte order mark; it is
    // not part of the first column's name.
    if (header_.empty() && field_.compare(0, 3, "\xEF\xBB\xBF") == 0) field_.erase(0, 3);
    header_.push_back(std::move(field_));
    field_.clear();
  } else if (col_ == target_) {
    wanted_seen_ = true;
  }
  ++col_;
  state_ = State::kFieldStart;
}

StatusOr<bool> CsvReader::ReadRecord(Status* stream_error) {
  state_ = State::kFieldStart;
  pending_cr_ = false;
  col_ = 0;
  field_.clear();
  field_too_long_ = false;
  record_empty_ = true;
  bad_reason_.clear();
  record_line_ = line_;
  record_bytes_ = 0;
  wanted_seen_ = false;
  bool any_input = false;
  for (;;) {
    if (pos_ == end_) {
      if (eof_) break;
      StatusOr<size_t> r = bytes_->Read(chunk_.data(), chunk_.size());
      if (!r.ok()) {
        *stream_error = r.status();
        return any_input;
      }
      pos_ = 0;
      end_ = *r;
      if (end_ == 0) {
        eof_ = true;
        break;
      }
    }
    any_input = true;
    const char* p = chunk_.data();
    while (pos_ < end_) {
      char c = p[pos_++];
      ++record_bytes_;
      if (pending_cr_) {
        pending_cr_ = false;
        if (c == '\n') {
          EndField();
          ++line_;
          return true;
        }
        // A lone CR is data.
        if (state_ == State::kFieldStart) state_ = State::kUnquoted;
        Append('\r');
      }
      switch (state_) {
        case State::kFieldStart:
          if (c == '"') {
            state_ = State::kQuoted;
            record_empty_ = false;
            break;
          }
          state_ = State::kUnquoted;
          [[fallthrough]];
        case State::kUnquoted:
          if (c == delim_) {
            record_empty_ = false;
            EndField();
          } else if (c == '\n') {
            EndField();
            ++line_;
            return true;
          } else if (c == '\r') {
            pending_cr_ = true;
          } else {
            Append(c);
          }
          break;
        case State::kQuoted:
          if (c == '"') {
            state_ = State::kQuoteInQuoted;
          } else {
            if (c == '\n') ++line_;
            Append(c);
          }
          break;
        case State::kQuoteInQuoted:
          if (c == '"') {
            Append('"');
            state_ = State::kQuoted;
          } else if (c == delim_) {
            EndField();
          } else if (c == '\n') {
            EndField();
            ++line_;
            return true;
          } else if (c == '\r') {
            state_ = State::kUnquoted;  // CRLF after the closing quote
            pending_cr_ = true;
          } else {
            bad_reason_ = "unexpected character after the closing quote of column " + std::to_string(col_ + 1);
            state_ = State::kBadRecord;
          }
          break;
        case State::kBadRecord:
          if (c == '\n') {
            ++line_;
            return true;
          }
          break;
      }
    }
  }
  // End of input.
  if (!any_input && record_empty_ && record_bytes_ == 0) return false;
  if (state_ == State::kQuoted) {
    bad_reason_ = "unterminated quoted field in column " + std::to_string(col_ + 1) + " at end of file";
    state_ = State::kBadRecord;
    return true;
  }
  if (pending_cr_) Append('\r');
  if (state_ != State::kBadRecord) EndField();
  return true;
}

bool CsvReader::ResolveColumn(std::string* why) {
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == column_) {
      target_ = i;
      return true;
    }
  }
  bool digits = !column_.empty() && column_.size() < 10 &&
                std::all_of(column_.begin(), column_.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    size_t index = std::stoul(column_);
    if (index >= 1) {
      target_ = index - 1;
      return true;
    }
  }
  std::string names;
  for (size_t i = 0; i < header_.size() && i < 20; ++i) names += (i ? ", " : "") + ("'" + header_[i] + "'");
  if (header_.size() > 20) names += ", ...";
  *why = "no column '" + column_ + "' in the header (columns: " + names + ")";
  return false;
}

StatusOr<bool> CsvReader::Next(InputItem* item) {
  if (done_) return false;
  for (;;) {
    Status stream_error;
    TT_ASSIGN_OR_RETURN(bool got, ReadRecord(&stream_error));
    if (!stream_error.ok()) {
      done_ = true;
      std::string reason = stream_error.message();
      if (got) reason += "; unfinished record starting at line " + std::to_string(record_line_) + " discarded";
      SetProblem(item, ItemKind::kError, record_line_, reason, record_bytes_);
      return true;
    }
    if (!got) {
      done_ = true;
      if (!header_done_) {
        SetProblem(item, ItemKind::kSkipped, 0, "empty file (no header row)", 0);
        return true;
      }
      return false;
    }
    if (!header_done_) {
      header_done_ = true;
      if (state_ == State::kBadRecord || field_too_long_) {
        done_ = true;
        SetProblem(item, ItemKind::kError, record_line_,
                   "bad header row: " + (field_too_long_ ? std::string("longer than max_document_bytes") : bad_reason_) +
                       "; file skipped",
                   record_bytes_);
        return true;
      }
      std::string why;
      if (!ResolveColumn(&why)) {
        done_ = true;
        SetProblem(item, ItemKind::kError, record_line_, why + "; file skipped", record_bytes_);
        return true;
      }
      field_.clear();
      continue;  // the header is not a document
    }
    if (state_ == State::kBadRecord) {
      SetProblem(item, ItemKind::kError, record_line_, "CSV: " + bad_reason_, record_bytes_);
      return true;
    }
    if (record_empty_ && col_ <= 1) {
      SetProblem(item, ItemKind::kSkipped, record_line_, "empty line", record_bytes_);
      return true;
    }
    if (field_too_long_) {
      SetProblem(item, ItemKind::kError, record_line_,
                 "column " + std::to_string(target_ + 1) + " exceeds max_document_bytes (" + std::to_string(max_) +
                     "); skipped",
                 record_bytes_);
      return true;
    }
    if (!wanted_seen_) {
      SetProblem(item, ItemKind::kError, record_line_,
                 "record has " + std::to_string(col_) + " fields; column " + std::to_string(target_ + 1) +
                     " is missing",
                 record_bytes_);
      return true;
    }
    if (field_.empty()) {
      SetProblem(item, ItemKind::kSkipped, record_line_, "column " + std::to_string(target_ + 1) + " is empty",
                 record_bytes_);
      return true;
    }
    item->kind = ItemKind::kDocument;
    item->line = record_line_;
    item->reason.clear();
    item->input_bytes = record_bytes_;
    item->text = std::move(field_);
    field_.clear();
    return true;
  }
}

}  // namespace telltale::scan
