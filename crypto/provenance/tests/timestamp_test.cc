// RFC 3161 with a real local TSA: certificates made with the openssl CLI,
// responses from `openssl ts -reply` and from an in-process TS_RESP_CTX,
// verified by Telltale and by `openssl ts -verify`.
#include <gtest/gtest.h>

#include "crypto/provenance/sha256.h"
#include "crypto/provenance/tests/test_util.h"
#include "crypto/provenance/timestamp.h"

namespace telltale::provenance {
namespace {

using test_support::LocalTsa;
using test_support::ReadAll;
using test_support::RunShell;
using test_support::TempDir;
using test_support::WriteAll;

class TimestampTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    tsa_ = new LocalTsa(dir_->path());
  }
  static void TearDownTestSuite() {
    delete tsa_;
    delete dir_;
  }
  static TempDir* dir_;
  static LocalTsa* tsa_;
};
TempDir* TimestampTest::dir_ = nullptr;
LocalTsa* TimestampTest::tsa_ = nullptr;

const std::string kNote = "log.test\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\xe2\x80\x94 log.test AAAA\n";

TEST_F(TimestampTest, CliAndInProcessTsaBothVerifyEverywhere) {
  ASSERT_TRUE(tsa_->ok());
  std::string ca = ReadAll(tsa_->ca_pem_path());
  auto req = CreateTimestampRequest(AsByteSpan(kNote));
  ASSERT_TRUE(req.ok()) << req.status().message();
  WriteAll(*dir_ / "data", kNote);
  WriteAll(*dir_ / "check.tsq", *req);
  // Our request is a valid RFC 3161 request to openssl.
  EXPECT_EQ(RunShell("openssl ts -query -in " + (*dir_ / "check.tsq") + " -text"), 0);
  for (bool in_process : {false, true}) {
    SCOPED_TRACE(in_process ? "in-process TSA" : "openssl ts -reply");
    auto resp = in_process ? tsa_->ReplyInProcess(*req) : tsa_->ReplyWithCli(*req);
    ASSERT_TRUE(resp.ok()) << resp.status().message();
    auto info = VerifyTimestamp(*resp, AsByteSpan(kNote), ca);
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->gen_time.size(), 20u);
    EXPECT_EQ(info->policy, in_process ? "1.2.3.4.2" : "1.2.3.4.1");
    EXPECT_NE(info->tsa_subject.find("TestTsa"), std::string::npos);
    // Independent check with the openssl CLI.
    WriteAll(*dir_ / "resp.tsr", *resp);
    EXPECT_EQ(RunShell("openssl ts -verify -in " + (*dir_ / "resp.tsr") + " -data " + (*dir_ / "data") + " -CAfile " +
                  tsa_->ca_pem_path()),
              0);
    EXPECT_EQ(RunShell("openssl ts -verify -in " + (*dir_ / "resp.tsr") + " -queryfile " + (*dir_ / "check.tsq") +
                  " -CAfile " + tsa_->ca_pem_path()),
              0);
    // Other data, another CA, a flipped byte: all refused.
    std::string other = kNote + "x";
    auto wrong_data = VerifyTimestamp(*resp, AsByteSpan(other), ca);
    ASSERT_FALSE(wrong_data.ok());
    EXPECT_TRUE(wrong_data.status().message().starts_with("timestamp:"));
    EXPECT_FALSE(VerifyTimestamp(*resp, AsByteSpan(kNote), "no certificate").ok());
    for (size_t i = 0; i < resp->size(); ++i) {
      std::string bad = *resp;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      auto r = VerifyTimestamp(bad, AsByteSpan(kNote), ca);
      EXPECT_FALSE(r.ok()) << "byte " << i;
      if (!r.ok()) {
        EXPECT_TRUE(r.status().message().starts_with("timestamp:")) << r.status().message();
      }
    }
  }
}

TEST_F(TimestampTest, WrongCaIsRefused) {
  ASSERT_TRUE(tsa_->ok());
  TempDir other_dir;
  LocalTsa other(other_dir.path());
  ASSERT_TRUE(other.ok());
  auto req = CreateTimestampRequest(AsByteSpan(kNote));
  auto resp = tsa_->ReplyInProcess(*req);
  ASSERT_TRUE(resp.ok());
  auto r = VerifyTimestamp(*resp, AsByteSpan(kNote), ReadAll(other.ca_pem_path()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("verification failed"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace telltale::provenance
