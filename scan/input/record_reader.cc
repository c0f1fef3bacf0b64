#include "scan/input/record_reader.h"

#include "scan/input/csv_reader.h"
#include "scan/input/line_reader.h"

namespace telltale::scan {

void SetProblem(InputItem* item, ItemKind kind, uint64_t line, std::string reason, uint64_t input_bytes) {
  item->kind = kind;
  item->line = line;
  item->text.clear();
  item->reason = std::move(reason);
  item->input_bytes = input_bytes;
}

namespace {

std::string TooLong(uint64_t length, uint64_t max) {
  return "document of " + std::to_string(length) + " bytes exceeds max_document_bytes (" + std::to_string(max) +
         "); skipped";
}

// Whole file = one document, read up to max_document_bytes + 1.
class TextReader final : public RecordReader {
 public:
  TextReader(std::unique_ptr<ByteReader> bytes, uint64_t max) : bytes_(std::move(bytes)), max_(max) {}
  StatusOr<bool> Next(InputItem* item) override {
    if (done_) return false;
    done_ = true;
    std::string text;
    uint64_t total = 0;
    constexpr size_t kChunk = 64 << 10;
    for (;;) {
      if (text.size() < total + kChunk) text.resize(std::max<size_t>(text.size() * 2, total + kChunk));
      StatusOr<size_t> r = bytes_->Read(text.data() + total, kChunk);
      if (!r.ok()) {
        SetProblem(item, ItemKind::kError, 0,
                   r.status().message() + "; whole-file document of " + std::to_string(total) +
                       " bytes read so far discarded",
                   total);
        return true;
      }
      if (*r == 0) break;
      total += *r;
      if (total > max_) {
        // Count (without keeping) the rest so the report gives the size.
        for (;;) {
          StatusOr<size_t> more = bytes_->Read(text.data(), kChunk);
          if (!more.ok() || *more == 0) break;
          total += *more;
        }
        SetProblem(item, ItemKind::kError, 0, TooLong(total, max_), total);
        return true;
      }
    }
    text.resize(total);
    if (text.empty()) {
      SetProblem(item, ItemKind::kSkipped, 0, "empty file", 0);
      return true;
    }
    item->kind = ItemKind::kDocument;
    item->line = 0;
    item->reason.clear();
    item->input_bytes = total;
    item->text = std::move(text);
    return true;
  }

 private:
  std::unique_ptr<ByteReader> bytes_;
  uint64_t max_;
  bool done_ = false;
};

// One document per line (kLines) or one JSON value per line (kJsonl).
class LineRecordReader final : public RecordReader {
 public:
  LineRecordReader(std::unique_ptr<ByteReader> bytes, uint64_t max, const JsonFieldPath* path)
      : bytes_(std::move(bytes)), lines_(bytes_.get(), max), max_(max), path_(path) {}

  StatusOr<bool> Next(InputItem* item) override {
    if (done_) return false;
    std::string_view line;
    uint64_t length = 0, consumed = 0;
    StatusOr<LineReader::Result> r = lines_.Next(&line, &length, &consumed);
    if (!r.ok()) {
      done_ = true;
      std::string reason = r.status().message();
      if (lines_.partial_bytes() > 0) {
        reason += "; unfinished line of " + std::to_string(lines_.partial_bytes()) + " bytes discarded";
      }
      // The damaged line: the unfinished one, or the next if it had not begun.
      uint64_t at = lines_.partial_bytes() > 0 ? lines_.line_number() : lines_.line_number() + 1;
      SetProblem(item, ItemKind::kError, at, reason, lines_.partial_bytes());
      return true;
    }
    switch (*r) {
      case LineReader::Result::kEnd:
        done_ = true;
        return false;
      case LineReader::Result::kTooLong:
        SetProblem(item, ItemKind::kError, lines_.line_number(), "line " + TooLong(length, max_), consumed);
        return true;
      case LineReader::Result::kLine:
        break;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    uint64_t n = lines_.line_number();
    if (path_ == nullptr) {
      if (line.empty()) {
        SetProblem(item, ItemKind::kSkipped, n, "empty line", consumed);
        return true;
      }
      item->kind = ItemKind::kDocument;
      item->line = n;
      item->reason.clear();
      item->input_bytes = consumed;
      item->text.assign(line.data(), line.size());
      return true;
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      SetProblem(item, ItemKind::kSkipped, n, "blank line", consumed);
      return true;
    }
    // The decoded field trades buffers with the item: the caller's spare
    // storage (scanner.cc recycles documents' buffers) decodes the next line.
    JsonFieldPath::Result& f = field_;
    path_->ExtractInto(line, &f);
    // Only problems name the field: no string to build per document.
    auto field = [&] { return "field '" + path_->dotted() + "'"; };
    switch (f.outcome) {
      case JsonFieldPath::Outcome::kString:
        if (f.value.empty()) {
          SetProblem(item, ItemKind::kSkipped, n, field() + " is an empty string", consumed);
          return true;
        }
        item->kind = ItemKind::kDocument;
        item->line = n;
        item->reason.clear();
        item->input_bytes = consumed;
        item->text.swap(f.value);
        return true;
      case JsonFieldPath::Outcome::kNull:
        SetProblem(item, ItemKind::kSkipped, n, field() + " is null", consumed);
        return true;
      case JsonFieldPath::Outcome::kWrongType:
        SetProblem(item, ItemKind::kError, n,
                   field() + " is " + (f.detail == "array" || f.detail == "object" ? "an " : "a ") + f.detail +
                       ", not a string",
                   consumed);
        return true;
      case JsonFieldPath::Outcome::kMissing:
        SetProblem(item, ItemKind::kError, n,
                   "no " + field() + (f.detail.empty() ? "" : " (" + f.detail + ")"), consumed);
        return true;
      case JsonFieldPath::Outcome::kParseError:
        SetProblem(item, ItemKind::kError, n, f.detail, consumed);
        return true;
    }
    return true;
  }

 private:
  std::unique_ptr<ByteReader> bytes_;
  LineReader lines_;
  uint64_t max_;
  const JsonFieldPath* path_;
  JsonFieldPath::Result field_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordReader> MakeRecordReader(InputFormat format, std::unique_ptr<ByteReader> bytes,
                                               const InputOptions& options, const JsonFieldPath* json_path) {
  switch (format) {
    case InputFormat::kLines:
      return std::make_unique<LineRecordReader>(std::move(bytes), options.max_document_bytes, nullptr);
    case InputFormat::kJsonl:
      return std::make_unique<LineRecordReader>(std::move(bytes), options.max_document_bytes, json_path);
    case InputFormat::kCsv:
    case InputFormat::kTsv:
      return std::make_unique<CsvReader>(std::move(bytes), format == InputFormat::kTsv ? '\t' : ',', options.field,
                                         options.max_document_bytes);
    case InputFormat::kAuto:
    case InputFormat::kText:
      break;
  }
  return std::make_unique<TextReader>(std::move(bytes), options.max_document_bytes);
}

}  // namespace telltale::scan
