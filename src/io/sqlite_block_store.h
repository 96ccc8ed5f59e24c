// SqliteBlockStore: the decided chain (consensus::BlockStore) in one SQLite 3 database. Each
// block is a row with its commit certificate and the state hash after it, in the ledger's own
// encodings (ledger/block.h, ledger/certificate.h), so what is stored is what was voted on.
//
// Schema (version 1):
//
//   meta(key TEXT PRIMARY KEY, value BLOB)   'schema_version' -> 1, 'chain_id' -> 32 bytes
//   blocks(height INTEGER PRIMARY KEY, hash BLOB, block BLOB, certificate BLOB,
//          state_hash BLOB)                  all NOT NULL; hash = ledger::block_hash(block)
//
// The database runs in WAL journal mode with synchronous=FULL: a commit is on disk when
// append() returns, and readers never see half a row. Each append is one INSERT, so one
// transaction. A database is bound to one chain: opening it with another chain id is refused,
// so a gateway cannot replay one consortium's blocks into another's state.
//
// Errors. Everything open() can meet, and every way a stored row can fail to read back, is a
// typed StoreError. get() is the BlockStore interface and returns only optional, so on a
// corrupt row it ABORTS with the height and the reason rather than return nullopt: nullopt
// would read as "not decided yet" and let the caller re-decide a height, while a corrupt local
// database cannot be repaired in place (restore it or resync it from peers). Callers that want
// to handle corruption themselves call read(). A failed write aborts too (storage.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/ids.h"
#include "base/result.h"
#include "consensus/storage.h"
#include "ledger/hashing.h"

// The SQLite handles, declared as sqlite3.h does: its C API stays out of the includers.
struct sqlite3;
struct sqlite3_stmt;

namespace kmchain::io {

// Bumped whenever the tables change shape; a database of another version is refused.
inline constexpr std::int64_t kBlockStoreSchemaVersion = 1;

enum class StoreError : std::uint8_t {
  // open()
  kCannotOpen = 1,     // sqlite3_open_v2 failed: missing directory, permissions
  kNotADatabase = 2,   // the file is not an SQLite database, or is damaged
  kBusy = 3,           // another connection holds a lock on the database
  kSqlite = 4,         // any other SQLite failure (I/O error, disk full, ...)
  kNotWalMode = 5,     // the journal mode could not be switched to WAL
  kBadSchema = 6,      // the meta table is incomplete or malformed
  kSchemaVersion = 7,  // made by another schema version
  kWrongChain = 8,     // made for another chain id
  kNotContiguous = 9,  // the stored heights are not exactly 1..n
  // read(): a stored row that does not read back as what append() wrote
  kCorruptBlock = 10,        // the block column does not decode
  kCorruptCertificate = 11,  // the certificate column does not decode
  kCorruptStateHash = 12,    // the state hash column is not 32 bytes
  kHashMismatch = 13,        // the hash column is not the decoded block's hash
  kHeightMismatch = 14,      // the decoded block's height is not its row's
};
const char* to_string(StoreError error);

// Owners of the SQLite handles: the connection closes and statements finalize on every path.
struct SqliteCloser {
  void operator()(sqlite3* db) const;
  void operator()(sqlite3_stmt* stmt) const;
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteCloser>;

class SqliteBlockStore final : public consensus::BlockStore {
 public:
  // Opens or creates the store at `path` for the chain `chain_id` (the genesis hash). A new
  // database is stamped with the chain id and schema version; an existing one must match
  // both, and its heights must be 1..n. On failure `detail`, if given, gets SQLite's message and
  // the system's error text.
  static Result<std::unique_ptr<SqliteBlockStore>, StoreError> open(const std::string& path,
                                                                    const ledger::Hash256& chain_id,
                                                                    std::string* detail = nullptr);

  ~SqliteBlockStore() override;
  SqliteBlockStore(const SqliteBlockStore&) = delete;
  SqliteBlockStore& operator=(const SqliteBlockStore&) = delete;

  Height height() const override { return height_; }
  // Requires stored.block.header.height == height() + 1 (checked); durable on return. Aborts
  // if SQLite fails.
  void append(const consensus::StoredBlock& stored) override;
  // read(height), aborting with a message on any error (see the file comment).
  std::optional<consensus::StoredBlock> get(Height height) const override;

  // The block at `height`: nullopt outside 1..height(), a typed error if the row is missing
  // or does not decode, or if its columns disagree with each other.
  Result<std::optional<consensus::StoredBlock>, StoreError> read(Height height) const;

 private:
  SqliteBlockStore(SqliteDb db, SqliteStmt insert, SqliteStmt select, Height height);
  // open() in `db`, which keeps the handle (and its last error) when it fails.
  static Result<std::unique_ptr<SqliteBlockStore>, StoreError> open_in(
      const std::string& path, const ledger::Hash256& chain_id, SqliteDb& db);

  // Declared in this order so the statements are finalized before the connection closes.
  SqliteDb db_;
  SqliteStmt insert_;
  SqliteStmt select_;
  Height height_;
};

}  // namespace kmchain::io
