#include "crypto/provenance/transparency_log.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>

#include "crypto/provenance/merkle.h"
#include "crypto/provenance/signed_note.h"

namespace telltale::provenance {
namespace {

constexpr char kFormat[] = "telltale-log v1";
constexpr size_t kMaxEntryBytes = 16u << 20;

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

Status SqlError(sqlite3* db, const std::string& path, const std::string& what) {
  return Status::Unavailable("log " + path + ": " + what + ": " + sqlite3_errmsg(db));
}

StatusOr<Stmt> Prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return SqlError(db, path, "preparing a query");
  return Stmt(s);
}

Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Unavailable("log " + path + ": " + msg);
  }
  return Status::Ok();
}

Hash BlobHash(sqlite3_stmt* s, int col) {
  Hash h{};
  if (sqlite3_column_bytes(s, col) == 32) std::memcpy(h.data(), sqlite3_column_blob(s, col), 32);
  return h;
}

// Text of a column; a NULL (possible in a hand-edited file) reads as "".
std::string ColumnText(sqlite3_stmt* s, int col) {
  const unsigned char* t = sqlite3_column_text(s, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

// Rolls back an open transaction unless committed.
struct Txn {
  sqlite3* db;
  bool done = false;
  ~Txn() {
    if (!done) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
};

StatusOr<sqlite3*> OpenDb(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("log " + path + ": cannot open: " + why);
  }
  sqlite3_busy_timeout(db, 30000);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace

TransparencyLog::TransparencyLog(TransparencyLog&& o) noexcept
    : db_(o.db_), path_(std::move(o.path_)), origin_(std::move(o.origin_)) {
  o.db_ = nullptr;
}

TransparencyLog& TransparencyLog::operator=(TransparencyLog&& o) noexcept {
  if (this != &o) {
    sqlite3_close(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    origin_ = std::move(o.origin_);
    o.db_ = nullptr;
  }
  return *this;
}

TransparencyLog::~TransparencyLog() { sqlite3_close(db_); }

StatusOr<TransparencyLog> TransparencyLog::Create(const std::string& path, const std::string& origin) {
  TT_RETURN_IF_ERROR(ValidateSignerName(origin));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return Status::FailedPrecondition("log " + path + " already exists");
  TT_ASSIGN_OR_RETURN(sqlite3* db, OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  TransparencyLog log;
  log.db_ = db;
  log.path_ = path;
  log.origin_ = origin;
  TT_RETURN_IF_ERROR(Exec(db, path, "PRAGMA journal_mode=WAL"));
  TT_RETURN_IF_ERROR(Exec(db, path, "PRAGMA synchronous=FULL"));
  TT_RETURN_IF_ERROR(Exec(db, path,
                          "BEGIN IMMEDIATE;"
                          "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                          "CREATE TABLE entries(idx INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL, data BLOB NOT NULL);"
                          "CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL);"));
  Txn txn{db};
  TT_ASSIGN_OR_RETURN(Stmt ins, Prepare(db, path, "INSERT INTO meta(key, value) VALUES (?, ?)"));
  for (auto [k, v] : {std::pair<const char*, std::string>{"format", kFormat}, {"origin", origin}}) {
    sqlite3_reset(ins.get());
    sqlite3_bind_text(ins.get(), 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins.get(), 2, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return SqlError(db, path, "writing metadata");
  }
  TT_RETURN_IF_ERROR(Exec(db, path, "COMMIT"));
  txn.done = true;
  return log;
}

StatusOr<TransparencyLog> TransparencyLog::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("log " + path + " does not exist; create it with 'telltale log init'");
  TT_ASSIGN_OR_RETURN(sqlite3* db, OpenDb(path, SQLITE_OPEN_READWRITE));
  TransparencyLog log;
  log.db_ = db;
  log.path_ = path;
  TT_RETURN_IF_ERROR(Exec(db, path, "PRAGMA synchronous=FULL"));
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &raw, nullptr) != SQLITE_OK) {
    return Status::InvalidArgument("log " + path + ": not a Telltale log (" + sqlite3_errmsg(db) + ")");
  }
  Stmt q(raw);
  std::string format;
  while (sqlite3_step(q.get()) == SQLITE_ROW) {
    std::string k = ColumnText(q.get(), 0);
    std::string v = ColumnText(q.get(), 1);
    if (k == "format") format = v;
    if (k == "origin") log.origin_ = v;
  }
  if (format != kFormat) {
    return Status::Unimplemented("log " + path + ": format '" + format + "' is not '" + kFormat + "'");
  }
  // journal_mode is persistent in the file; confirm it was not switched off.
  TT_ASSIGN_OR_RETURN(Stmt jm, Prepare(db, path, "PRAGMA journal_mode"));
  if (sqlite3_step(jm.get()) != SQLITE_ROW || ColumnText(jm.get(), 0) != "wal") {
    return Status::FailedPrecondition("log " + path + ": not in WAL mode");
  }
  return log;
}

StatusOr<uint64_t> TransparencyLog::Append(std::string_view data) {
  if (data.empty() || data.size() > kMaxEntryBytes) {
    return Status::InvalidArgument("log " + path_ + ": entry must be 1 byte to 16 MiB, got " + std::to_string(data.size()));
  }
  Hash leaf = MerkleLeafHash(AsByteSpan(data));
  TT_RETURN_IF_ERROR(Exec(db_, path_, "BEGIN IMMEDIATE"));
  Txn txn{db_};
  TT_ASSIGN_OR_RETURN(Stmt count, Prepare(db_, path_, "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"));
  if (sqlite3_step(count.get()) != SQLITE_ROW) return SqlError(db_, path_, "reading the tree size");
  auto index = static_cast<uint64_t>(sqlite3_column_int64(count.get(), 0));
  TT_ASSIGN_OR_RETURN(Stmt ins, Prepare(db_, path_, "INSERT INTO entries(idx, leaf_hash, data) VALUES (?, ?, ?)"));
  sqlite3_bind_int64(ins.get(), 1, static_cast<sqlite3_int64>(index));
  sqlite3_bind_blob(ins.get(), 2, leaf.data(), 32, SQLITE_STATIC);
  sqlite3_bind_blob(ins.get(), 3, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
  if (sqlite3_step(ins.get()) != SQLITE_DONE) return SqlError(db_, path_, "appending an entry");
  TT_RETURN_IF_ERROR(Exec(db_, path_, "COMMIT"));
  txn.done = true;
  return index;
}

StatusOr<uint64_t> TransparencyLog::Size() {
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT COUNT(*) FROM entries"));
  if (sqlite3_step(q.get()) != SQLITE_ROW) return SqlError(db_, path_, "reading the tree size");
  return static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
}

StatusOr<std::string> TransparencyLog::Entry(uint64_t index) {
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT data FROM entries WHERE idx = ?"));
  sqlite3_bind_int64(q.get(), 1, static_cast<sqlite3_int64>(index));
  if (sqlite3_step(q.get()) != SQLITE_ROW) {
    return Status::NotFound("log " + path_ + ": no entry " + std::to_string(index));
  }
  const char* p = static_cast<const char*>(sqlite3_column_blob(q.get(), 0));
  return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(q.get(), 0)));
}

StatusOr<std::vector<Hash>> TransparencyLog::LeafHashes(uint64_t size) {
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT idx, leaf_hash FROM entries WHERE idx < ? ORDER BY idx"));
  sqlite3_bind_int64(q.get(), 1, static_cast<sqlite3_int64>(size));
  std::vector<Hash> out;
  out.reserve(size);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    if (static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0)) != out.size() || sqlite3_column_bytes(q.get(), 1) != 32) {
      return Status::DataLoss("log " + path_ + ": entry " + std::to_string(out.size()) + " is missing or malformed");
    }
    out.push_back(BlobHash(q.get(), 1));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, path_, "reading leaf hashes");
  if (out.size() != size) {
    return Status::OutOfRange("log " + path_ + ": has " + std::to_string(out.size()) + " entries, not " +
                              std::to_string(size));
  }
  return out;
}

