#include "scan/input/byte_reader.h"

#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace telltale::scan {

namespace {

constexpr size_t kInputChunk = 64 << 10;
constexpr uint64_t kXzMemoryLimit = 256ull << 20;

// The file descriptor itself; every other reader pulls from one of these.
class FdReader {
 public:
  FdReader(int fd, bool owns_fd, uint64_t* disk_bytes) : fd_(fd), owns_fd_(owns_fd), disk_bytes_(disk_bytes) {}
  ~FdReader() {
    if (owns_fd_) ::close(fd_);
  }
  StatusOr<size_t> Read(char* buf, size_t n) {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        *disk_bytes_ += static_cast<uint64_t>(r);
        total_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno != EINTR) return Status::Unavailable(std::string("read error: ") + std::strerror(errno));
    }
  }
  uint64_t total() const { return total_; }

 private:
  int fd_;
  bool owns_fd_;
  uint64_t* disk_bytes_;
  uint64_t total_ = 0;
};

// Input side shared by the decoders: a 64 KiB window over the descriptor,
// starting with the sniffed prefix.
class InputWindow {
 public:
  InputWindow(std::unique_ptr<FdReader> fd, std::string prefix) : fd_(std::move(fd)), buf_(kInputChunk) {
    std::memcpy(buf_.data(), prefix.data(), prefix.size());
    end_ = prefix.size();
  }
  const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(buf_.data()) + pos_; }
  size_t size() const { return end_ - pos_; }
  void Consume(size_t n) { pos_ += n; }
  bool eof() const { return eof_; }
  // Makes at least `want` bytes available unless the file ends first.
  Status Fill(size_t want) {
    if (size() >= want || eof_) return Status::Ok();
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    while (end_ < want && !eof_) {
      TT_ASSIGN_OR_RETURN(size_t r, fd_->Read(buf_.data() + end_, buf_.size() - end_));
      if (r == 0) eof_ = true;
      end_ += r;
    }
    return Status::Ok();
  }
  // Refills an empty window with as much as one read gives.
  Status Refill() { return Fill(1); }
  uint64_t consumed() const { return fd_->total() - size(); }

 private:
  std::unique_ptr<FdReader> fd_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

class PlainReader final : public ByteReader {
 public:
  PlainReader(std::unique_ptr<FdReader> fd, std::string prefix) : fd_(std::move(fd)), prefix_(std::move(prefix)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (prefix_pos_ < prefix_.size()) {
      size_t k = std::min(n, prefix_.size() - prefix_pos_);
      std::memcpy(buf, prefix_.data() + prefix_pos_, k);
      prefix_pos_ += k;
      return k;
    }
    return fd_->Read(buf, n);
  }
  const char* encoding() const override { return "plain"; }

 private:
  std::unique_ptr<FdReader> fd_;
  std::string prefix_;
  size_t prefix_pos_ = 0;
};

// Common shape of the three decoders: output already produced is returned
// before a pending error, so documents before a corrupt spot are kept.
class DecoderBase : public ByteReader {
 public:
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) {
      Status e = error_;
      error_ = Status::Ok();
      done_ = true;
      return e;
    }
    if (done_) return size_t{0};
    size_t produced = 0;
    Status s = Decode(buf, n, &produced);
    if (!s.ok()) {
      if (produced > 0) {
        error_ = s;
        return produced;
      }
      done_ = true;
      return s;
    }
    if (produced == 0) done_ = true;
    return produced;
  }

 protected:
  explicit DecoderBase(std::unique_ptr<FdReader> fd, std::string prefix) : in_(std::move(fd), std::move(prefix)) {}
  // Produces at least one byte, or none at the clean end of the stream.
  virtual Status Decode(char* buf, size_t n, size_t* produced) = 0;
  std::string Where() const { return " (after " + std::to_string(in_.consumed()) + " compressed bytes)"; }

  InputWindow in_;

 private:
  Status error_;
  bool done_ = false;
};

