// ByteReader: a stream of input bytes, raw or transparently decompressed.
//
// OpenByteReader() sniffs the first bytes of a file descriptor and picks the
// decoder by MAGIC BYTES (never by extension): gzip 1f 8b, zstd 28 b5 2f fd
// (and zstd skippable frames 5? 2a 4d 18), xz fd 37 7a 58 5a 00; anything
// else is read as is. Concatenated gzip members, zstd frames and xz streams
// are decoded one after another, as gzip -d / zstd -d / xz -d do.
//
// Errors: Read() returns a DataLoss status naming the format and the reason
// ("truncated gzip stream: ...", "corrupt zstd frame: ...") and the reader is
// finished; bytes decoded before the failure were already returned by earlier
// Read() calls. I/O errors are Unavailable.
//
// Memory: each decoder holds one 64 KiB input buffer plus the codec's own
// state (xz is limited to 256 MiB of dictionary; a larger one is an error).
//
// Thread-safety: not thread-safe; one reader per file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace telltale::scan {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Reads up to `n` (> 0) bytes into `buf`; returns 0 only at the end of the
  // stream.
  virtual StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Name of the detected encoding: "plain", "gzip", "zstd" or "xz".
  virtual const char* encoding() const = 0;
};

// Reads from `fd` (closed by the reader when `owns_fd`), adding every byte
// taken from the descriptor to *disk_bytes. Fails only on an I/O error while
// sniffing the magic bytes.
StatusOr<std::unique_ptr<ByteReader>> OpenByteReader(int fd, bool owns_fd, uint64_t* disk_bytes);

}  // namespace telltale::scan
