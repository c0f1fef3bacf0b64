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

// Reads bytes [begin, end) of a plain file as they are: no sniffing at the
// range start, so a line that happens to begin with compression magic bytes
// is still text. Owns the descriptor.
class RangeReader : public ByteReader {
 public:
  RangeReader(int fd, uint64_t begin, uint64_t end, uint64_t* disk_bytes)
      : fd_(fd), pos_(begin), end_(end), disk_bytes_(disk_bytes) {}
  ~RangeReader() override { ::close(fd_); }
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= end_) return size_t{0};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    ssize_t got;
    do {
      got = ::pread(fd_, buf, want, static_cast<off_t>(pos_));
    } while (got < 0 && errno == EINTR);
    if (got < 0) return Status::Unavailable(std::string("read error: ") + std::strerror(errno));
    pos_ += static_cast<uint64_t>(got);
    *disk_bytes_ += static_cast<uint64_t>(got);
    if (got == 0) pos_ = end_;  // the file is shorter than the range
    return static_cast<size_t>(got);
  }
  const char* encoding() const override { return "plain"; }

 private:
  int fd_;
  uint64_t pos_, end_;
  uint64_t* disk_bytes_;
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
  }
  StatusOr<std::unique_ptr<ByteReader>> bytes = OpenByteReader(fd, owns, &disk_bytes_);
  if (!bytes.ok()) {
    if (owns) ::close(fd);
    SetProblem(item, ItemKind::kError, 0, bytes.status().message(), 0);
    *produced = true;
    return Status::Ok();
  }
  if (owns && options_.has_range()) {
    // The encoding is sniffed at the start of the FILE; the range is then
    // read raw through a second descriptor.
    if (std::strcmp((*bytes)->encoding(), "plain") != 0) {
      SetProblem(item, ItemKind::kError, 0,
                 std::string("a byte range cannot be read from a ") + (*bytes)->encoding() + " file", 0);
      *produced = true;
      return Status::Ok();
    }
    int range_fd;
    do {
      range_fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (range_fd < 0 && errno == EINTR);
    if (range_fd < 0) {
      SetProblem(item, ItemKind::kError, 0, std::string("cannot open: ") + std::strerror(errno), 0);
      *produced = true;
      return Status::Ok();
    }
    *bytes = std::unique_ptr<ByteReader>(
        new RangeReader(range_fd, options_.range_begin, options_.range_end, &disk_bytes_));
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
