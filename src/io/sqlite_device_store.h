// SqliteDeviceStore: a gateway's device data (gateway::DeviceStore) in its own SQLite database,
// devices.sqlite in the data directory (mode 0600, in a 0700 directory):
//
//   credentials(id BLOB PRIMARY KEY, psk BLOB, used_by INTEGER)   admitted credentials; used_by
//                                                                 is the node that joined with it
//   devices(node INTEGER PRIMARY KEY, node_key BLOB, host TEXT, port INTEGER, credential BLOB,
//           hello BLOB, accept BLOB, tx BLOB, counter INTEGER)    devices homed here
//
// WAL journal, synchronous=FULL: a call is on disk when it returns. A failed write aborts, as
// for the block store: what reached the disk is unknown and the restart reads it back. The
// secrets are stored as they are; the file's permissions are their protection, as for the
// identity key.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "gateway/device_service.h"
#include "io/sqlite_block_store.h"

namespace kmchain::io {

class SqliteDeviceStore final : public gateway::DeviceStore {
 public:
  static Result<std::unique_ptr<SqliteDeviceStore>, std::string> open(const std::string& path);

  void put_credential(const enroll::DeviceCredential& credential) override;
  std::optional<enroll::DeviceCredential> credential(const enroll::CredentialId& id) const override;
  std::optional<NodeId> credential_user(const enroll::CredentialId& id) const override;
  void put_device(const gateway::DeviceRecord& record) override;
  void erase_device(NodeId node) override;
  std::vector<gateway::DeviceRecord> devices() const override;

 private:
  explicit SqliteDeviceStore(SqliteDb db) : db_(std::move(db)) {}
  void exec(const char* sql) const;
  SqliteStmt prepare(const char* sql) const;

  SqliteDb db_;
};

}  // namespace kmchain::io
