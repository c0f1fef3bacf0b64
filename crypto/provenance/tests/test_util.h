// Helpers shared by the provenance tests: temporary directories, running
// the openssl CLI, a local RFC 3161 TSA (certificates made with the openssl
// CLI, responses from `openssl ts -reply` or in process through
// TS_RESP_CTX), and byte flipping.
#pragma once

#include <string>

#include "common/status.h"

namespace telltale::provenance::test_support {

// A fresh directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; returns its exit status (stdout/stderr to `log`).
int RunShell(const std::string& command, const std::string& log = "/dev/null");

std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::string& data);

// A CA, a TSA certificate (EKU critical timeStamping) and an openssl ts
// config in `dir`. Files: tsa-ca.pem, tsa.pem, tsa.key, tsa.cnf.
class LocalTsa {
 public:
  explicit LocalTsa(const std::string& dir);
  bool ok() const { return ok_; }
  const std::string& ca_pem_path() const { return ca_; }
  // DER TimeStampResp for the DER request, via `openssl ts -reply`.
  StatusOr<std::string> ReplyWithCli(const std::string& request_der);
  // The same, answered in this process through OpenSSL's TS_RESP_CTX.
  StatusOr<std::string> ReplyInProcess(const std::string& request_der);

 private:
  std::string dir_, ca_;
  bool ok_ = false;
  long serial_ = 1000;
};

}  // namespace telltale::provenance::test_support
