#include "scan/input/input_walker.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace telltale::scan {

namespace {

// Deep trees are legal, but a walk deeper than this is almost surely a
// bind-mount loop that (dev, ino) cannot see; stop and say so.
constexpr int kMaxDepth = 256;

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string OsError(int err) { return std::strerror(err); }

}  // namespace

StatusOr<std::unique_ptr<InputWalker>> InputWalker::Create(const InputOptions& options) {
  if (options.paths.empty()) return Status::InvalidArgument("scan input: no paths given (use - for stdin)");
  std::unique_ptr<InputWalker> w(new InputWalker());
  for (const std::string& g : options.include_globs) {
    TT_ASSIGN_OR_RETURN(PathGlob pg, PathGlob::Compile(g));
    w->include_.push_back(std::move(pg));
  }
  for (const std::string& g : options.exclude_globs) {
    TT_ASSIGN_OR_RETURN(PathGlob pg, PathGlob::Compile(g));
    w->exclude_.push_back(std::move(pg));
  }
  if (std::count(options.paths.begin(), options.paths.end(), std::string("-")) > 1) {
    return Status::InvalidArgument("scan input: stdin (-) given more than once");
  }
  for (const std::string& p : options.paths) {
    if (p.empty()) return Status::InvalidArgument("scan input: empty path");
    w->AddPath(p);
  }
  return w;
}

bool InputWalker::Excluded(const std::string& relative) const {
  for (const PathGlob& g : exclude_) {
    if (g.Matches(relative)) return true;
  }
  return false;
}

bool InputWalker::Included(const std::string& relative) const {
  if (include_.empty()) return true;
  for (const PathGlob& g : include_) {
    if (g.Matches(relative)) return true;
  }
  return false;
}

void InputWalker::AddPath(const std::string& path) {
  if (path == "-") {
    entries_.push_back({InputEntry::Kind::kStdin, "-", "", 0});
    return;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    entries_.push_back({InputEntry::Kind::kError, path, "cannot open: " + OsError(errno), 0});
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    std::pair<uint64_t, uint64_t> id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    auto it = std::lower_bound(visited_dirs_.begin(), visited_dirs_.end(), id);
    if (it != visited_dirs_.end() && *it == id) {
      entries_.push_back({InputEntry::Kind::kSkipped, path, "directory already read through an earlier path", 0});
      return;
    }
    visited_dirs_.insert(it, id);
    WalkDirectory(path, "", 0);
    return;
  }
  if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    uint64_t size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
    total_bytes_ += size;
    entries_.push_back({InputEntry::Kind::kFile, path, "", size});
    return;
  }
  entries_.push_back({InputEntry::Kind::kSkipped, path, "not a regular file, FIFO or directory", 0});
}

void InputWalker::WalkDirectory(const std::string& dir, const std::string& relative, int depth) {
  if (depth >= kMaxDepth) {
    entries_.push_back({InputEntry::Kind::kError, dir,
                        "directory nesting deeper than " + std::to_string(kMaxDepth) + " levels; not entered", 0});
    return;
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    entries_.push_back({InputEntry::Kind::kError, dir, "cannot read directory: " + OsError(errno), 0});
    return;
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) {
    entries_.push_back({InputEntry::Kind::kError, dir, "error listing directory: " + OsError(read_errno), 0});
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = Join(dir, name);
    std::string rel = relative.empty() ? name : relative + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      if (Excluded(rel)) continue;
      entries_.push_back({InputEntry::Kind::kError, path, "cannot open: " + OsError(err), 0});
      continue;
    }
    if (Excluded(rel)) continue;
    if (S_ISDIR(st.st_mode)) {
      std::pair<uint64_t, uint64_t> id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
      auto it = std::lower_bound(visited_dirs_.begin(), visited_dirs_.end(), id);
      if (it != visited_dirs_.end() && *it == id) {
        entries_.push_back({InputEntry::Kind::kSkipped, path,
                            "directory already visited (symlink loop or second link); not entered again", 0});
        continue;
      }
      visited_dirs_.insert(it, id);
      WalkDirectory(path, rel, depth + 1);
      continue;
    }
    if (!Included(rel)) continue;
    if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
      uint64_t size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
      total_bytes_ += size;
      entries_.push_back({InputEntry::Kind::kFile, path, "", size});
    } else {
      entries_.push_back({InputEntry::Kind::kSkipped, path, "not a regular file, FIFO or directory", 0});
    }
  }
}

}  // namespace telltale::scan
