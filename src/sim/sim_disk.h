// The simulator's disk: in-memory ConsensusWal, BlockStore and a gateway's device data that
// outlive a simulated crash (the process state is dropped, these are kept), so a restart reads
// back exactly what was durable. Writes are durable when the call returns, as in the daemon; a
// crash is injected between actions, so "before the write" and "after the write" are both
// exercised.
#pragma once

#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/check.h"
#include "consensus/storage.h"
#include "gateway/actions.h"
#include "gateway/gateway_node.h"

namespace kmchain::sim {

class MemoryWal final : public consensus::ConsensusWal {
 public:
  void write(ByteView record) override {
    last_ = Bytes(record.begin(), record.end());
    ++writes_;
  }
  std::optional<Bytes> read_last() const override { return last_; }
  std::size_t writes() const { return writes_; }

 private:
  std::optional<Bytes> last_;
  std::size_t writes_ = 0;
};

class MemoryBlockStore final : public consensus::BlockStore {
 public:
  Height height() const override { return Height{blocks_.size()}; }
  // The next block, whatever its header says: a replica with a validity rule broken on
  // purpose may store a block of another height, which the checks report.
  void append(const consensus::StoredBlock& stored) override { blocks_.push_back(stored); }
  std::optional<consensus::StoredBlock> get(Height height) const override {
    if (height.value() == 0 || height.value() > blocks_.size()) return std::nullopt;
    return blocks_[height.value() - 1];
  }
  const consensus::StoredBlock& at(Height height) const { return blocks_.at(height.value() - 1); }

 private:
  std::vector<consensus::StoredBlock> blocks_;
};

// A gateway's device data (daemon/device_store.h in the daemon), written by the node's actions.
class MemoryDeviceData {
 public:
  // Applies a Put/Erase action; false for any other action.
  bool apply(const gateway::Action& action) {
    if (const auto* c = std::get_if<gateway::PutCredential>(&action)) {
      // Admitted (again): the PSK is replaced, who used it is kept.
      auto [it, inserted] = credentials_.try_emplace(c->record.credential.id, c->record);
      if (!inserted) it->second.credential = c->record.credential;
    } else if (const auto* d = std::get_if<gateway::PutDevice>(&action)) {
      devices_.insert_or_assign(d->record.node, d->record);
      if (auto used = credentials_.find(d->record.credential); used != credentials_.end()) {
        used->second.used_by =
            d->record.join_failure.empty() ? std::optional<NodeId>(d->record.node) : std::nullopt;
      }
    } else if (const auto* e = std::get_if<gateway::EraseDevice>(&action)) {
      devices_.erase(e->node);
      if (e->free_credential) {
        if (auto freed = credentials_.find(*e->free_credential); freed != credentials_.end())
          freed->second.used_by.reset();
      }
    } else if (const auto* p = std::get_if<gateway::PutPending>(&action)) {
      pending_.insert_or_assign({p->transaction.transaction.node, p->transaction.transaction.op},
                                p->transaction);
    } else if (const auto* q = std::get_if<gateway::ErasePending>(&action)) {
      pending_.erase({q->node, q->op});
    } else {
      return false;
    }
    return true;
  }

  gateway::DurableDeviceData load() const {
    gateway::DurableDeviceData data;
    for (const auto& [id, c] : credentials_)
      data.credentials.push_back(c);
    for (const auto& [node, d] : devices_)
      data.devices.push_back(d);
    for (const auto& [key, tx] : pending_)
      data.pending.push_back(tx);
    return data;
  }

  const gateway::DeviceRecord* device(NodeId node) const {
    auto it = devices_.find(node);
    return it == devices_.end() ? nullptr : &it->second;
  }
#if KMCHAIN_FAULTS_ENABLED
  // Loses the records and pending transactions of joins that are not final in `state` (a
  // broken rule of the system simulator: what a gateway that kept them in memory would lose).
  void forget_unfinished_joins(const ledger::LedgerState& state) {
    for (auto it = devices_.begin(); it != devices_.end();) {
      it = state.node_id_used(it->first) ? std::next(it) : devices_.erase(it);
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = it->first.second == ledger::Operation::kJoin ? pending_.erase(it) : std::next(it);
    }
  }
#endif

 private:
  std::map<enroll::CredentialId, gateway::CredentialRecord> credentials_;
  std::map<NodeId, gateway::DeviceRecord> devices_;
  std::map<std::pair<NodeId, ledger::Operation>, ledger::SignedTransaction> pending_;
};

}  // namespace kmchain::sim
