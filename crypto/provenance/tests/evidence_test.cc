// Evidence bundles: a complete bundle verifies; any single flipped byte,
// a wrong pinned key or a report made with another key fails, naming the
// link. The full byte-flip sweep is labelled slow.
#include <gtest/gtest.h>

#include "crypto/provenance/commitment.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/evidence.h"
#include "crypto/provenance/merkle.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/statement.h"
#include "crypto/provenance/tests/test_util.h"
#include "crypto/provenance/timestamp.h"

namespace telltale::provenance {
namespace {

using test_support::LocalTsa;
using test_support::ReadAll;
using test_support::TempDir;

constexpr char kScheme[] = "kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false";

SigningKey Key(const std::string& name, uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return std::move(SigningKey::FromSeed(name, seed)).value();
}

std::string Report(const std::string& key_id) {
  return std::string(R"({"doc":0,"line":1,"scheme":")") + kScheme +
         R"(","dedup":"context+token","alpha":1e-06,"tokens":200,"scored":199,"score":131,"expected":49.75,)"
         R"("z":23.06,"log10_p":-41.5,"p_value":3.1622776601683794e-42,"log10_p_raw":-41.5,"detected":true,"key_id":")" +
         key_id + R"(","keys":[]})" + "\n";
}

struct World {
  TempDir dir;
  std::unique_ptr<LocalTsa> tsa;
  SigningKey signer = Key("log.test", 5);
  std::unique_ptr<CommitmentOpening> opening;
  std::string bundle, ca;
  TrustAnchors trust;

  World() {
    tsa = std::make_unique<LocalTsa>(dir.path());
    ca = ReadAll(tsa->ca_pem_path());
    std::array<uint8_t, 32> raw;
    raw.fill(9);
    CommitmentParams p{kScheme, std::string(64, 'b'), "acme", "eu", "2026-11"};
    opening = std::make_unique<CommitmentOpening>(
        std::move(CreateOpening(p, std::move(SecretKey::FromBytes(raw)).value())).value());
    std::vector<Hash> set = {Sha256Of(std::string_view("other tenant")), ComputeCommitment(*opening),
                             Sha256Of(std::string_view("third tenant"))};
    CommitmentMembership m = *ProveMembership(set, 1);
    KeyCommitmentPredicate kc{"2026-11", set.size(), m.root};
    std::string kc_env = *SignEnvelope(kInTotoPayloadType, *SerializeStatement(kc.ToStatement()), signer).Serialize();
    GenerationBatchPredicate gb;
    gb.model = "m";
    gb.tokenizer_digest = p.tokenizer_digest;
    gb.scheme = kScheme;
    gb.tenant = "acme";
    gb.region = "eu";
    gb.window_start = "2026-11-01T00:00:00Z";
    gb.window_end = "2026-11-02T00:00:00Z";
    gb.responses = 2;
    gb.response_root = Sha256Of(std::string_view("responses"));
    gb.key_commitment = ComputeCommitment(*opening);
    gb.policy["do_not_train"] = "true";
    std::string gb_env = *SignEnvelope(kInTotoPayloadType, *SerializeStatement(gb.ToStatement()), signer).Serialize();

    auto log = TransparencyLog::Create(dir / "log.db", "log.test");
    EXPECT_TRUE(log->Append("unrelated entry").ok());
    uint64_t kc_index = *log->Append(kc_env);
    std::string ts_note = log->SignCheckpoint(signer)->note;
    uint64_t gb_index = *log->Append(gb_env);
    EXPECT_TRUE(log->Append("later entry").ok());
    EXPECT_TRUE(log->SignCheckpoint(signer).ok());
    auto tsr = tsa->ReplyInProcess(*CreateTimestampRequest(AsByteSpan(ts_note)));
    EXPECT_TRUE(tsr.ok());

    EvidenceInputs in;
    in.opening = opening.get();
    in.membership = m;
    in.log = &*log;
    in.log_key = signer.public_key();
    in.commitment_entry = kc_index;
    in.timestamped_checkpoint = ts_note;
    in.timestamp_der = *tsr;
    in.batch_entry = gb_index;
    in.report_text = Report(opening->key.KeyId());
    in.tsa_ca_pem = ca;
    in.signer = &signer;
    in.tool_version = "0.1.0";
    in.tool_sha256 = Sha256Of(std::string_view("tool"));
    auto b = BuildEvidence(in);
    EXPECT_TRUE(b.ok()) << b.status().message();
    bundle = b.ok() ? *b : "";
    trust = {signer.public_key(), signer.public_key(), ca, std::nullopt};
  }
};

