// DSSE/PAE, in-toto statements, predicates, commitments, signing key files
// and Ed25519 interoperability with the openssl CLI.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file_io.h"
#include "common/base64.h"
#include "crypto/provenance/commitment.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/signing_key.h"
#include "crypto/provenance/statement.h"
#include "crypto/provenance/tests/test_util.h"

namespace telltale::provenance {
namespace {

using test_support::ReadAll;
using test_support::RunShell;
using test_support::TempDir;
using test_support::WriteAll;

SigningKey TestKey(const std::string& name = "signer.example", uint8_t fill = 7) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return std::move(SigningKey::FromSeed(name, seed)).value();
}

TEST(Dsse, PaeMatchesTheSpecExample) {
  EXPECT_EQ(PreAuthEncoding("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(PreAuthEncoding("", ""), "DSSEv1 0  0 ");
}

std::string SignedStatementEnvelope(const SigningKey& key) {
  KeyCommitmentPredicate p{"2026-11", 3, Sha256Of(std::string_view("root"))};
  auto payload = SerializeStatement(p.ToStatement());
  EXPECT_TRUE(payload.ok());
  return *SignEnvelope(kInTotoPayloadType, *payload, key).Serialize();
}

Status OpenAndCheck(const std::string& text, const PublicKey& key) {
  TT_ASSIGN_OR_RETURN(DsseEnvelope env, ParseEnvelope(text));
  TT_RETURN_IF_ERROR(VerifyEnvelope(env, key));
  TT_ASSIGN_OR_RETURN(Statement st, ParseStatement(env.payload));
  return KeyCommitmentPredicate::FromStatement(st).status();
}

TEST(Dsse, SignVerifyAndWrongKey) {
  SigningKey key = TestKey();
  std::string env = SignedStatementEnvelope(key);
  EXPECT_TRUE(OpenAndCheck(env, key.public_key()).ok());
  Status wrong = OpenAndCheck(env, TestKey("other", 9).public_key());
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("envelope: no signature by key"), std::string::npos) << wrong.message();
}

TEST(Dsse, EveryFlippedEnvelopeByteFailsNamingTheLink) {
  SigningKey key = TestKey();
  std::string env = SignedStatementEnvelope(key);
  for (size_t i = 0; i < env.size(); ++i) {
    for (uint8_t mask : {0x01, 0x20, 0x80}) {
      std::string bad = env;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Status s = OpenAndCheck(bad, key.public_key());
      ASSERT_FALSE(s.ok()) << "byte " << i << " mask " << int(mask);
      EXPECT_TRUE(s.message().starts_with("envelope") || s.message().starts_with("statement"))
          << "byte " << i << ": " << s.message();
    }
  }
}

TEST(Dsse, EveryFlippedStatementByteFailsTheSignature) {
  SigningKey key = TestKey();
  auto env = ParseEnvelope(SignedStatementEnvelope(key));
  ASSERT_TRUE(env.ok());
  for (size_t i = 0; i < env->payload.size(); ++i) {
    DsseEnvelope bad = *env;
    bad.payload[i] = static_cast<char>(bad.payload[i] ^ 0x01);
    Status s = OpenAndCheck(*bad.Serialize(), key.public_key());
    ASSERT_FALSE(s.ok()) << i;
    EXPECT_NE(s.message().find("envelope: signature by key"), std::string::npos) << s.message();
  }
}

TEST(Statement, RejectsNonCanonicalAndWrongShapes) {
  EXPECT_FALSE(ParseStatement(R"({"predicateType":"x","_type":"https://in-toto.io/Statement/v1","subject":[],"predicate":{}})").ok());
  auto s = ParseStatement(
      R"({"_type":"https://in-toto.io/Statement/v1","predicate":{},"predicateType":"x","subject":[{"digest":{"sha256":"AB"},"name":"a"}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("statement.subject[0].digest"), std::string::npos) << s.status().message();
}

TEST(Predicates, DetectionReportFromDetectJsonCarriesDecimalStrings) {
  auto j = ParseJsonStrict(
      R"({"doc":0,"line":1,"scheme":"kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false","dedup":"context+token",)"
      R"("alpha":1e-6,"tokens":200,"scored":199,"score":120,"expected":49.75,"z":24.6,"log10_p":-350.25,"p_value":0,)"
      R"("log10_p_raw":-350.25,"detected":true,"key_id":"00112233445566778899aabbccddeeff","keys":[]})",
      "report");
  ASSERT_TRUE(j.ok());
  auto p = DetectionReportPredicate::FromDetectJson(*j);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->log10_p, "-350.25");
  EXPECT_EQ(p->p_value, "0");
  EXPECT_EQ(p->alpha, "0.000001");
  p->tool_version = "0.1.0";
  auto st = ParseStatement(*SerializeStatement(p->ToStatement()));
  ASSERT_TRUE(st.ok()) << st.status().message();
  auto back = DetectionReportPredicate::FromStatement(*st);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->log10_p, "-350.25");
  EXPECT_EQ(back->scored, 199u);
  // A malformed key id is named.
  (*j)["key_id"] = "XYZ";
  auto bad = DetectionReportPredicate::FromDetectJson(*j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key_id"), std::string::npos);
}

TEST(Predicates, DecimalStrings) {
  for (const char* ok : {"0", "-1", "1.5", "1e-300", "-2.5e+10", "3.664186491529875e-21"}) {
    EXPECT_TRUE(CheckDecimalString(ok, "x").ok()) << ok;
  }
  for (const char* bad : {"", "-", "1.", ".5", "1e", "NaN", "inf", "1,5", " 1"}) {
    EXPECT_FALSE(CheckDecimalString(bad, "x").ok()) << bad;
  }
}

CommitmentOpening MakeOpening(const std::string& tenant, uint8_t fill) {
  std::array<uint8_t, 32> raw;
  raw.fill(fill);
  CommitmentParams p{"kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false", std::string(64, 'a'), tenant, "eu",
                     "2026-11"};
  auto o = CreateOpening(p, std::move(SecretKey::FromBytes(raw)).value());
  EXPECT_TRUE(o.ok()) << o.status().message();
  return std::move(o).value();
}

TEST(Commitment, HidingBindingAndMembership) {
  CommitmentOpening a = MakeOpening("acme", 1);
  CommitmentOpening a2 = MakeOpening("acme", 1);
  // Same key and parameters, fresh salt: different commitments (hiding).
  EXPECT_NE(ComputeCommitment(a), ComputeCommitment(a2));
  // Any change to the opened values changes the commitment (binding).
  Hash c = ComputeCommitment(a);
  CommitmentOpening b = MakeOpening("acme", 1);
  b.salt = a.salt;
  EXPECT_EQ(ComputeCommitment(b), c);
  b.params.region = "us";
  EXPECT_NE(ComputeCommitment(b), c);
  std::vector<Hash> set;
  for (int i = 0; i < 5; ++i) set.push_back(ComputeCommitment(MakeOpening("t" + std::to_string(i), uint8_t(i))));
  set.push_back(c);
  auto m = ProveMembership(set, 5);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(VerifyMembership(*m).ok());
  EXPECT_EQ(m->root, CommitmentSetRoot(set));
  auto round = MembershipFromJson(MembershipToJson(*m));
  ASSERT_TRUE(round.ok());
  EXPECT_TRUE(VerifyMembership(*round).ok());
  m->commitment = ComputeCommitment(a2);
  EXPECT_FALSE(VerifyMembership(*m).ok());
}

TEST(Commitment, RejectsNonCanonicalScheme) {
  std::array<uint8_t, 32> raw{};
  CommitmentParams p{"kgw:gamma=0.25", std::string(64, 'a'), "acme", "eu", "e1"};
  auto o = CreateOpening(p, std::move(SecretKey::FromBytes(raw)).value());
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("not canonical"), std::string::npos);
}

TEST(Commitment, OpeningFileRoundTripAndPermissions) {
  TempDir dir;
  CommitmentOpening a = MakeOpening("acme", 3);
  std::string path = dir / "a.opening";
  ASSERT_TRUE(SaveOpeningFile(a, path).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = LoadOpeningFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ComputeCommitment(*back), ComputeCommitment(a));
  ::chmod(path.c_str(), 0644);
  auto refused = LoadOpeningFile(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
}

TEST(SigningKeyFile, SaveLoadModeAndRefusal) {
  TempDir dir;
  SigningKey key = TestKey("log.example");
  std::string path = dir / "k.sk";
  ASSERT_TRUE(key.Save(path).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = LoadSigningKeyFile(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->public_key(), key.public_key());
  EXPECT_EQ(back->name(), "log.example");
  ::chmod(path.c_str(), 0640);
  auto refused = LoadSigningKeyFile(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos);
  // Corrupt files get a one-line error naming the file.
  WriteAll(dir / "bad.sk", "telltale-signing-key v1\nalgorithm ed25519\nname x\nseed zz\n");
  ::chmod((dir / "bad.sk").c_str(), 0600);
  auto bad = LoadSigningKeyFile(dir / "bad.sk");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.sk"), std::string::npos);
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
}

TEST(PublicKeys, PemAndVerifierKeyRoundTrip) {
  SigningKey key = TestKey("log.example");
  auto pem = key.public_key().ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_TRUE(pem->starts_with("-----BEGIN PUBLIC KEY-----\n"));
  auto back = PublicKeyFromPem(*pem, "log.example");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, key.public_key());
  auto vk = ParseVerifierKey(key.public_key().VerifierKey());
  ASSERT_TRUE(vk.ok());
  EXPECT_EQ(*vk, key.public_key());
  EXPECT_FALSE(PublicKeyFromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "").ok());
}

// Interop: Telltale signatures verify with `openssl pkeyutl -verify -rawin`,
// and OpenSSL signatures verify in Telltale.
TEST(OpenSslInterop, Ed25519BothDirections) {
  TempDir dir;
  SigningKey key = SigningKey::Generate("interop").value();
  WriteAll(dir / "pub.pem", *key.public_key().ToPem());
  std::string msg = SignedStatementEnvelope(key);  // any bytes will do
  WriteAll(dir / "msg", msg);
  auto sig = key.Sign(AsByteSpan(msg));
  WriteAll(dir / "sig", std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  std::string d = "cd " + dir.path() + " && ";
  EXPECT_EQ(RunShell(d + "openssl pkeyutl -verify -rawin -pubin -inkey pub.pem -in msg -sigfile sig"), 0);
  sig[10] ^= 1;
  WriteAll(dir / "badsig", std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  EXPECT_NE(RunShell(d + "openssl pkeyutl -verify -rawin -pubin -inkey pub.pem -in msg -sigfile badsig"), 0);

  ASSERT_EQ(RunShell(d + "openssl genpkey -algorithm ed25519 -out o.key && openssl pkey -in o.key -pubout -out o.pem && "
                    "openssl pkeyutl -sign -rawin -inkey o.key -in msg -out o.sig"),
            0);
  auto opub = PublicKeyFromPem(ReadAll(dir / "o.pem"), "");
  ASSERT_TRUE(opub.ok()) << opub.status().message();
  std::string osig = ReadAll(dir / "o.sig");
  EXPECT_TRUE(VerifyEd25519(*opub, AsByteSpan(msg), AsByteSpan(osig)));
  msg[0] ^= 1;
  EXPECT_FALSE(VerifyEd25519(*opub, AsByteSpan(msg), AsByteSpan(osig)));
  EXPECT_FALSE(VerifyEd25519(key.public_key(), AsByteSpan(msg), AsByteSpan(osig)));
}

}  // namespace
}  // namespace telltale::provenance
