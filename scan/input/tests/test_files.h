// Test helpers: a private temporary directory and a ReadAll() that drains a
// DocumentSource, failing the test on any internal error.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scan/input/document_source.h"

namespace telltale::scan {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tt_scan_input_XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    // Restore permissions a test may have removed, then delete.
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             path_, std::filesystem::directory_options::skip_permission_denied, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink()) ::chmod(it->path().c_str(), 0700);
    }
    ::chmod(path_.c_str(), 0700);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  // Writes `data` to path()/rel (creating directories); returns the full path.
  std::string Write(const std::string& rel, const std::string& data) const {
    std::filesystem::path full = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream f(full, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    return full.string();
  }

 private:
  std::string path_;
};

inline std::vector<InputItem> ReadAll(const InputOptions& o) {
  std::vector<InputItem> out;
  auto src = DocumentSource::Open(o);
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  if (!src.ok()) return out;
  for (;;) {
    InputItem item;
    auto r = (*src)->Next(&item);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !*r) break;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace telltale::scan
