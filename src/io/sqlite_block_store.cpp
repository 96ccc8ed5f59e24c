// SqliteBlockStore: opening (pragmas, schema, chain binding, contiguity), appends and reads
// through prepared statements. Every SQLite call of the block store is in this file.
#include "io/sqlite_block_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/check.h"
#include "ledger/block.h"
#include "ledger/certificate.h"

namespace kmchain::io {

void SqliteCloser::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

void SqliteCloser::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

const char* to_string(StoreError error) {
  switch (error) {
    case StoreError::kCannotOpen:
      return "cannot open";
    case StoreError::kNotADatabase:
      return "not an SQLite database, or damaged";
    case StoreError::kBusy:
      return "locked by another connection";
    case StoreError::kSqlite:
      return "SQLite failure";
    case StoreError::kNotWalMode:
      return "cannot switch to WAL journal mode";
    case StoreError::kBadSchema:
      return "bad schema";
    case StoreError::kSchemaVersion:
      return "another schema version";
    case StoreError::kWrongChain:
      return "made for another chain id";
    case StoreError::kNotContiguous:
      return "heights not contiguous from 1";
    case StoreError::kCorruptBlock:
      return "corrupt block";
    case StoreError::kCorruptCertificate:
      return "corrupt certificate";
    case StoreError::kCorruptStateHash:
      return "corrupt state hash";
    case StoreError::kHashMismatch:
      return "hash column is not the block's hash";
    case StoreError::kHeightMismatch:
      return "block height is not its row's";
  }
  return "unknown store error";
}

namespace {

using consensus::StoredBlock;

// How long a statement waits for a lock held by another connection (an operator's read-only
// inspection, say) before it fails. The daemon is the only writer, so waits are short.
constexpr int kBusyTimeoutMs = 1000;

constexpr const char* kCreateSchema =
    "CREATE TABLE IF NOT EXISTS meta("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blocks("
    "  height INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL,"
    "  block BLOB NOT NULL,"
    "  certificate BLOB NOT NULL,"
    "  state_hash BLOB NOT NULL);";
constexpr const char* kInsertBlock =
    "INSERT INTO blocks(height, hash, block, certificate, state_hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kSelectBlock =
    "SELECT hash, block, certificate, state_hash FROM blocks WHERE height = ?1";

constexpr const char* kMetaSchemaVersion = "schema_version";
constexpr const char* kMetaChainId = "chain_id";

StoreError classify(int rc) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return StoreError::kCannotOpen;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return StoreError::kNotADatabase;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StoreError::kBusy;
    default:
      return StoreError::kSqlite;
  }
}

// Resets a statement and drops its bindings when a use of it ends, on every path, so that it
// holds no read lock and no pointer into the caller's buffers.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

Result<SqliteStmt, StoreError> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  SqliteStmt stmt(raw);
  if (rc != SQLITE_OK) return Err{classify(rc)};
  return stmt;
}

Status<StoreError> exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Err{classify(rc)};
  return {};
}

// The bound bytes are only read during the step that follows, so SQLite need not copy them
// (a null destructor is SQLITE_STATIC, whose macro is a C-style cast).
int bind_blob(sqlite3_stmt* stmt, int index, ByteView bytes) {
  return sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), nullptr);
}

// The blob in column `index`, or nullopt if the column holds another type. Valid until the
// statement is stepped or reset.
std::optional<ByteView> blob_column(sqlite3_stmt* stmt, int index) {
  if (sqlite3_column_type(stmt, index) != SQLITE_BLOB) return std::nullopt;
  const void* data = sqlite3_column_blob(stmt, index);
  const int size = sqlite3_column_bytes(stmt, index);
  if (size <= 0) return ByteView{};
  if (data == nullptr) return std::nullopt;  // out of memory while fetching it
  return ByteView(static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size));
}

