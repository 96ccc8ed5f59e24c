#include "io/sqlite_device_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kmchain::io {

namespace {

[[noreturn]] void die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "device store: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
  std::abort();
}

void bind_blob(sqlite3_stmt* s, int i, ByteView b) {
  sqlite3_bind_blob(s, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
}

Bytes column_blob(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
  const int n = sqlite3_column_bytes(s, i);
  return p ? Bytes(p, p + n) : Bytes{};
}

template <std::size_t N>
bool column_array(sqlite3_stmt* s, int i, std::array<std::uint8_t, N>& out) {
  const Bytes b = column_blob(s, i);
  if (b.size() != N) return false;
  std::memcpy(out.data(), b.data(), N);
  return true;
}

}  // namespace

Result<std::unique_ptr<SqliteDeviceStore>, std::string> SqliteDeviceStore::open(
    const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) return Err{path + ": " + (raw ? sqlite3_errmsg(raw) : "cannot open")};
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(db.get(), 2000);
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS credentials(id BLOB PRIMARY KEY, psk BLOB NOT NULL,"
      " used_by INTEGER);"
      "CREATE TABLE IF NOT EXISTS devices(node INTEGER PRIMARY KEY, node_key BLOB NOT NULL,"
      " host TEXT NOT NULL, port INTEGER NOT NULL, credential BLOB NOT NULL, hello BLOB NOT NULL,"
      " accept BLOB NOT NULL, tx BLOB NOT NULL, counter INTEGER NOT NULL);";
  char* error = nullptr;
  if (sqlite3_exec(db.get(), schema, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = path + ": " + (error ? error : "schema");
    sqlite3_free(error);
    return Err{message};
  }
  return std::unique_ptr<SqliteDeviceStore>(new SqliteDeviceStore(std::move(db)));
}

SqliteStmt SqliteDeviceStore::prepare(const char* sql) const {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql, -1, &s, nullptr) != SQLITE_OK) die(db_.get(), sql);
  return SqliteStmt(s);
}

void SqliteDeviceStore::put_credential(const enroll::DeviceCredential& credential) {
  auto s = prepare("INSERT OR IGNORE INTO credentials(id, psk, used_by) VALUES(?, ?, NULL)");
  bind_blob(s.get(), 1, credential.id);
  bind_blob(s.get(), 2, credential.psk.view());
  if (sqlite3_step(s.get()) != SQLITE_DONE) die(db_.get(), "admit credential");
}

std::optional<enroll::DeviceCredential> SqliteDeviceStore::credential(
    const enroll::CredentialId& id) const {
  auto s = prepare("SELECT psk FROM credentials WHERE id = ?");
  bind_blob(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  const Bytes psk = column_blob(s.get(), 0);
  if (psk.size() != 32) return std::nullopt;
  enroll::DeviceCredential c;
  c.id = id;
  c.psk = crypto::Secret256::from_view(psk);
  return c;
}

std::optional<NodeId> SqliteDeviceStore::credential_user(const enroll::CredentialId& id) const {
  auto s = prepare("SELECT used_by FROM credentials WHERE id = ? AND used_by IS NOT NULL");
  bind_blob(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return NodeId{static_cast<std::uint32_t>(sqlite3_column_int64(s.get(), 0))};
}

void SqliteDeviceStore::put_device(const gateway::DeviceRecord& r) {
  exec("BEGIN IMMEDIATE");
  auto s = prepare(
      "INSERT OR REPLACE INTO devices(node, node_key, host, port, credential, hello, accept, tx,"
      " counter) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64(s.get(), 1, r.node.value());
  bind_blob(s.get(), 2, r.node_key.view());
  sqlite3_bind_text(s.get(), 3, r.endpoint.host.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s.get(), 4, r.endpoint.port);
  bind_blob(s.get(), 5, r.credential);
  bind_blob(s.get(), 6, r.hello);
  bind_blob(s.get(), 7, r.accept);
  bind_blob(s.get(), 8, r.transaction);
  sqlite3_bind_int64(s.get(), 9, static_cast<sqlite3_int64>(r.request_counter));
  if (sqlite3_step(s.get()) != SQLITE_DONE) die(db_.get(), "store device");
  auto u = prepare("UPDATE credentials SET used_by = ? WHERE id = ?");
  sqlite3_bind_int64(u.get(), 1, r.node.value());
  bind_blob(u.get(), 2, r.credential);
  if (sqlite3_step(u.get()) != SQLITE_DONE) die(db_.get(), "use credential");
  exec("COMMIT");
}

void SqliteDeviceStore::erase_device(NodeId node) {
  auto s = prepare("DELETE FROM devices WHERE node = ?");
  sqlite3_bind_int64(s.get(), 1, node.value());
  if (sqlite3_step(s.get()) != SQLITE_DONE) die(db_.get(), "erase device");
}

std::vector<gateway::DeviceRecord> SqliteDeviceStore::devices() const {
  std::vector<gateway::DeviceRecord> out;
  auto s = prepare(
      "SELECT node, node_key, host, port, credential, hello, accept, tx, counter FROM devices"
      " ORDER BY node");
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    gateway::DeviceRecord r;
    r.node = NodeId{static_cast<std::uint32_t>(sqlite3_column_int64(s.get(), 0))};
    const Bytes key = column_blob(s.get(), 1);
    if (key.size() != 16) die(db_.get(), "a stored node key is not 16 bytes");
    r.node_key = crypto::Key128::from_view(key);
    const auto* host = sqlite3_column_text(s.get(), 2);
    r.endpoint.host = host ? reinterpret_cast<const char*>(host) : "";
    r.endpoint.port = static_cast<std::uint16_t>(sqlite3_column_int(s.get(), 3));
    if (!column_array(s.get(), 4, r.credential)) die(db_.get(), "a stored credential id");
    r.hello = column_blob(s.get(), 5);
    r.accept = column_blob(s.get(), 6);
    r.transaction = column_blob(s.get(), 7);
    r.request_counter = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 8));
    out.push_back(std::move(r));
  }
  return out;
}

void SqliteDeviceStore::exec(const char* sql) const {
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) die(db_.get(), sql);
}

}  // namespace kmchain::io
