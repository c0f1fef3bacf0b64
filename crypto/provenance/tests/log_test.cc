// The SQLite transparency log: proofs, checkpoints, audits, tampering
// (altered, reordered entries, shrinking checkpoints, wrong keys) and
// crash safety under repeated kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "crypto/provenance/checkpoint.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/merkle.h"
#include "crypto/provenance/signed_note.h"
#include "crypto/provenance/tests/test_util.h"
#include "crypto/provenance/transparency_log.h"

namespace telltale::provenance {
namespace {

using test_support::TempDir;

SigningKey LogKey(const std::string& name = "log.test", uint8_t fill = 3) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return std::move(SigningKey::FromSeed(name, seed)).value();
}

std::string EntryText(uint64_t i) { return "entry-" + std::to_string(i) + "-" + std::string(i % 17, 'x'); }

void Exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
}

TEST(TransparencyLog, AppendProveCheckpointAudit) {
  TempDir dir;
  SigningKey key = LogKey();
  auto log = TransparencyLog::Create(dir / "log.db", "log.test");
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_FALSE(TransparencyLog::Create(dir / "log.db", "log.test").ok());
  std::vector<std::string> checkpoints;
  for (uint64_t i = 0; i < 21; ++i) {
    auto idx = log->Append(EntryText(i));
    ASSERT_TRUE(idx.ok());
    EXPECT_EQ(*idx, i);
    if (i % 5 == 4) {
      auto cp = log->SignCheckpoint(key);
      ASSERT_TRUE(cp.ok()) << cp.status().message();
      checkpoints.push_back(cp->note);
    }
  }
  EXPECT_FALSE(log->Append("").ok());
  EXPECT_FALSE(log->SignCheckpoint(LogKey("other.log", 3)).ok());  // name must be the origin
  ASSERT_TRUE(log->Audit(key.public_key()).ok());
  // Inclusion proofs for every entry in every checkpoint, consistency
  // between every pair.
  for (uint64_t size : {5u, 10u, 15u, 20u}) {
    for (uint64_t i = 0; i < size; ++i) {
      auto b = ProveInclusion(*log, i, size);
      ASSERT_TRUE(b.ok()) << b.status().message();
      auto j = InclusionBundle::FromJson(b->ToJson());
      ASSERT_TRUE(j.ok());
      auto cp = VerifyInclusionBundle(*j, key.public_key());
      ASSERT_TRUE(cp.ok()) << cp.status().message();
      EXPECT_EQ(cp->size, size);
      EXPECT_EQ(j->entry, EntryText(i));
    }
    auto c = ProveConsistency(*log, 5, size);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(VerifyConsistencyBundle(*ConsistencyBundle::FromJson(c->ToJson()), key.public_key()).ok());
  }
  EXPECT_FALSE(ProveInclusion(*log, 20, 20).ok());  // entry 20 is after that checkpoint
  // Wrong log key.
  auto b = ProveInclusion(*log, 3, 0);
  ASSERT_TRUE(b.ok());
  auto wrong = VerifyInclusionBundle(*b, LogKey("log.test", 4).public_key());
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().message().starts_with("checkpoint")) << wrong.status().message();
  // Reopening sees everything.
  auto again = TransparencyLog::Open(dir / "log.db");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->Size(), 21u);
}

TEST(TransparencyLog, EveryFlippedProofOrCheckpointByteFails) {
  TempDir dir;
  SigningKey key = LogKey();
  auto log = TransparencyLog::Create(dir / "log.db", "log.test");
  for (uint64_t i = 0; i < 7; ++i) ASSERT_TRUE(log->Append(EntryText(i)).ok());
  ASSERT_TRUE(log->SignCheckpoint(key).ok());
  for (uint64_t i = 7; i < 13; ++i) ASSERT_TRUE(log->Append(EntryText(i)).ok());
  ASSERT_TRUE(log->SignCheckpoint(key).ok());
  auto inc = ProveInclusion(*log, 5, 0);
  auto cons = ProveConsistency(*log, 7, 0);
  ASSERT_TRUE(inc.ok() && cons.ok());
  std::string inc_text = *ToCanonicalFile(inc->ToJson());
  std::string cons_text = *ToCanonicalFile(cons->ToJson());
  auto verify_inc = [&](const std::string& t) -> Status {
    TT_ASSIGN_OR_RETURN(Json j, ParseCanonicalFile(t, "inclusion proof"));
    TT_ASSIGN_OR_RETURN(InclusionBundle b, InclusionBundle::FromJson(j));
    return VerifyInclusionBundle(b, key.public_key()).status();
  };
  auto verify_cons = [&](const std::string& t) -> Status {
    TT_ASSIGN_OR_RETURN(Json j, ParseCanonicalFile(t, "consistency proof"));
    TT_ASSIGN_OR_RETURN(ConsistencyBundle b, ConsistencyBundle::FromJson(j));
    return VerifyConsistencyBundle(b, key.public_key()).status();
  };
  ASSERT_TRUE(verify_inc(inc_text).ok());
  ASSERT_TRUE(verify_cons(cons_text).ok());
  for (auto [text, verify, names] :
       {std::tuple{inc_text, std::function<Status(const std::string&)>(verify_inc),
                   std::vector<std::string>{"inclusion proof", "checkpoint", "entry"}},
        std::tuple{cons_text, std::function<Status(const std::string&)>(verify_cons),
                   std::vector<std::string>{"consistency proof", "old: checkpoint", "new: checkpoint"}}}) {
    for (size_t i = 0; i < text.size(); ++i) {
      std::string bad = text;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      Status s = verify(bad);
      ASSERT_FALSE(s.ok()) << "byte " << i;
      bool named = false;
      for (const std::string& n : names) named |= s.message().starts_with(n);
      EXPECT_TRUE(named) << "byte " << i << ": " << s.message();
    }
  }
  // The checkpoint note alone.
  std::string note = inc->checkpoint;
  for (size_t i = 0; i < note.size(); ++i) {
    std::string bad = note;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto cp = OpenSignedCheckpoint(bad, key.public_key());
    ASSERT_FALSE(cp.ok()) << i;
    EXPECT_TRUE(cp.status().message().starts_with("checkpoint")) << cp.status().message();
  }
}

