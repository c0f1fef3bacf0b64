#include "scan/input/document_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "scan/input/byte_reader.h"
#include "scan/input/input_walker.h"
#include "scan/input/json_field.h"
#include "scan/input/record_reader.h"

namespace telltale::scan {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// kAuto: decide by extension once the compression suffix is stripped
// (decompression itself is decided by magic bytes, not by these names).
InputFormat FormatFromName(std::string_view path) {
  std::string lower(path);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string_view s = lower;
  for (std::string_view z : {".gz", ".gzip", ".zst", ".zstd", ".xz"}) {
    if (EndsWith(s, z)) {
      s.remove_suffix(z.size());
      break;
    }
  }
  if (EndsWith(s, ".jsonl") || EndsWith(s, ".ndjson")) return InputFormat::kJsonl;
  if (EndsWith(s, ".csv")) return InputFormat::kCsv;
  if (EndsWith(s, ".tsv")) return InputFormat::kTsv;
  return InputFormat::kText;
}

// Passes through at most `limit` bytes of a plain reader (a partition's
// byte range); the descriptor was already positioned at the range start.
class RangeReader : public ByteReader {
 public:
  RangeReader(std::unique_ptr<ByteReader> inner, uint64_t limit) : inner_(std::move(inner)), left_(limit) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (left_ == 0) return size_t{0};
    TT_ASSIGN_OR_RETURN(size_t got, inner_->Read(buf, static_cast<size_t>(std::min<uint64_t>(n, left_))));
    left_ -= got;
    return got;
  }
  const char* encoding() const override { return inner_->encoding(); }

 private:
  std::unique_ptr<ByteReader> inner_;
  uint64_t left_;
};

}  // namespace

std::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kText: return "text";
    case InputFormat::kLines: return "lines";
    case InputFormat::kJsonl: return "jsonl";
    case InputFormat::kCsv: return "csv";
    case InputFormat::kTsv: return "tsv";
  }
  return "auto";
}

StatusOr<InputFormat> ParseInputFormat(std::string_view name) {
  for (InputFormat f : {InputFormat::kAuto, InputFormat::kText, InputFormat::kLines, InputFormat::kJsonl,
                        InputFormat::kCsv, InputFormat::kTsv}) {
    if (InputFormatName(f) == name) return f;
  }
  return Status::InvalidArgument("unknown input format '" + std::string(name) +
                                 "' (expected auto, text, lines, jsonl, csv or tsv)");
}

DocumentSource::DocumentSource(const InputOptions& options) : options_(options) {}
DocumentSource::~DocumentSource() = default;

StatusOr<std::unique_ptr<DocumentSource>> DocumentSource::Open(const InputOptions& options) {
  if (options.max_document_bytes == 0) return Status::InvalidArgument("scan input: max_document_bytes must be > 0");
  if (options.max_document_bytes > (uint64_t{1} << 32) - 1) {
    // Offsets into a document are 32-bit (tokenize::NormalizedText).
    return Status::OutOfRange("scan input: max_document_bytes must be below 4 GiB");
  }
  if (options.field.empty()) return Status::InvalidArgument("scan input: empty field name");
  if (options.range_begin > options.range_end) return Status::InvalidArgument("scan input: byte range ends before it begins");
  std::unique_ptr<DocumentSource> src(new DocumentSource(options));
  // The JSON path is parsed once and shared by every JSONL file; CSV/TSV
  // column names need not be valid paths.
  StatusOr<JsonFieldPath> path = JsonFieldPath::Parse(options.field);
  if (path.ok()) {
    src->json_path_ = std::move(*path);
  } else if (options.format == InputFormat::kAuto || options.format == InputFormat::kJsonl) {
    return path.status();
  }
  TT_ASSIGN_OR_RETURN(src->walker_, InputWalker::Create(options));
  return src;
}

uint64_t DocumentSource::total_bytes_hint() const { return walker_->total_bytes(); }
uint64_t DocumentSource::disk_bytes_read() const { return disk_bytes_; }

Status DocumentSource::StartNextEntry(InputItem* item, bool* produced) {
  *produced = false;
  const InputEntry& e = walker_->entries()[next_entry_++];
  item->source = e.path;
  switch (e.kind) {
    case InputEntry::Kind::kError:
      SetProblem(item, ItemKind::kError, 0, e.reason, 0);
      *produced = true;
      return Status::Ok();
    case InputEntry::Kind::kSkipped:
      SetProblem(item, ItemKind::kSkipped, 0, e.reason, 0);
      *produced = true;
      return Status::Ok();
    case InputEntry::Kind::kFile:
    case InputEntry::Kind::kStdin:
      break;
  }
  int fd = 0;
  bool owns = false;
  if (e.kind == InputEntry::Kind::kFile) {
    do {
      fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      SetProblem(item, ItemKind::kError, 0, std::string("cannot open: ") + std::strerror(errno), 0);
      *produced = true;
      return Status::Ok();
    }
    owns = true;
    if (options_.has_range() && ::lseek(fd, static_cast<off_t>(options_.range_begin), SEEK_SET) < 0) {
      const int err = errno;
      ::close(fd);
      SetProblem(item, ItemKind::kError, 0, std::string("cannot seek to the byte range: ") + std::strerror(err), 0);
      *produced = true;
      return Status::Ok();
    }
  }
  StatusOr<std::unique_ptr<ByteReader>> bytes = OpenByteReader(fd, owns, &disk_bytes_);
  if (!bytes.ok()) {
    if (owns) ::close(fd);
    SetProblem(item, ItemKind::kError, 0, bytes.status().message(), 0);
    *produced = true;
    return Status::Ok();
  }
  if (owns && options_.has_range()) {
    if (std::strcmp((*bytes)->encoding(), "plain") != 0) {
      SetProblem(item, ItemKind::kError, 0,
                 std::string("a byte range cannot be read from a ") + (*bytes)->encoding() + " file", 0);
      *produced = true;
      return Status::Ok();
    }
    *bytes = std::unique_ptr<ByteReader>(
        new RangeReader(std::move(*bytes), options_.range_end - options_.range_begin));
  }
  InputFormat format = options_.format;
  if (format == InputFormat::kAuto) format = FormatFromName(e.kind == InputEntry::Kind::kStdin ? "" : e.path);
  reader_ = MakeRecordReader(format, std::move(*bytes), options_, &json_path_);
  reader_source_ = e.path;
  return Status::Ok();
}

StatusOr<bool> DocumentSource::Next(InputItem* item) {
  for (;;) {
    if (reader_ != nullptr) {
      TT_ASSIGN_OR_RETURN(bool got, reader_->Next(item));
      if (got) {
        item->source = reader_source_;
        item->index = next_index_++;
        return true;
      }
      reader_.reset();
    }
    if (next_entry_ >= walker_->entries().size()) return false;
    bool produced = false;
    TT_RETURN_IF_ERROR(StartNextEntry(item, &produced));
    if (produced) {
      item->index = next_index_++;
      return true;
    }
  }
}

}  // namespace telltale::scan