std::string Failures(const EvidenceReport& r) {
  std::string out;
  for (const Claim& c : r.claims) {
    if (c.state == Claim::State::kFailed) out += c.link + ": " + c.text + "\n";
  }
  return out;
}

TEST(Evidence, CompleteBundleVerifiesPinnedAndUnpinned) {
  World w;
  ASSERT_TRUE(w.tsa->ok());
  EvidenceReport r = VerifyEvidence(w.bundle, w.trust);
  EXPECT_TRUE(r.AllVerified()) << r.ToText();
  std::string text = r.ToText();
  for (const char* link : {"opening", "membership", "commitment statement", "log inclusion", "timestamp", "consistency",
                           "generation batch", "detection report", "report key", "conclusion"}) {
    EXPECT_NE(text.find(std::string(link) + ":"), std::string::npos) << link;
  }
  EvidenceReport unpinned = VerifyEvidence(w.bundle, TrustAnchors{});
  EXPECT_TRUE(unpinned.AllVerified()) << unpinned.ToText();
  EXPECT_NE(unpinned.ToText().find("UNPINNED"), std::string::npos);
}

TEST(Evidence, WrongPinnedKeysFail) {
  World w;
  TrustAnchors t = w.trust;
  t.signer_key = Key("log.test", 6).public_key();
  EvidenceReport r = VerifyEvidence(w.bundle, t);
  EXPECT_FALSE(r.AllVerified());
  EXPECT_NE(Failures(r).find("signer key: bundle key"), std::string::npos) << r.ToText();
  t = w.trust;
  t.log_key = Key("log.test", 7).public_key();
  r = VerifyEvidence(w.bundle, t);
  EXPECT_NE(Failures(r).find("log key:"), std::string::npos) << r.ToText();
  TempDir other_dir;
  LocalTsa other(other_dir.path());
  t = w.trust;
  t.tsa_ca_pem = ReadAll(other.ca_pem_path());
  r = VerifyEvidence(w.bundle, t);
  EXPECT_NE(Failures(r).find("TSA CA:"), std::string::npos) << r.ToText();
}

TEST(Evidence, ReportWithAnotherKeyFails) {
  World w;
  // Re-sign a report naming a different key id: signatures hold, the
  // key link fails.
  auto j = ParseJsonStrict(w.bundle.substr(0, w.bundle.size() - 1), "bundle");
  ASSERT_TRUE(j.ok());
  std::string report = Report(std::string(32, 'c'));
  (*j)["report"]["text"] = report;
  (*j)["report"]["envelope"] = *SignDetectionReport(report, 0, w.signer, "0.1.0", Sha256Of(std::string_view("t")));
  EvidenceReport r = VerifyEvidence(*CanonicalJson(*j) + "\n", w.trust);
  EXPECT_FALSE(r.AllVerified());
  EXPECT_NE(Failures(r).find("report key: report key id cccc"), std::string::npos) << r.ToText();
}

TEST(EvidenceSlow, EveryFlippedBundleByteFailsNamingTheLink) {
  World w;
  ASSERT_TRUE(VerifyEvidence(w.bundle, w.trust).AllVerified());
  for (size_t i = 0; i < w.bundle.size(); ++i) {
    std::string bad = w.bundle;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EvidenceReport r = VerifyEvidence(bad, w.trust);
    ASSERT_FALSE(r.AllVerified()) << "byte " << i << " ('" << w.bundle[i] << "') of the bundle:\n" << r.ToText();
    EXPECT_FALSE(Failures(r).empty()) << i;
  }
}

}  // namespace
}  // namespace telltale::provenance
