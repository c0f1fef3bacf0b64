// Crash safety of the transparency log under repeated kill -9 (label slow).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/tests/test_util.h"
#include "crypto/provenance/transparency_log.h"

namespace telltale::provenance {
namespace {

using test_support::TempDir;

SigningKey LogKey() {
  std::array<uint8_t, 32> seed;
  seed.fill(3);
  return std::move(SigningKey::FromSeed("log.test", seed)).value();
}

std::string EntryText(uint64_t i) { return "entry-" + std::to_string(i) + "-" + std::string(i % 17, 'x'); }

// Crash safety: a child process appends as fast as it can and reports each
// index only after Append returned (the acknowledgement); the parent kills
// it with SIGKILL at random moments, over and over, taking checkpoints in
// between. Every acknowledged entry must remain with its exact bytes, every
// checkpoint must stay consistent, and the log must reopen untouched.
TEST(TransparencyLog, SurvivesRepeatedKill9) {
  TempDir dir;
  SigningKey key = LogKey();
  std::string db = dir / "log.db";
  ASSERT_TRUE(TransparencyLog::Create(db, "log.test").ok());
  std::mt19937 rng(12345);
  std::set<uint64_t> acked;
  std::vector<StoredCheckpoint> checkpoints;
  constexpr int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto log = TransparencyLog::Open(db);
      if (!log.ok()) ::_exit(3);
      for (;;) {
        // Entry bytes derive from the index they will get, so the parent
        // can check content; the index is only known after commit, so the
        // payload is fixed up by size: write the expected text for size().
        auto size = log->Size();
        if (!size.ok()) ::_exit(4);
        auto idx = log->Append(EntryText(*size));
        if (!idx.ok() || *idx != *size) ::_exit(5);
        uint64_t v = *idx;
        if (::write(fds[1], &v, sizeof v) != sizeof v) ::_exit(6);
      }
    }
    ::close(fds[1]);
    // Wait for the first acknowledgement so every round kills an appender
    // that is mid-stream, then let it run a random while longer.
    uint64_t first = 0;
    ASSERT_EQ(::read(fds[0], &first, sizeof first), static_cast<ssize_t>(sizeof first)) << "appender made no progress";
    acked.insert(first);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 50));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "appender exited early with " << WEXITSTATUS(status);
    uint64_t v;
    while (::read(fds[0], &v, sizeof v) == sizeof v) acked.insert(v);
    ::close(fds[0]);

    auto log = TransparencyLog::Open(db);  // no repair step: just open
    ASSERT_TRUE(log.ok()) << log.status().message();
    auto size = log->Size();
    ASSERT_TRUE(size.ok());
    ASSERT_TRUE(acked.empty() || *acked.rbegin() < *size) << "acknowledged entry lost in round " << round;
    if (round % 3 == 0) {
      auto cp = log->SignCheckpoint(key);
      ASSERT_TRUE(cp.ok()) << cp.status().message();
      checkpoints.push_back(*cp);
    }
  }
  auto log = TransparencyLog::Open(db);
  ASSERT_TRUE(log.ok());
  uint64_t size = *log->Size();
  EXPECT_GE(acked.size(), static_cast<size_t>(kRounds));  // at least one acknowledged entry per round
  for (uint64_t i : acked) {
    auto e = log->Entry(i);
    ASSERT_TRUE(e.ok()) << "acknowledged entry " << i << " missing";
    EXPECT_EQ(*e, EntryText(i));
  }
  for (uint64_t i = 0; i < size; ++i) ASSERT_EQ(*log->Entry(i), EntryText(i));
  ASSERT_TRUE(log->Audit(key.public_key()).ok());
  auto final_cp = log->SignCheckpoint(key);
  ASSERT_TRUE(final_cp.ok());
  for (const StoredCheckpoint& cp : checkpoints) {
    if (cp.size == 0) continue;
    auto proof = ProveConsistency(*log, cp.size, 0);
    ASSERT_TRUE(proof.ok()) << proof.status().message();
    EXPECT_EQ(proof->old_checkpoint, cp.note);
    EXPECT_TRUE(VerifyConsistencyBundle(*proof, key.public_key()).ok());
  }
}

}  // namespace
}  // namespace telltale::provenance
