#include "daemon/device_store.h"

#include <openssl/crypto.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "enroll/join.h"

namespace kmchain::daemon {

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

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? reinterpret_cast<const char*>(p) : "";
}

template <std::size_t N>
bool column_array(sqlite3_stmt* s, int i, std::array<std::uint8_t, N>& out) {
  const Bytes b = column_blob(s, i);
  if (b.size() != N) return false;
  std::memcpy(out.data(), b.data(), N);
  return true;
}

bool column_u32(sqlite3_stmt* s, int i, std::uint32_t& out) {
  const sqlite3_int64 v = sqlite3_column_int64(s, i);
  if (sqlite3_column_type(s, i) != SQLITE_INTEGER || v < 0 || v > 0xffffffffLL) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

void step_done(sqlite3* db, sqlite3_stmt* s, const char* what) {
  if (sqlite3_step(s) != SQLITE_DONE) die(db, what);
}

}  // namespace

Result<std::unique_ptr<DeviceStore>, std::string> DeviceStore::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  io::SqliteDb db(raw);
  if (rc != SQLITE_OK) return Err{path + ": " + (raw ? sqlite3_errmsg(raw) : "cannot open")};
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(db.get(), 2000);
  const auto run = [&](const char* sql) -> Result<bool, std::string> {
    char* error = nullptr;
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = path + ": " + (error ? error : sql);
      sqlite3_free(error);
      return Err{message};
    }
    return true;
  };
  if (auto r = run("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !r) return Err{r.error()};
  int version = 0;
  int tables = 0;
  {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db.get(), "PRAGMA user_version", -1, &s, nullptr);
    io::SqliteStmt stmt(s);
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_stmt* t = nullptr;
    sqlite3_prepare_v2(db.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1, &t,
                       nullptr);
    io::SqliteStmt tstmt(t);
    if (sqlite3_step(t) == SQLITE_ROW) tables = sqlite3_column_int(t, 0);
  }
  if (tables != 0 && version != kDeviceStoreSchemaVersion) {
    return Err{path + ": device store schema version " + std::to_string(version) + ", expected " +
               std::to_string(kDeviceStoreSchemaVersion)};
  }
  if (tables == 0) {
    const auto created =
        run("BEGIN;"
            "CREATE TABLE credentials(id BLOB PRIMARY KEY, psk BLOB NOT NULL, used_by INTEGER);"
            "CREATE TABLE devices(node INTEGER PRIMARY KEY, node_key BLOB NOT NULL,"
            " host TEXT NOT NULL, port INTEGER NOT NULL, credential BLOB NOT NULL,"
            " hello BLOB NOT NULL, accept BLOB NOT NULL, counter INTEGER NOT NULL,"
            " join_failure TEXT NOT NULL);"
            "CREATE TABLE pending(node INTEGER NOT NULL, op INTEGER NOT NULL, tx BLOB NOT NULL,"
            " PRIMARY KEY(node, op));"
            "PRAGMA user_version = 3;"
            "COMMIT;");
    static_assert(kDeviceStoreSchemaVersion == 3, "the schema above");
    if (!created) return Err{created.error()};
  }
  return std::unique_ptr<DeviceStore>(new DeviceStore(std::move(db), path));
}

io::SqliteStmt DeviceStore::prepare(const char* sql) const {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql, -1, &s, nullptr) != SQLITE_OK) die(db_.get(), sql);
  return io::SqliteStmt(s);
}

// Admitted (again): the PSK is replaced, who used it is kept.
void DeviceStore::put_credential(const gateway::CredentialRecord& r) {
  auto s = prepare(
      "INSERT INTO credentials(id, psk, used_by) VALUES(?, ?, NULL)"
      " ON CONFLICT(id) DO UPDATE SET psk = excluded.psk");
  bind_blob(s.get(), 1, r.credential.id);
  bind_blob(s.get(), 2, r.credential.psk.view());
  step_done(db_.get(), s.get(), "store credential");
}

void DeviceStore::set_credential_user(const enroll::CredentialId& id, std::optional<NodeId> node) {
  auto u = prepare("UPDATE credentials SET used_by = ? WHERE id = ?");
  if (node) {
    sqlite3_bind_int64(u.get(), 1, node->value());
  } else {
    sqlite3_bind_null(u.get(), 1);
  }
  bind_blob(u.get(), 2, id);
  step_done(db_.get(), u.get(), "use credential");
}

void DeviceStore::exec(const char* sql) {
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) die(db_.get(), sql);
}

