#include "crypto/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace telltale {

Status ReadPrivateFile(const std::string& path, const std::string& what, char* buf, size_t cap, size_t* used) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string why = std::strerror(errno);
    if (errno == ENOENT) return Status::NotFound(what + " " + path + ": " + why);
    return Status::PermissionDenied(what + " " + path + ": " + why);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(what + " " + path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied(what + " " + path + ": mode " + mode +
                                    " lets group/others read it; run 'chmod 600 " + path + "'");
  }
  *used = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf + *used, cap - *used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::Unavailable(what + " " + path + ": read failed: " + why);
    }
    if (n == 0) break;
    *used += static_cast<size_t>(n);
    if (*used >= cap) {
      ::close(fd);
      return Status::InvalidArgument(what + " " + path + ": larger than " + std::to_string(cap - 1) + " bytes");
    }
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace telltale
