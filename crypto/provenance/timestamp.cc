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
  // Only the distinguished encoding is accepted: parts of a response lie
  // outside the TSA's signature, so a BER variant would be a second valid
  // byte string for the same token.
  unsigned char* again = nullptr;
  int n = i2d_TS_RESP(resp.get(), &again);
  bool same = n > 0 && static_cast<size_t>(n) == der.size() && std::memcmp(again, der.data(), der.size()) == 0;
  OPENSSL_free(again);
  if (!same) return Status::InvalidArgument("timestamp: response is not in DER form");
  return resp;
}

StatusOr<TimestampInfo> Describe(TS_RESP* resp) {
  TS_STATUS_INFO* status = TS_RESP_get_status_info(resp);
  long code = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status));
  // Only "granted" (0): the status sits outside the signed token, so
  // accepting "grantedWithMods" too would let one unsigned byte vary.
  if (code != 0 || TS_STATUS_INFO_get0_text(status) != nullptr || TS_STATUS_INFO_get0_failure_info(status) != nullptr) {
    return Status::InvalidArgument("timestamp: response status is not plain 'granted' (PKIStatus " + std::to_string(code) + ")");
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

// Fields of the CMS SignedData that the TSA's signature does not cover must
// still have their one expected value, so an unsigned byte cannot vary while
// the token keeps verifying (OpenSSL itself ignores most of them).
bool AlgorithmParamsNullOrAbsent(const X509_ALGOR* alg) {
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

Status CheckUnsignedFields(PKCS7* token) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("timestamp: " + why); };
  if (token == nullptr || !PKCS7_type_is_signed(token)) return bad("token is not CMS SignedData");
  PKCS7_SIGNED* sd = token->d.sign;
  if (ASN1_INTEGER_get(sd->version) != 3) return bad("SignedData version is not 3");
  if (sd->crl != nullptr && sk_X509_CRL_num(sd->crl) > 0) return bad("unexpected CRLs in the token");
  if (sk_X509_ALGOR_num(sd->md_algs) != 1) return bad("token must list exactly one digest algorithm");
  const X509_ALGOR* md = sk_X509_ALGOR_value(sd->md_algs, 0);
  if (!AlgorithmParamsNullOrAbsent(md)) return bad("digest algorithm has parameters");
  STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
  if (sk_PKCS7_SIGNER_INFO_num(signers) != 1) return bad("token must have exactly one signer");
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(signers, 0);
  if (ASN1_INTEGER_get(si->version) != 1) return bad("SignerInfo version is not 1");
  if (si->unauth_attr != nullptr && sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0) return bad("unexpected unsigned attributes");
  if (!AlgorithmParamsNullOrAbsent(si->digest_alg)) return bad("signer digest algorithm has parameters");
  int md_nid = OBJ_obj2nid(md->algorithm);
  if (OBJ_obj2nid(si->digest_alg->algorithm) != md_nid) return bad("signer digest algorithm differs from the listed one");
  // The signature algorithm: a combined OID (ecdsa-with-SHA256, ...) must
  // name the same digest; a bare key OID (rsaEncryption) is allowed.
  int sig_nid = OBJ_obj2nid(si->digest_enc_alg->algorithm);
  int sig_md = NID_undef, sig_pk = NID_undef;
  if (OBJ_find_sigid_algs(sig_nid, &sig_md, &sig_pk) == 1) {
    if (sig_md != md_nid) return bad("signature algorithm digest differs from the signer digest");
    if (sig_pk == NID_X9_62_id_ecPublicKey) {
      int ptype = V_ASN1_UNDEF;
      X509_ALGOR_get0(nullptr, &ptype, nullptr, si->digest_enc_alg);
      if (ptype != V_ASN1_UNDEF) return bad("ECDSA signature algorithm has parameters");
    }
  } else if (sig_nid != NID_rsaEncryption && sig_nid != NID_X9_62_id_ecPublicKey) {
    return bad("unknown signature algorithm");
  }
  return Status::Ok();
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
  TT_RETURN_IF_ERROR(CheckUnsignedFields(TS_RESP_get_token(resp.get())));
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