TEST(TransparencyLog, AuditCatchesAlteredAndReorderedEntries) {
  TempDir dir;
  SigningKey key = LogKey();
  std::string db = dir / "log.db";
  {
    auto log = TransparencyLog::Create(db, "log.test");
    for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(log->Append(EntryText(i)).ok());
    ASSERT_TRUE(log->SignCheckpoint(key).ok());
  }
  // Swap entries 2 and 3 (data and leaf hashes together, so each row is
  // self-consistent): only the checkpoint can tell.
  Exec(db, "UPDATE entries SET idx = -1 WHERE idx = 2; UPDATE entries SET idx = 2 WHERE idx = 3;"
           "UPDATE entries SET idx = 3 WHERE idx = -1;");
  auto log = TransparencyLog::Open(db);
  ASSERT_TRUE(log.ok());
  Status s = log->Audit(key.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("checkpoint at size 8: root does not match"), std::string::npos) << s.message();
  // The log refuses to sign a fork, and to prove against a stale checkpoint.
  auto cp = log->SignCheckpoint(key);
  ASSERT_FALSE(cp.ok());
  EXPECT_NE(cp.status().message().find("refusing to sign a fork"), std::string::npos);
  EXPECT_FALSE(ProveInclusion(*log, 2, 8).ok());
  // Altering one entry's bytes is caught per entry.
  Exec(db, "UPDATE entries SET data = X'00' WHERE idx = 5");
  s = log->Audit(key.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("entry 5: stored leaf hash does not match"), std::string::npos) << s.message();
  // Deleting the last entry makes the tree shrink below its checkpoint.
  Exec(db, "DELETE FROM entries WHERE idx >= 5");
  s = log->Audit(key.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("shrank"), std::string::npos) << s.message();
}

TEST(TransparencyLog, BadFilesGiveErrorsNotCrashes) {
  TempDir dir;
  test_support::WriteAll(dir / "junk.db", std::string(4096, 'j'));
  auto junk = TransparencyLog::Open(dir / "junk.db");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("junk.db"), std::string::npos) << junk.status().message();
  EXPECT_EQ(TransparencyLog::Open(dir / "missing.db").status().code(), StatusCode::kNotFound);
  std::string db = dir / "log.db";
  ASSERT_TRUE(TransparencyLog::Create(db, "log.test").ok());
  Exec(db, "INSERT INTO meta(key, value) VALUES (NULL, 'x'); UPDATE meta SET value = 'telltale-log v9' WHERE key = 'format'");
  auto v9 = TransparencyLog::Open(db);
  ASSERT_FALSE(v9.ok());
  EXPECT_EQ(v9.status().code(), StatusCode::kUnimplemented);
}

TEST(TransparencyLog, ShrinkingCheckpointFailsConsistency) {
  TempDir dir;
  SigningKey key = LogKey();
  auto log = TransparencyLog::Create(dir / "log.db", "log.test");
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(EntryText(i)).ok());
  auto small = log->SignCheckpoint(key);
  for (uint64_t i = 4; i < 9; ++i) ASSERT_TRUE(log->Append(EntryText(i)).ok());
  auto big = log->SignCheckpoint(key);
  ASSERT_TRUE(small.ok() && big.ok());
  // A "consistency proof" presenting the bigger checkpoint as the old one.
  ConsistencyBundle b{big->note, small->note, {}};
  auto r = VerifyConsistencyBundle(b, key.public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("consistency proof: the tree shrank"), std::string::npos) << r.status().message();
  // A forged checkpoint of a different tree with the real key: consistency fails.
  Checkpoint forged{"log.test", 9, Sha256Of(std::string_view("forged")), {}};
  auto forged_note = SignNote(forged.Body(), key);
  auto real = ProveConsistency(*log, 4, 9);
  ASSERT_TRUE(real.ok());
  real->new_checkpoint = *forged_note;
  EXPECT_FALSE(VerifyConsistencyBundle(*real, key.public_key()).ok());
}

}  // namespace
}  // namespace telltale::provenance
