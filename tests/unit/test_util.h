// Helpers shared by the unit tests: temporary directories and fixed keys.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>

#include "crypto/secret_key.h"

namespace telltale::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "telltale-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Key with bytes seed, seed+1, ..., seed+31 (deterministic tests only).
inline SecretKey FixedKey(uint8_t seed) {
  std::array<uint8_t, kSecretKeyBytes> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed + i);
  return SecretKey::FromBytes(b).value();
}

}  // namespace telltale::testing
