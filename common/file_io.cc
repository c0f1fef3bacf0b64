#include "common/file_io.h"

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace telltale {
namespace {

std::string OsError(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status ErrnoStatus(const std::string& what, const std::string& path) {
  if (errno == ENOENT) return Status::NotFound(OsError(what, path));
  if (errno == EACCES || errno == EPERM) return Status::PermissionDenied(OsError(what, path));
  return Status::Unavailable(OsError(what, path));
}

// Reads straight into *out, which grows by doubling (from `size_hint`, the
// file's size when it has one, so a regular file is read with no regrowth:
// each regrowth copied the bytes read so far into fresh pages).
Status ReadAll(int fd, const std::string& path, size_t max_bytes, size_t size_hint, std::string* out) {
  size_t used = out->size();
  out->resize(std::max<size_t>(used + std::min(size_hint, max_bytes) + 1, used + (1 << 16)));
  for (;;) {
    if (used == out->size()) out->resize(out->size() * 2);
    ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      out->resize(used);
      return ErrnoStatus("cannot read", path);
    }
    if (n == 0) {
      out->resize(used);
      return Status::Ok();
    }
    used += static_cast<size_t>(n);
    if (used > max_bytes) {
      out->resize(used);
      return Status::InvalidArgument("file " + path + " is larger than the limit of " +
                                     std::to_string(max_bytes) + " bytes");
    }
  }
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::string out;
  if (path == "-") {
    TT_RETURN_IF_ERROR(ReadAll(STDIN_FILENO, "<stdin>", max_bytes, 0, &out));
    return out;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat st;
  const bool have_stat = ::fstat(fd, &st) == 0;
  if (have_stat && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is a directory, not a file");
  }
  const size_t hint = have_stat && S_ISREG(st.st_mode) && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  Status s = ReadAll(fd, path, max_bytes, hint, &out);
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode) {
  if (path == "-") {
    Status s = WriteAll(STDOUT_FILENO, data, "<stdout>");
    return s;
  }
  std::vector<char> dir_buf(path.begin(), path.end());
  dir_buf.push_back('\0');
  std::string dir = ::dirname(dir_buf.data());
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> tmp(tmpl.begin(), tmpl.end());
  tmp.push_back('\0');
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoStatus("cannot create temporary file for", path);
  std::string tmp_path(tmp.data());
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return s;
  };
  // mkstemp creates 0600; widen to the requested mode explicitly so the
  // result does not depend on the caller's umask.
  if (::fchmod(fd, mode) != 0) return fail(ErrnoStatus("cannot chmod", tmp_path));
  Status s = WriteAll(fd, data, tmp_path);
  if (!s.ok()) return fail(s);
  if (::fsync(fd) != 0) return fail(ErrnoStatus("cannot fsync", tmp_path));
  if (::close(fd) != 0) {
    ::unlink(tmp_path.c_str());
    return ErrnoStatus("cannot close", tmp_path);
  }
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    Status r = ErrnoStatus("cannot rename into place", path);
    ::unlink(tmp_path.c_str());
    return r;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some filesystems refuse directory fsync
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace telltale
