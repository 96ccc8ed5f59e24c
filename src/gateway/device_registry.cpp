#include "gateway/device_registry.h"

#include "base/check.h"

namespace kmchain::gateway {

void DeviceRegistry::restore(std::vector<CredentialRecord> credentials,
                             std::vector<DeviceRecord> devices) {
  credentials_.clear();
  devices_.clear();
  for (CredentialRecord& c : credentials) {
    const enroll::CredentialId id = c.credential.id;
    credentials_.insert_or_assign(id, std::move(c));
  }
  by_credential_.clear();
  for (DeviceRecord& d : devices) {
    const NodeId node = d.node;
    by_credential_[d.credential] = node;
    devices_.insert_or_assign(node, std::move(d));
  }
}

const DeviceRecord* DeviceRegistry::device_of(const enroll::CredentialId& id) const {
  auto it = by_credential_.find(id);
  return it == by_credential_.end() ? nullptr : device(it->second);
}

const CredentialRecord* DeviceRegistry::credential(const enroll::CredentialId& id) const {
  auto it = credentials_.find(id);
  return it == credentials_.end() ? nullptr : &it->second;
}

const DeviceRecord* DeviceRegistry::device(NodeId node) const {
  auto it = devices_.find(node);
  return it == devices_.end() ? nullptr : &it->second;
}

bool DeviceRegistry::admit(const enroll::DeviceCredential& credential, std::vector<Action>& out) {
  auto it = credentials_.find(credential.id);
  if (it == credentials_.end()) {
    if (credentials_.size() >= kCredentialsMax) return false;
    it = credentials_.emplace(credential.id, CredentialRecord{credential, std::nullopt}).first;
  } else {
    it->second.credential = credential;
  }
  out.push_back(PutCredential{it->second});
  return true;
}

void DeviceRegistry::use(const enroll::CredentialId& id, std::optional<NodeId> node) {
  auto it = credentials_.find(id);
  KMCHAIN_CHECK(it != credentials_.end());
  it->second.used_by = node;
}

// One write: the record, and its credential used by it (or free, for a failed join), so that
// no crash leaves a credential used by a record that is not there or the other way round.
void DeviceRegistry::put(const DeviceRecord& record, std::vector<Action>& out) {
  devices_.insert_or_assign(record.node, record);
  by_credential_[record.credential] = record.node;
  use(record.credential,
      record.join_failure.empty() ? std::optional<NodeId>(record.node) : std::nullopt);
  out.push_back(PutDevice{record});
}

void DeviceRegistry::fail_join(NodeId node, const std::string& reason, std::vector<Action>& out) {
  auto it = devices_.find(node);
  KMCHAIN_CHECK(it != devices_.end());
  DeviceRecord record = it->second;
  record.join_failure = reason.empty() ? "refused" : reason;
  put(record, out);
}

void DeviceRegistry::erase(NodeId node, std::vector<Action>& out) {
  auto it = devices_.find(node);
  if (it == devices_.end()) return;
  // Its credential stays used: it admitted one device, which came and went.
  if (auto c = by_credential_.find(it->second.credential);
      c != by_credential_.end() && c->second == node) {
    by_credential_.erase(c);
  }
  devices_.erase(it);
  out.push_back(EraseDevice{node, std::nullopt});
}

void DeviceRegistry::release(NodeId node, std::vector<Action>& out) {
  auto it = devices_.find(node);
  if (it == devices_.end()) return;
  const enroll::CredentialId credential = it->second.credential;
  if (auto c = by_credential_.find(credential); c != by_credential_.end() && c->second == node) {
    by_credential_.erase(c);
  }
  devices_.erase(it);
  use(credential, std::nullopt);
  out.push_back(EraseDevice{node, credential});
}

}  // namespace kmchain::gateway
