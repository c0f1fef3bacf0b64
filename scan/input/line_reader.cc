#include "scan/input/line_reader.h"

#include <algorithm>
#include <cstring>

namespace telltale::scan {

namespace {
constexpr size_t kChunk = 64 << 10;
}

LineReader::LineReader(ByteReader* source, uint64_t max_line)
    : source_(source), max_line_(max_line), chunk_(kChunk) {}

Status LineReader::ReadMore() {
  if (pos_ > 0) {
    // Compact so the buffer holds one unfinished line at most.
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    scan_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() < end_ + chunk_) {
    // Grow geometrically, but never past one max-size line plus a chunk.
    size_t cap_limit = static_cast<size_t>(std::min<uint64_t>(max_line_ + 1, uint64_t{1} << 40)) + chunk_;
    // Once doubling passes half the limit, go straight to the limit, so
    // old + new buffers never exceed 1.5x the limit during the copy.
    size_t want = std::max(buf_.size() * 2, end_ + chunk_);
    if (want > cap_limit / 2) want = cap_limit;
    want = std::max(want, end_ + chunk_);
    std::string grown(want, '\0');
    std::memcpy(grown.data(), buf_.data(), end_);
    buf_.swap(grown);
  }
  TT_ASSIGN_OR_RETURN(size_t r, source_->Read(buf_.data() + end_, chunk_));
  if (r == 0) eof_ = true;
  end_ += r;
  bytes_read_ += r;
  return Status::Ok();
}

StatusOr<LineReader::Result> LineReader::SkipLongLine(uint64_t* length, uint64_t* consumed) {
  // Everything buffered belongs to the long line; drop it and keep dropping
  // chunks until its '\n' appears.
  uint64_t skipped = end_ - pos_;
  pos_ = scan_ = end_ = 0;
  for (;;) {
    if (eof_) {
      *length = skipped;
      *consumed = skipped;
      return Result::kTooLong;
    }
    if (buf_.size() < chunk_) buf_.resize(chunk_);
    TT_ASSIGN_OR_RETURN(size_t r, source_->Read(buf_.data(), chunk_));
    bytes_read_ += r;
    if (r == 0) {
      eof_ = true;
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(buf_.data(), '\n', r));
    if (nl == nullptr) {
      skipped += r;
      continue;
    }
    size_t k = static_cast<size_t>(nl - buf_.data());
    skipped += k;
    pos_ = scan_ = k + 1;
    end_ = r;
    *length = skipped;
    *consumed = skipped + 1;
    return Result::kTooLong;
  }
}

StatusOr<LineReader::Result> LineReader::Next(std::string_view* line, uint64_t* length, uint64_t* consumed) {
  bool counted = false;
  for (;;) {
    const char* nl = scan_ < end_
                         ? static_cast<const char*>(std::memchr(buf_.data() + scan_, '\n', end_ - scan_))
                         : nullptr;
    if (nl != nullptr) {
      size_t k = static_cast<size_t>(nl - buf_.data());
      if (!counted) ++line_number_;
      *length = k - pos_;
      *consumed = k - pos_ + 1;
      size_t start = pos_;
      pos_ = scan_ = k + 1;
      if (*length > max_line_) return Result::kTooLong;
      *line = std::string_view(buf_.data() + start, k - start);
      return Result::kLine;
    }
    scan_ = end_;
    if (end_ > pos_ && !counted) {
      ++line_number_;
      counted = true;
    }
    if (end_ - pos_ > max_line_) return SkipLongLine(length, consumed);
    if (eof_) {
      if (end_ == pos_) return Result::kEnd;
      *length = *consumed = end_ - pos_;
      *line = std::string_view(buf_.data() + pos_, end_ - pos_);
      pos_ = scan_ = end_;
      return Result::kLine;
    }
    TT_RETURN_IF_ERROR(ReadMore());
  }
}

}  // namespace telltale::scan