void DeviceStore::put_device(const gateway::DeviceRecord& r) {
  exec("BEGIN IMMEDIATE");
  auto s = prepare(
      "INSERT OR REPLACE INTO devices(node, node_key, host, port, credential, hello, accept,"
      " counter, join_failure) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64(s.get(), 1, r.node.value());
  bind_blob(s.get(), 2, r.node_key.view());
  sqlite3_bind_text(s.get(), 3, r.endpoint.host.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s.get(), 4, r.endpoint.port);
  bind_blob(s.get(), 5, r.credential);
  bind_blob(s.get(), 6, r.hello);
  bind_blob(s.get(), 7, r.accept);
  sqlite3_bind_int64(s.get(), 8, static_cast<sqlite3_int64>(r.request_counter));
  sqlite3_bind_text(s.get(), 9, r.join_failure.c_str(), -1, SQLITE_TRANSIENT);
  step_done(db_.get(), s.get(), "store device");
  set_credential_user(r.credential,
                      r.join_failure.empty() ? std::optional<NodeId>(r.node) : std::nullopt);
  exec("COMMIT");
}

void DeviceStore::erase_device(NodeId node, const std::optional<enroll::CredentialId>& free) {
  exec("BEGIN IMMEDIATE");
  auto s = prepare("DELETE FROM devices WHERE node = ?");
  sqlite3_bind_int64(s.get(), 1, node.value());
  step_done(db_.get(), s.get(), "erase device");
  if (free) set_credential_user(*free, std::nullopt);
  exec("COMMIT");
}

void DeviceStore::put_pending(const ledger::SignedTransaction& stx) {
  const ledger::Transaction& tx = stx.transaction;
  auto s = prepare("INSERT OR REPLACE INTO pending(node, op, tx) VALUES(?, ?, ?)");
  sqlite3_bind_int64(s.get(), 1, tx.node.value());
  sqlite3_bind_int(s.get(), 2, static_cast<int>(tx.op));
  const auto encoded = ledger::encode(stx);
  bind_blob(s.get(), 3, encoded);
  step_done(db_.get(), s.get(), "store pending transaction");
}

void DeviceStore::erase_pending(NodeId node, ledger::Operation op) {
  auto s = prepare("DELETE FROM pending WHERE node = ? AND op = ?");
  sqlite3_bind_int64(s.get(), 1, node.value());
  sqlite3_bind_int(s.get(), 2, static_cast<int>(op));
  step_done(db_.get(), s.get(), "erase pending transaction");
}

namespace {

const enroll::CredentialId& credential_id(const gateway::CredentialRecord& c) {
  return c.credential.id;
}
const enroll::CredentialId& credential_id(const enroll::CredentialId& id) {
  return id;
}

}  // namespace

Result<gateway::DurableDeviceData, std::string> DeviceStore::load() const {
  gateway::DurableDeviceData data;
  const auto bad = [this](const char* table, std::int64_t row, const char* what) {
    return Err{path_ + ": " + table + " row " + std::to_string(row) + ": " + what};
  };
  {
    auto s = prepare("SELECT rowid, id, psk, used_by FROM credentials ORDER BY id");
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      const std::int64_t row = sqlite3_column_int64(s.get(), 0);
      gateway::CredentialRecord r;
      if (!column_array(s.get(), 1, r.credential.id)) return bad("credentials", row, "id");
      Bytes psk = column_blob(s.get(), 2);
      const bool psk_ok = psk.size() == 32;
      if (psk_ok) r.credential.psk = crypto::Secret256::from_view(psk);
      OPENSSL_cleanse(psk.data(), psk.size());
      if (!psk_ok) return bad("credentials", row, "psk is not 32 bytes");
      if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL) {
        std::uint32_t node = 0;
        if (!column_u32(s.get(), 3, node)) return bad("credentials", row, "used_by");
        r.used_by = NodeId{node};
      }
      data.credentials.push_back(std::move(r));
    }
  }
  {
    auto s = prepare(
        "SELECT node, node_key, host, port, credential, hello, accept, counter, join_failure"
        " FROM devices ORDER BY node");
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      gateway::DeviceRecord r;
      std::uint32_t node = 0;
      if (!column_u32(s.get(), 0, node)) return bad("devices", 0, "node");
      r.node = NodeId{node};
      Bytes key = column_blob(s.get(), 1);
      const bool key_ok = key.size() == 16;
      if (key_ok) r.node_key = crypto::Key128::from_view(key);
      OPENSSL_cleanse(key.data(), key.size());
      if (!key_ok) return bad("devices", node, "node key is not 16 bytes");
      r.endpoint.host = column_text(s.get(), 2);
      const int port = sqlite3_column_int(s.get(), 3);
      if (port < 1 || port > 65535) return bad("devices", node, "port");
      r.endpoint.port = static_cast<std::uint16_t>(port);
      if (!column_array(s.get(), 4, r.credential)) return bad("devices", node, "credential id");
      // Every record names an admitted credential and holds the hello it was accepted for: the
      // gateway answers that hello again and rebuilds its transaction from it.
      // (The credentials came in id order: memcmp order, as std::array compares.)
      const bool admitted = std::binary_search(
          data.credentials.begin(), data.credentials.end(), r.credential,
          [](const auto& a, const auto& b) { return credential_id(a) < credential_id(b); });
      if (!admitted) return bad("devices", node, "credential not admitted");
      r.hello = column_blob(s.get(), 5);
      if (!enroll::parse_hello(r.hello)) return bad("devices", node, "hello");
      r.accept = column_blob(s.get(), 6);
      const sqlite3_int64 counter = sqlite3_column_int64(s.get(), 7);
      if (counter < 0) return bad("devices", node, "counter");
      r.request_counter = static_cast<std::uint64_t>(counter);
      r.join_failure = column_text(s.get(), 8);
      data.devices.push_back(std::move(r));
    }
  }
  {
    auto s = prepare("SELECT node, op, tx FROM pending ORDER BY node, op");
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      std::uint32_t node = 0;
      if (!column_u32(s.get(), 0, node)) return bad("pending", 0, "node");
      auto tx = ledger::decode_signed_transaction(column_blob(s.get(), 2));
      if (!tx || tx->transaction.node.value() != node ||
          static_cast<int>(tx->transaction.op) != sqlite3_column_int(s.get(), 1)) {
        return bad("pending", node, "transaction");
      }
      data.pending.push_back(*tx);
    }
  }
  return data;
}

}  // namespace kmchain::daemon