StatusOr<StoredCheckpoint> TransparencyLog::SignCheckpoint(const SigningKey& key) {
  if (key.name() != origin_) {
    return Status::InvalidArgument("log " + path_ + ": signing key name '" + key.name() + "' is not the log origin '" +
                                   origin_ + "'");
  }
  // A read transaction gives one consistent snapshot of entries and checkpoints.
  TT_RETURN_IF_ERROR(Exec(db_, path_, "BEGIN IMMEDIATE"));
  Txn txn{db_};
  TT_ASSIGN_OR_RETURN(uint64_t size, Size());
  TT_ASSIGN_OR_RETURN(std::vector<Hash> leaves, LeafHashes(size));
  StoredCheckpoint cp;
  cp.size = size;
  cp.root = MerkleRoot(leaves);
  StatusOr<StoredCheckpoint> prev = LatestCheckpoint();
  if (prev.ok()) {
    if (prev->size > size) return Status::DataLoss("log " + path_ + ": the tree shrank below its last checkpoint");
    if (MerkleRoot(std::span<const Hash>(leaves.data(), prev->size)) != prev->root) {
      return Status::DataLoss("log " + path_ + ": entries below the last checkpoint (size " + std::to_string(prev->size) +
                              ") changed; refusing to sign a fork");
    }
    if (prev->size == size) {
      TT_RETURN_IF_ERROR(Exec(db_, path_, "COMMIT"));
      txn.done = true;
      return *prev;  // nothing new: the latest checkpoint still describes the tree
    }
  } else if (prev.status().code() != StatusCode::kNotFound) {
    return prev.status();
  }
  Checkpoint body{origin_, size, cp.root, {}};
  TT_ASSIGN_OR_RETURN(cp.note, SignNote(body.Body(), key));
  TT_ASSIGN_OR_RETURN(Stmt ins, Prepare(db_, path_, "INSERT INTO checkpoints(size, root, note) VALUES (?, ?, ?)"));
  sqlite3_bind_int64(ins.get(), 1, static_cast<sqlite3_int64>(size));
  sqlite3_bind_blob(ins.get(), 2, cp.root.data(), 32, SQLITE_STATIC);
  sqlite3_bind_text(ins.get(), 3, cp.note.c_str(), static_cast<int>(cp.note.size()), SQLITE_STATIC);
  if (sqlite3_step(ins.get()) != SQLITE_DONE) return SqlError(db_, path_, "storing the checkpoint");
  TT_RETURN_IF_ERROR(Exec(db_, path_, "COMMIT"));
  txn.done = true;
  return cp;
}

