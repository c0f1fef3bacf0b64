// An append-only transparency log stored in SQLite (WAL mode,
// synchronous=FULL), with RFC 6962 hashing and signed-note checkpoints.
//
// Schema "telltale-log v1" (docs/spec/provenance.md):
//   meta(key, value)               format, origin
//   entries(idx, leaf_hash, data)  idx = 0..n-1, leaf_hash = SHA-256(0x00||data)
//   checkpoints(size, root, note)  every checkpoint ever signed
//
// Durability: Append runs one BEGIN IMMEDIATE transaction and returns the
// index only after COMMIT, which under WAL + synchronous=FULL has fsync'ed
// the WAL; an acknowledged entry therefore survives kill -9 and power loss,
// and an interrupted append leaves no trace. Reopening needs no repair:
// SQLite replays or discards the WAL itself.
//
// Checkpoint() re-derives the root from the stored entries and refuses to
// sign when the previous checkpoint is not a prefix of the current tree, so
// the log never signs a fork of itself.
//
// Ownership: TransparencyLog owns its sqlite3 connection (move-only).
// Thread-safety: one object per thread; several processes may append to
// the same file concurrently (SQLite serialises writers, busy timeout 30 s).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/checkpoint.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/sha256.h"
#include "crypto/provenance/signing_key.h"

struct sqlite3;

namespace telltale::provenance {

struct StoredCheckpoint {
  uint64_t size = 0;
  Hash root{};
  std::string note;
};

class TransparencyLog {
 public:
  // Creates a new, empty log; fails if `path` exists.
  static StatusOr<TransparencyLog> Create(const std::string& path, const std::string& origin);
  static StatusOr<TransparencyLog> Open(const std::string& path);

  TransparencyLog(TransparencyLog&& other) noexcept;
  TransparencyLog& operator=(TransparencyLog&& other) noexcept;
  TransparencyLog(const TransparencyLog&) = delete;
  TransparencyLog& operator=(const TransparencyLog&) = delete;
  ~TransparencyLog();

  const std::string& origin() const { return origin_; }

  // Durably appends one entry (1 byte to 16 MiB); returns its index.
  StatusOr<uint64_t> Append(std::string_view data);
  StatusOr<uint64_t> Size();
  StatusOr<std::string> Entry(uint64_t index);
  // Leaf hashes of entries [0, size).
  StatusOr<std::vector<Hash>> LeafHashes(uint64_t size);

  // Signs a checkpoint of the current tree with `key` (whose name must be
  // the origin), stores it and returns the note.
  StatusOr<StoredCheckpoint> SignCheckpoint(const SigningKey& key);
  // Latest stored checkpoint, or the one at exactly `size`.
  StatusOr<StoredCheckpoint> LatestCheckpoint();
  StatusOr<StoredCheckpoint> CheckpointAt(uint64_t size);

  // Full audit: contiguous indices, every leaf hash recomputed from its
  // data, every stored checkpoint signed by `key`, matching the tree and
  // consistent with the one before. Errors name the entry or checkpoint.
  Status Audit(const PublicKey& key);

 private:
  TransparencyLog() = default;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string origin_;
};

}  // namespace telltale::provenance
