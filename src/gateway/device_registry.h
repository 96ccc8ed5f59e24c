// DeviceRegistry: the credentials and device records of one gateway, in memory, each change
// emitted as the one action that makes it durable (PutCredential, PutDevice, EraseDevice; a
// record and its credential's use change in one write). The shell loads what is on disk back
// with restore() at a restart.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "base/ids.h"
#include "enroll/credential.h"
#include "gateway/actions.h"
#include "gateway/device_record.h"

namespace kmchain::gateway {

// Credentials an operator may admit at one gateway: one per device it can ever serve.
inline constexpr std::size_t kCredentialsMax = 1u << 20;

class DeviceRegistry {
 public:
  void restore(std::vector<CredentialRecord> credentials, std::vector<DeviceRecord> devices);

  const CredentialRecord* credential(const enroll::CredentialId& id) const;
  const DeviceRecord* device(NodeId node) const;
  // The record of the device that joined (or tried to) with a credential, if one is kept.
  const DeviceRecord* device_of(const enroll::CredentialId& id) const;
  const std::map<NodeId, DeviceRecord>& devices() const { return devices_; }
  std::size_t credential_count() const { return credentials_.size(); }

  // The operator admits a credential (again: its PSK is replaced, its use kept). False when the
  // registry is full.
  bool admit(const enroll::DeviceCredential& credential, std::vector<Action>& out);
  // A device's record, inserted or replaced; the credential is marked used by it.
  void put(const DeviceRecord& record, std::vector<Action>& out);
  // The join of `node` will never be final: its record stays as a tombstone with the reason (to
  // answer the device), and its credential is free for another try.
  void fail_join(NodeId node, const std::string& reason, std::vector<Action>& out);
  // The device is gone (it left, was evicted, or tries again with a fresh hello): its node key
  // goes too, since keeping it would only widen what a captured gateway leaks.
  void erase(NodeId node, std::vector<Action>& out);
  // A join refused before it was acknowledged: its record goes and its credential is free.
  void release(NodeId node, std::vector<Action>& out);

 private:
  void use(const enroll::CredentialId& id, std::optional<NodeId> node);

  std::map<enroll::CredentialId, CredentialRecord> credentials_;
  std::map<NodeId, DeviceRecord> devices_;
  std::map<enroll::CredentialId, NodeId> by_credential_;
};

}  // namespace kmchain::gateway