std::optional<ledger::Hash256> hash_column(sqlite3_stmt* stmt, int index) {
  const std::optional<ByteView> bytes = blob_column(stmt, index);
  if (!bytes || bytes->size() != ledger::Hash256{}.size()) return std::nullopt;
  ledger::Hash256 out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Creates the tables if needed, then stamps a new database with the schema version and chain
// id or checks an existing database's. Runs inside the caller's transaction.
Status<StoreError> init_schema(sqlite3* db, const ledger::Hash256& chain_id) {
  KMCHAIN_TRY(exec(db, kCreateSchema));

  auto select_meta = prepare(db, "SELECT key, value FROM meta");
  KMCHAIN_TRY(select_meta);
  bool has_version = false;
  std::int64_t version = 0;
  std::optional<ledger::Hash256> stored_chain;
  bool has_chain = false;
  {
    StmtUse use(select_meta->get());
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      const auto* key = sqlite3_column_text(use.get(), 0);
      if (key == nullptr) continue;
      const char* key_chars = reinterpret_cast<const char*>(key);
      if (std::strcmp(key_chars, kMetaSchemaVersion) == 0) {
        if (sqlite3_column_type(use.get(), 1) != SQLITE_INTEGER) return Err{StoreError::kBadSchema};
        has_version = true;
        version = sqlite3_column_int64(use.get(), 1);
      } else if (std::strcmp(key_chars, kMetaChainId) == 0) {
        has_chain = true;
        stored_chain = hash_column(use.get(), 1);
      }
      // Other keys are left to later schema versions.
    }
    if (rc != SQLITE_DONE) return Err{classify(rc)};
  }

  if (!has_version && !has_chain) {
    // A new database, unless a blocks table came from elsewhere without a meta table.
    auto count = prepare(db, "SELECT EXISTS(SELECT 1 FROM blocks)");
    KMCHAIN_TRY(count);
    {
      StmtUse use(count->get());
      const int rc = sqlite3_step(use.get());
      if (rc != SQLITE_ROW) return Err{classify(rc)};
      if (sqlite3_column_int64(use.get(), 0) != 0) return Err{StoreError::kBadSchema};
    }
    auto insert = prepare(db, "INSERT INTO meta(key, value) VALUES (?1, ?2), (?3, ?4)");
    KMCHAIN_TRY(insert);
    StmtUse use(insert->get());
    sqlite3_bind_text(use.get(), 1, kMetaSchemaVersion, -1, nullptr);
    sqlite3_bind_int64(use.get(), 2, kBlockStoreSchemaVersion);
    sqlite3_bind_text(use.get(), 3, kMetaChainId, -1, nullptr);
    bind_blob(use.get(), 4, chain_id);
    const int rc = sqlite3_step(use.get());
    if (rc != SQLITE_DONE) return Err{classify(rc)};
    return {};
  }
  if (!has_version || !has_chain || !stored_chain) return Err{StoreError::kBadSchema};
  if (version != kBlockStoreSchemaVersion) return Err{StoreError::kSchemaVersion};
  if (*stored_chain != chain_id) return Err{StoreError::kWrongChain};
  return {};
}

// The stored height n, after checking that the rows are exactly 1..n. The count walks the
// table once at open; a gap would otherwise surface only when that height is read.
Result<Height, StoreError> stored_height(sqlite3* db) {
  auto stmt = prepare(db,
                      "SELECT COUNT(*), COALESCE(MIN(height), 1), COALESCE(MAX(height), 0) "
                      "FROM blocks");
  KMCHAIN_TRY(stmt);
  StmtUse use(stmt->get());
  const int rc = sqlite3_step(use.get());
  if (rc != SQLITE_ROW) return Err{classify(rc)};
  const std::int64_t count = sqlite3_column_int64(use.get(), 0);
  const std::int64_t min = sqlite3_column_int64(use.get(), 1);
  const std::int64_t max = sqlite3_column_int64(use.get(), 2);
  if (min != 1 || max != count) return Err{StoreError::kNotContiguous};
  return Height{static_cast<std::uint64_t>(max)};
}

[[noreturn]] void die(sqlite3* db, const char* what, Height height) {
  std::fprintf(stderr, "kmchain block store: %s at height %llu failed: %s\n", what,
               static_cast<unsigned long long>(height.value()), sqlite3_errmsg(db));
  std::abort();
}

}  // namespace

Result<std::unique_ptr<SqliteBlockStore>, StoreError> SqliteBlockStore::open(
    const std::string& path, const ledger::Hash256& chain_id, std::string* detail) {
  SqliteDb db;
  auto store = open_in(path, chain_id, db);
  if (!store && detail != nullptr) {
    // SQLite's own message and, when a system call failed, the system's.
    *detail = db ? sqlite3_errmsg(db.get()) : "cannot open";
    const int system_error = db ? sqlite3_system_errno(db.get()) : 0;
    if (system_error != 0) *detail += std::string(": ") + std::strerror(system_error);
  }
  return store;
}

Result<std::unique_ptr<SqliteBlockStore>, StoreError> SqliteBlockStore::open_in(
    const std::string& path, const ledger::Hash256& chain_id, SqliteDb& db) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db.reset(raw);  // a failed open still returns a handle to close
  if (rc != SQLITE_OK) return Err{classify(rc)};
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  // WAL: a commit appends to the log, so a crash mid-append leaves the previous chain intact
  // and readers never block the writer. The mode is stored in the file; the query answers the
  // mode now in force, which stays "delete" where WAL is impossible.
  {
    auto mode = prepare(db.get(), "PRAGMA journal_mode=WAL");
    KMCHAIN_TRY(mode);
    StmtUse use(mode->get());
    const int step = sqlite3_step(use.get());
    if (step != SQLITE_ROW) return Err{classify(step)};
    const auto* text = sqlite3_column_text(use.get(), 0);
    if (text == nullptr || std::strcmp(reinterpret_cast<const char*>(text), "wal") != 0) {
      return Err{StoreError::kNotWalMode};
    }
  }
  // FULL syncs the log at every commit: append() is durable, not merely atomic, on return.
  // The setting belongs to the connection, so it is set on every open.
  KMCHAIN_TRY(exec(db.get(), "PRAGMA synchronous=FULL"));

  // IMMEDIATE takes the write lock up front: two processes creating the same database cannot
  // both stamp it.
  KMCHAIN_TRY(exec(db.get(), "BEGIN IMMEDIATE"));
  const Status<StoreError> schema = init_schema(db.get(), chain_id);
  if (!schema.ok()) {
    (void)exec(db.get(), "ROLLBACK");
    return Err{schema.error()};
  }
  KMCHAIN_TRY(exec(db.get(), "COMMIT"));

  auto height = stored_height(db.get());
  KMCHAIN_TRY(height);
  auto insert = prepare(db.get(), kInsertBlock);
  KMCHAIN_TRY(insert);
  auto select = prepare(db.get(), kSelectBlock);
  KMCHAIN_TRY(select);
  return std::unique_ptr<SqliteBlockStore>(new SqliteBlockStore(
      std::move(db), std::move(insert).value(), std::move(select).value(), height.value()));
}

