// Whole-file reads and atomic whole-file writes.
//
// Every file Telltale writes goes through WriteFileAtomically: the bytes are
// written to a temporary file in the destination directory, fsync'ed, then
// renamed over the destination and the directory is fsync'ed. A reader (or a
// crash) sees either the old file or the complete new one, never a torn file.
//
// Thread-safety: functions are reentrant; concurrent writers of the same path
// each produce a complete file and the last rename wins.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "common/status.h"

namespace telltale {

// Reads a whole regular file (or "-" for stdin). Fails with NotFound,
// PermissionDenied or InvalidArgument (a directory, or larger than max_bytes),
// naming the path and the OS reason.
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = size_t{1} << 32);

// Atomically replaces `path` with `data`, creating it with permission `mode`
// (the umask does not widen it: secrets use 0600). "-" writes to stdout.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode = 0644);

}  // namespace telltale