StatusOr<StoredCheckpoint> TransparencyLog::LatestCheckpoint() {
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  if (sqlite3_step(q.get()) != SQLITE_ROW) return Status::NotFound("log " + path_ + " has no checkpoint yet; run 'telltale log checkpoint'");
  StoredCheckpoint cp;
  cp.size = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
  cp.root = BlobHash(q.get(), 1);
  cp.note = ColumnText(q.get(), 2);
  return cp;
}

StatusOr<StoredCheckpoint> TransparencyLog::CheckpointAt(uint64_t size) {
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT size, root, note FROM checkpoints WHERE size = ?"));
  sqlite3_bind_int64(q.get(), 1, static_cast<sqlite3_int64>(size));
  if (sqlite3_step(q.get()) != SQLITE_ROW) {
    return Status::NotFound("log " + path_ + ": no checkpoint at size " + std::to_string(size));
  }
  StoredCheckpoint cp;
  cp.size = size;
  cp.root = BlobHash(q.get(), 1);
  cp.note = ColumnText(q.get(), 2);
  return cp;
}

Status TransparencyLog::Audit(const PublicKey& key) {
  TT_RETURN_IF_ERROR(Exec(db_, path_, "BEGIN"));
  Txn txn{db_};
  TT_ASSIGN_OR_RETURN(Stmt q, Prepare(db_, path_, "SELECT idx, leaf_hash, data FROM entries ORDER BY idx"));
  std::vector<Hash> leaves;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    uint64_t idx = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
    if (idx != leaves.size()) {
      return Status::DataLoss("log " + path_ + ": entry " + std::to_string(leaves.size()) + " is missing");
    }
    std::span<const uint8_t> data(static_cast<const uint8_t*>(sqlite3_column_blob(q.get(), 2)),
                                  static_cast<size_t>(sqlite3_column_bytes(q.get(), 2)));
    Hash leaf = MerkleLeafHash(data);
    if (sqlite3_column_bytes(q.get(), 1) != 32 || BlobHash(q.get(), 1) != leaf) {
      return Status::DataLoss("log " + path_ + ": entry " + std::to_string(idx) + ": stored leaf hash does not match its data");
    }
    leaves.push_back(leaf);
  }
  if (rc != SQLITE_DONE) return SqlError(db_, path_, "reading entries");
  TT_ASSIGN_OR_RETURN(Stmt c, Prepare(db_, path_, "SELECT size, note FROM checkpoints ORDER BY size"));
  while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) {
    uint64_t size = static_cast<uint64_t>(sqlite3_column_int64(c.get(), 0));
    std::string note = ColumnText(c.get(), 1);
    std::string where = "log " + path_ + ": checkpoint at size " + std::to_string(size);
    StatusOr<Checkpoint> cp = OpenSignedCheckpoint(note, key);
    if (!cp.ok()) return cp.status().WithContext(where);
    if (cp->size != size) return Status::DataLoss(where + ": note says size " + std::to_string(cp->size));
    if (size > leaves.size()) return Status::DataLoss(where + ": the tree shrank to " + std::to_string(leaves.size()));
    if (MerkleRoot(std::span<const Hash>(leaves.data(), size)) != cp->root) {
      return Status::DataLoss(where + ": root does not match the stored entries (entries altered or reordered)");
    }
  }
  if (rc != SQLITE_DONE) return SqlError(db_, path_, "reading checkpoints");
  return Status::Ok();
}

}  // namespace telltale::provenance
