// InputWalker: expands the paths of InputOptions into the ordered list of
// inputs DocumentSource reads, once, at Open.
//
// Rules: paths are taken in the order given; "-" is stdin. A directory is
// walked depth-first, entries sorted bytewise by name; symlinks are followed
// (stat), and a directory already visited (same device and inode: a symlink
// loop or a second link to the same tree) is not entered again but reported
// as a skipped entry, so loops cannot hang and nothing is read twice.
// --exclude globs prune directories and drop files; --include globs (if any)
// keep only matching files; both see the path relative to the directory the
// user named. Files named explicitly are always read. Regular files, FIFOs
// and character devices are read; other types and unreadable directories
// become skipped/error entries in place.
//
// Thread-safety: not shared; built and read by one DocumentSource.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "scan/input/document_source.h"
#include "scan/input/path_glob.h"

namespace telltale::scan {

struct InputEntry {
  enum class Kind { kFile, kStdin, kSkipped, kError };
  Kind kind = Kind::kFile;
  std::string path;     // as given or joined from the walk ("-" for stdin)
  std::string reason;   // kSkipped/kError: why
  uint64_t size = 0;    // on-disk size of a regular file, else 0
};

class InputWalker {
 public:
  // Fails only on bad options (no paths, "-" twice, bad glob).
  static StatusOr<std::unique_ptr<InputWalker>> Create(const InputOptions& options);
  const std::vector<InputEntry>& entries() const { return entries_; }
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  InputWalker() = default;
  void AddPath(const std::string& path);
  void WalkDirectory(const std::string& dir, const std::string& relative, int depth);
  bool Excluded(const std::string& relative) const;
  bool Included(const std::string& relative) const;

  std::vector<PathGlob> include_, exclude_;
  std::vector<InputEntry> entries_;
  std::vector<std::pair<uint64_t, uint64_t>> visited_dirs_;  // (dev, ino), sorted
  uint64_t total_bytes_ = 0;
};

}  // namespace telltale::scan
