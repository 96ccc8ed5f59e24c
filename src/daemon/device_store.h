// DeviceStore: a gateway's device data in its own SQLite database, devices.sqlite in the data
// directory (mode 0600, in a 0700 directory), written by the daemon as the gateway node's
// Put/Erase actions come (gateway/actions.h) and read back whole at a restart:
//
//   credentials(id BLOB PRIMARY KEY, psk BLOB, used_by INTEGER)   admitted credentials; used_by
//                                                                 is the node that joined with it
//   devices(node INTEGER PRIMARY KEY, node_key BLOB, host TEXT, port INTEGER, credential BLOB,
//           hello BLOB, accept BLOB, counter INTEGER, join_failure TEXT)
//                                                                 devices homed here
//   pending(node INTEGER, op INTEGER, tx BLOB, PRIMARY KEY(node, op))
//                                                                 transactions submitted here and
//                                                                 not final yet
//
// The schema's version is the database's user_version; a database of another version is refused
// with its number. WAL journal, synchronous=FULL: a call is on disk when it returns. A failed
// write aborts, as for the block store: what reached the disk is unknown and the restart reads
// it back. The secrets are stored as they are; the file's permissions are their protection, as
// for the identity key. Every value read back is checked (lengths, ranges); a row that fails is
// an error naming it, not a crash.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "gateway/gateway_node.h"
#include "io/sqlite_block_store.h"

namespace kmchain::daemon {

// 3: pending transactions are stored signed (ledger/signed_transaction.h), not bare.
inline constexpr int kDeviceStoreSchemaVersion = 3;

class DeviceStore {
 public:
  static Result<std::unique_ptr<DeviceStore>, std::string> open(const std::string& path);

  Result<gateway::DurableDeviceData, std::string> load() const;

  // An admitted credential: inserted, or its PSK replaced (who used it is kept).
  void put_credential(const gateway::CredentialRecord& record);
  // The record, and its credential used by it (free for a failed join's), in one transaction.
  void put_device(const gateway::DeviceRecord& record);
  // Deletes the record, and frees `free` in the same transaction when given.
  void erase_device(NodeId node, const std::optional<enroll::CredentialId>& free);
  void put_pending(const ledger::SignedTransaction& stx);
  void erase_pending(NodeId node, ledger::Operation op);

 private:
  DeviceStore(io::SqliteDb db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  io::SqliteStmt prepare(const char* sql) const;
  void exec(const char* sql);
  void set_credential_user(const enroll::CredentialId& id, std::optional<NodeId> node);

  io::SqliteDb db_;
  std::string path_;
};

}  // namespace kmchain::daemon
