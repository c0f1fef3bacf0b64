#include "crypto/provenance/tests/test_util.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace telltale::provenance::test_support {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/tt-prov-XXXXXX";
  char* p = ::mkdtemp(tmpl.data());
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

int RunShell(const std::string& command, const std::string& log) {
  std::string full = "(" + command + ") >>" + log + " 2>&1";
  int rc = std::system(full.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

LocalTsa::LocalTsa(const std::string& dir) : dir_(dir), ca_(dir + "/tsa-ca.pem") {
  WriteAll(dir + "/tsa.ext",
           "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n");
  WriteAll(dir + "/tsaserial", "01\n");
  WriteAll(dir + "/tsa.cnf",
           "[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = " + dir + "/tsaserial\ncrypto_device = builtin\nsigner_cert = " + dir +
               "/tsa.pem\nsigner_key = " + dir +
               "/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\n"
               "ordering = no\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n");
  std::string d = "cd " + dir + " && ";
  ok_ = RunShell(d + "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out tsa-ca.pem "
                "-days 30 -subj /CN=TestTsaRoot -addext basicConstraints=critical,CA:TRUE "
                "-addext keyUsage=critical,keyCertSign") == 0 &&
        RunShell(d + "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -out tsa.csr "
                "-subj /CN=TestTsa") == 0 &&
        RunShell(d + "openssl x509 -req -in tsa.csr -CA tsa-ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 30 "
                "-extfile tsa.ext") == 0;
}

StatusOr<std::string> LocalTsa::ReplyWithCli(const std::string& request_der) {
  WriteAll(dir_ + "/req.tsq", request_der);
  std::remove((dir_ + "/resp.tsr").c_str());
  if (RunShell("openssl ts -reply -config " + dir_ + "/tsa.cnf -queryfile " + dir_ + "/req.tsq -out " + dir_ + "/resp.tsr") != 0) {
    return Status::Internal("openssl ts -reply failed");
  }
  return ReadAll(dir_ + "/resp.tsr");
}

namespace {
ASN1_INTEGER* NextSerial(TS_RESP_CTX*, void* data) {
  long* serial = static_cast<long*>(data);
  ASN1_INTEGER* s = ASN1_INTEGER_new();
  ASN1_INTEGER_set(s, ++*serial);
  return s;
}
}  // namespace

StatusOr<std::string> LocalTsa::ReplyInProcess(const std::string& request_der) {
  BIO* cert_bio = BIO_new_file((dir_ + "/tsa.pem").c_str(), "r");
  BIO* key_bio = BIO_new_file((dir_ + "/tsa.key").c_str(), "r");
  X509* cert = cert_bio ? PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr) : nullptr;
  EVP_PKEY* key = key_bio ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(cert_bio);
  BIO_free(key_bio);
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  ASN1_OBJECT* policy = OBJ_txt2obj("1.2.3.4.2", 1);
  bool ok = cert && key && ctx && policy && TS_RESP_CTX_set_signer_cert(ctx, cert) == 1 &&
            TS_RESP_CTX_set_signer_key(ctx, key) == 1 && TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) == 1 &&
            TS_RESP_CTX_set_def_policy(ctx, policy) == 1 && TS_RESP_CTX_add_md(ctx, EVP_sha256()) == 1 &&
            TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) == 1;
  std::string out;
  if (ok) {
    TS_RESP_CTX_set_serial_cb(ctx, NextSerial, &serial_);
    BIO* req = BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size()));
    TS_RESP* resp = TS_RESP_create_response(ctx, req);
    BIO_free(req);
    unsigned char* der = nullptr;
    int n = resp ? i2d_TS_RESP(resp, &der) : -1;
    if (n > 0) out.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    TS_RESP_free(resp);
    ok = n > 0;
  }
  ASN1_OBJECT_free(policy);
  TS_RESP_CTX_free(ctx);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) return Status::Internal("in-process TSA failed");
  return out;
}

}  // namespace telltale::provenance::test_support