class GzipReader final : public DecoderBase {
 public:
  GzipReader(std::unique_ptr<FdReader> fd, std::string prefix) : DecoderBase(std::move(fd), std::move(prefix)) {
    std::memset(&z_, 0, sizeof(z_));
    init_ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipReader() override {
    if (init_ok_) inflateEnd(&z_);
  }
  const char* encoding() const override { return "gzip"; }

 protected:
  Status Decode(char* buf, size_t n, size_t* produced) override {
    if (!init_ok_) return Status::Internal("gzip: inflateInit2 failed");
    *produced = 0;
    while (*produced == 0) {
      if (member_done_) {
        // After a member: another gzip member, or the end of the file.
        TT_RETURN_IF_ERROR(in_.Fill(2));
        if (in_.size() == 0) return Status::Ok();
        if (in_.data()[0] == 0) {
          // Zero padding after the last member (tape blocks, dd) is
          // ignored, as gzip -d does; anything else after it is garbage.
          while (in_.size() > 0 && in_.data()[0] == 0) {
            in_.Consume(1);
            if (in_.size() == 0) TT_RETURN_IF_ERROR(in_.Refill());
          }
          if (in_.size() == 0) return Status::Ok();
          return Status::DataLoss("gzip: trailing garbage after member " + std::to_string(members_) + Where());
        }
        if (in_.size() < 2 || in_.data()[0] != 0x1f || in_.data()[1] != 0x8b) {
          return Status::DataLoss("gzip: trailing garbage after member " + std::to_string(members_) + Where());
        }
        if (inflateReset(&z_) != Z_OK) return Status::Internal("gzip: inflateReset failed");
        member_done_ = false;
      }
      if (in_.size() == 0) TT_RETURN_IF_ERROR(in_.Refill());
      z_.next_in = const_cast<Bytef*>(in_.data());
      z_.avail_in = static_cast<uInt>(in_.size());
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = static_cast<uInt>(n);
      int rc = inflate(&z_, Z_NO_FLUSH);
      in_.Consume(in_.size() - z_.avail_in);
      *produced = n - z_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        ++members_;
      } else if (rc == Z_BUF_ERROR || (rc == Z_OK && *produced == 0 && in_.size() == 0)) {
        if (in_.eof() && in_.size() == 0) {
          return Status::DataLoss("truncated gzip stream: unexpected end of file inside member " +
                                  std::to_string(members_ + 1) + Where());
        }
      } else if (rc != Z_OK) {
        return Status::DataLoss(std::string("corrupt gzip stream: ") + (z_.msg ? z_.msg : zError(rc)) + Where());
      }
    }
    return Status::Ok();
  }

 private:
  z_stream z_;
  bool init_ok_ = false;
  bool member_done_ = false;
  uint64_t members_ = 0;
};

class ZstdReader final : public DecoderBase {
 public:
  ZstdReader(std::unique_ptr<FdReader> fd, std::string prefix)
      : DecoderBase(std::move(fd), std::move(prefix)), ds_(ZSTD_createDStream()) {
    if (ds_ != nullptr) ZSTD_initDStream(ds_);
  }
  ~ZstdReader() override { ZSTD_freeDStream(ds_); }
  const char* encoding() const override { return "zstd"; }

 protected:
  Status Decode(char* buf, size_t n, size_t* produced) override {
    if (ds_ == nullptr) return Status::Internal("zstd: cannot create decoder");
    *produced = 0;
    while (*produced == 0) {
      if (in_.size() == 0) TT_RETURN_IF_ERROR(in_.Refill());
      ZSTD_inBuffer in{in_.data(), in_.size(), 0};
      ZSTD_outBuffer out{buf, n, 0};
      size_t rc = ZSTD_decompressStream(ds_, &out, &in);
      in_.Consume(in.pos);
      *produced = out.pos;
      if (ZSTD_isError(rc)) {
        return Status::DataLoss(std::string("corrupt zstd stream: ") + ZSTD_getErrorName(rc) + Where());
      }
      // A call without progress returns the next frame's header hint, not
      // the state of the frame just finished.
      if (*produced > 0 || in.pos > 0) frame_open_ = rc != 0;
      if (*produced == 0 && in.pos == 0 && in_.size() == 0 && in_.eof()) {
        if (frame_open_) {
          return Status::DataLoss("truncated zstd stream: unexpected end of file inside a frame" + Where());
        }
        return Status::Ok();  // clean end after complete frames
      }
    }
    return Status::Ok();
  }

 private:
  ZSTD_DStream* ds_;
  bool frame_open_ = true;
};

