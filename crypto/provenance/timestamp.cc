#include "crypto/provenance/timestamp.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>
#include <memory>

#include "crypto/provenance/sha256.h"

namespace telltale::provenance {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using ReqPtr = std::unique_ptr<TS_REQ, Deleter<TS_REQ, TS_REQ_free>>;
using RespPtr = std::unique_ptr<TS_RESP, Deleter<TS_RESP, TS_RESP_free>>;
using VerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, Deleter<TS_VERIFY_CTX, TS_VERIFY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  std::string out;
  while (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
    e = ERR_get_error();
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

StatusOr<RespPtr> ParseResponse(std::string_view der) {
  ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  RespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return Status::InvalidArgument("timestamp: not a DER RFC 3161 TimeStampResp");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Status::InvalidArgument("timestamp: trailing bytes after the TimeStampResp");
  }
  return resp;
}

StatusOr<TimestampInfo> Describe(TS_RESP* resp) {
  TS_STATUS_INFO* status = TS_RESP_get_status_info(resp);
  long code = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status));
  if (code != 0 && code != 1) {  // granted, grantedWithMods
    return Status::InvalidArgument("timestamp: the TSA refused the request (PKIStatus " + std::to_string(code) + ")");
  }
  TS_TST_INFO* info = TS_RESP_get_tst_info(resp);
  if (info == nullptr) return Status::InvalidArgument("timestamp: response holds no TSTInfo");
  TimestampInfo out;
  struct tm tm {};
  const ASN1_GENERALIZEDTIME* t = TS_TST_INFO_get_time(info);
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return Status::InvalidArgument("timestamp: unreadable genTime");
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out.gen_time = buf;
  const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(info);
  if (serial != nullptr) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    if (bn != nullptr) {
      char* hex = BN_bn2hex(bn);
      out.serial = hex ? hex : "";
      OPENSSL_free(hex);
      BN_free(bn);
    }
  }
  ASN1_OBJECT* policy = TS_TST_INFO_get_policy_id(info);
  if (policy != nullptr) {
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, policy, 1);
    out.policy = oid;
  }
  PKCS7* token = TS_RESP_get_token(resp);
  if (token != nullptr && PKCS7_type_is_signed(token)) {
    STACK_OF(X509)* certs = token->d.sign->cert;
    STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
    if (certs != nullptr && signers != nullptr && sk_PKCS7_SIGNER_INFO_num(signers) == 1) {
      PKCS7_ISSUER_AND_SERIAL* ias = sk_PKCS7_SIGNER_INFO_value(signers, 0)->issuer_and_serial;
      X509* signer = X509_find_by_issuer_and_serial(certs, ias->issuer, ias->serial);
      if (signer != nullptr) {
        char name[512];
        X509_NAME_oneline(X509_get_subject_name(signer), name, sizeof name);
        out.tsa_subject = name;
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<std::string> CreateTimestampRequest(std::span<const uint8_t> data) {
  Hash digest = Sha256Of(data);
  ReqPtr req(TS_REQ_new());
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* alg = X509_ALGOR_new();
  ASN1_INTEGER* nonce = nullptr;
  BIGNUM* bn = BN_new();
  unsigned char nonce_bytes[8];
  bool ok = req && imprint && alg && bn && TS_REQ_set_version(req.get(), 1) == 1 &&
            X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) == 1 &&
            TS_MSG_IMPRINT_set_algo(imprint, alg) == 1 &&
            TS_MSG_IMPRINT_set_msg(imprint, digest.data(), static_cast<int>(digest.size())) == 1 &&
            TS_REQ_set_msg_imprint(req.get(), imprint) == 1 &&
            RAND_bytes(nonce_bytes, sizeof nonce_bytes) == 1;
  if (ok) {
    nonce_bytes[0] &= 0x7f;  // a positive INTEGER
    ok = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, bn) != nullptr &&
         (nonce = BN_to_ASN1_INTEGER(bn, nullptr)) != nullptr && TS_REQ_set_nonce(req.get(), nonce) == 1 &&
         TS_REQ_set_cert_req(req.get(), 1) == 1;
  }
  // The setters copy their arguments.
  TS_MSG_IMPRINT_free(imprint);
  X509_ALGOR_free(alg);
  ASN1_INTEGER_free(nonce);
  BN_free(bn);
  if (!ok) return Status::Internal("timestamp: building the request failed: " + OpenSslError());
  unsigned char* der = nullptr;
  int n = i2d_TS_REQ(req.get(), &der);
  if (n <= 0) return Status::Internal("timestamp: encoding the request failed: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

StatusOr<TimestampInfo> InspectTimestampResponse(std::string_view response_der) {
  TT_ASSIGN_OR_RETURN(RespPtr resp, ParseResponse(response_der));
  return Describe(resp.get());
}

StatusOr<TimestampInfo> VerifyTimestamp(std::string_view response_der, std::span<const uint8_t> data,
                                        const std::string& ca_pem) {
  TT_ASSIGN_OR_RETURN(RespPtr resp, ParseResponse(response_der));
  TT_ASSIGN_OR_RETURN(TimestampInfo info, Describe(resp.get()));
  ERR_clear_error();
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return Status::Internal("timestamp: out of memory");
  BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  int loaded = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++loaded;
  }
  ERR_clear_error();  // PEM_read ends with a "no start line" error by design
  if (loaded == 0) {
    X509_STORE_free(store);
    return Status::InvalidArgument("timestamp: the TSA CA file holds no PEM certificate");
  }
  VerifyCtxPtr ctx(TS_VERIFY_CTX_new());
  Hash digest = Sha256Of(data);
  auto* imprint = static_cast<unsigned char*>(OPENSSL_malloc(digest.size()));
  if (!ctx || imprint == nullptr) {
    X509_STORE_free(store);
    OPENSSL_free(imprint);
    return Status::Internal("timestamp: out of memory");
  }
  std::memcpy(imprint, digest.data(), digest.size());
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
  TS_VERIFY_CTX_set_store(ctx.get(), store);                                       // takes ownership
  TS_VERIFY_CTX_set_imprint(ctx.get(), imprint, static_cast<long>(digest.size()));  // takes ownership
  if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1) {
    return Status::InvalidArgument("timestamp: verification failed: " + OpenSslError());
  }
  return info;
}

}  // namespace telltale::provenance