SqliteBlockStore::SqliteBlockStore(SqliteDb db, SqliteStmt insert, SqliteStmt select, Height height)
    : db_(std::move(db)), insert_(std::move(insert)), select_(std::move(select)), height_(height) {}

SqliteBlockStore::~SqliteBlockStore() = default;

void SqliteBlockStore::append(const StoredBlock& stored) {
  // The chain grows one decided height at a time; anything else is a bug in the caller.
  KMCHAIN_CHECK(stored.block.header.height.value() == height_.value() + 1);
  const Height height = stored.block.header.height;
  const Bytes block = ledger::encode(stored.block);
  const Bytes certificate = ledger::encode(stored.certificate);
  const ledger::Hash256 hash = ledger::block_hash(stored.block);

  StmtUse use(insert_.get());
  sqlite3_stmt* s = use.get();
  // Heights stay far below 2^63 (a block a millisecond for 290 million years).
  const bool bound =
      sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(height.value())) == SQLITE_OK &&
      bind_blob(s, 2, hash) == SQLITE_OK && bind_blob(s, 3, block) == SQLITE_OK &&
      bind_blob(s, 4, certificate) == SQLITE_OK &&
      bind_blob(s, 5, stored.state_hash_after) == SQLITE_OK;
  if (!bound) die(db_.get(), "binding the block", height);
  // One statement in autocommit mode is one transaction: the row is all there or not at all.
  if (sqlite3_step(s) != SQLITE_DONE) die(db_.get(), "insert of the block", height);
  height_ = height;
}

Result<std::optional<StoredBlock>, StoreError> SqliteBlockStore::read(Height height) const {
  if (height.value() == 0 || height > height_) return std::optional<StoredBlock>{};

  StmtUse use(select_.get());
  sqlite3_stmt* s = use.get();
  if (sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(height.value())) != SQLITE_OK) {
    return Err{StoreError::kSqlite};
  }
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return Err{StoreError::kNotContiguous};  // deleted under us
  if (rc != SQLITE_ROW) return Err{classify(rc)};

  // Columns: hash, block, certificate, state_hash. The blobs are decoded as untrusted input:
  // the file may have been damaged or edited since append() wrote it.
  const std::optional<ByteView> block_bytes = blob_column(s, 1);
  if (!block_bytes) return Err{StoreError::kCorruptBlock};
  auto block = ledger::decode_block(*block_bytes);
  if (!block.ok()) return Err{StoreError::kCorruptBlock};
  if (block->header.height != height) return Err{StoreError::kHeightMismatch};
  const std::optional<ledger::Hash256> hash = hash_column(s, 0);
  if (!hash || *hash != ledger::block_hash(*block)) return Err{StoreError::kHashMismatch};

  const std::optional<ByteView> certificate_bytes = blob_column(s, 2);
  if (!certificate_bytes) return Err{StoreError::kCorruptCertificate};
  auto certificate = ledger::decode_certificate(*certificate_bytes);
  if (!certificate.ok()) return Err{StoreError::kCorruptCertificate};

  const std::optional<ledger::Hash256> state_hash = hash_column(s, 3);
  if (!state_hash) return Err{StoreError::kCorruptStateHash};

  return std::optional<StoredBlock>(
      StoredBlock{std::move(block).value(), std::move(certificate).value(), *state_hash});
}

std::optional<StoredBlock> SqliteBlockStore::get(Height height) const {
  auto stored = read(height);
  if (!stored.ok()) {
    std::fprintf(stderr,
                 "kmchain block store: the block at height %llu cannot be read: %s (sqlite: %s). "
                 "The local database is damaged; restore it or resync the chain from peers.\n",
                 static_cast<unsigned long long>(height.value()), to_string(stored.error()),
                 sqlite3_errmsg(db_.get()));
    std::abort();
  }
  return std::move(stored).value();
}

}  // namespace kmchain::io