class XzReader final : public DecoderBase {
 public:
  XzReader(std::unique_ptr<FdReader> fd, std::string prefix) : DecoderBase(std::move(fd), std::move(prefix)) {
    init_rc_ = lzma_stream_decoder(&strm_, kXzMemoryLimit, LZMA_CONCATENATED);
  }
  ~XzReader() override { lzma_end(&strm_); }
  const char* encoding() const override { return "xz"; }

 protected:
  Status Decode(char* buf, size_t n, size_t* produced) override {
    if (init_rc_ != LZMA_OK) return Status::Internal("xz: cannot create decoder");
    *produced = 0;
    while (*produced == 0) {
      if (finished_) return Status::Ok();
      if (in_.size() == 0) TT_RETURN_IF_ERROR(in_.Refill());
      strm_.next_in = in_.data();
      strm_.avail_in = in_.size();
      strm_.next_out = reinterpret_cast<uint8_t*>(buf);
      strm_.avail_out = n;
      // The window holds all remaining input once the file hit EOF, which is
      // when liblzma must be told LZMA_FINISH (LZMA_CONCATENATED needs it).
      lzma_ret rc = lzma_code(&strm_, in_.eof() ? LZMA_FINISH : LZMA_RUN);
      size_t used = in_.size() - strm_.avail_in;
      in_.Consume(used);
      *produced = n - strm_.avail_out;
      if (rc == LZMA_OK && *produced == 0 && used == 0 && in_.eof()) {
        // No progress with all input given: liblzma reports LZMA_BUF_ERROR
        // on the next call; do not spin more than twice.
        if (++stalls_ >= 2) rc = LZMA_BUF_ERROR;
      } else {
        stalls_ = 0;
      }
      switch (rc) {
        case LZMA_OK:
          break;
        case LZMA_STREAM_END:
          finished_ = true;
          break;
        case LZMA_BUF_ERROR:
          if (*produced > 0) break;
          return Status::DataLoss("truncated xz stream: unexpected end of file" + Where());
        case LZMA_MEMLIMIT_ERROR:
          return Status::DataLoss("xz stream needs more than 256 MiB of dictionary memory; refused" + Where());
        case LZMA_FORMAT_ERROR:
          return Status::DataLoss("corrupt xz stream: not in .xz format" + Where());
        case LZMA_DATA_ERROR:
          return Status::DataLoss("corrupt xz stream: data error" + Where());
        case LZMA_OPTIONS_ERROR:
          return Status::DataLoss("corrupt xz stream: unsupported options" + Where());
        default:
          return Status::DataLoss("corrupt xz stream: liblzma error " + std::to_string(static_cast<int>(rc)) + Where());
      }
    }
    return Status::Ok();
  }

 private:
  lzma_stream strm_ = LZMA_STREAM_INIT;
  lzma_ret init_rc_;
  bool finished_ = false;
  int stalls_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<ByteReader>> OpenByteReader(int fd, bool owns_fd, uint64_t* disk_bytes) {
  auto raw = std::make_unique<FdReader>(fd, owns_fd, disk_bytes);
  // Sniff up to 6 bytes (the xz magic is the longest).
  std::string prefix(6, '\0');
  size_t got = 0;
  while (got < prefix.size()) {
    TT_ASSIGN_OR_RETURN(size_t r, raw->Read(prefix.data() + got, prefix.size() - got));
    if (r == 0) break;
    got += r;
  }
  prefix.resize(got);
  auto b = [&](size_t i) { return i < got ? static_cast<unsigned char>(prefix[i]) : 0x100u; };
  if (b(0) == 0x1f && b(1) == 0x8b) return std::unique_ptr<ByteReader>(new GzipReader(std::move(raw), prefix));
  if ((b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd) ||
      ((b(0) & 0xf0) == 0x50 && b(1) == 0x2a && b(2) == 0x4d && b(3) == 0x18)) {
    return std::unique_ptr<ByteReader>(new ZstdReader(std::move(raw), prefix));
  }
  if (b(0) == 0xfd && b(1) == 0x37 && b(2) == 0x7a && b(3) == 0x58 && b(4) == 0x5a && b(5) == 0x00) {
    return std::unique_ptr<ByteReader>(new XzReader(std::move(raw), prefix));
  }
  return std::unique_ptr<ByteReader>(new PlainReader(std::move(raw), prefix));
}

}  // namespace telltale::scan
