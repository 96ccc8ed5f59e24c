// The simulator's disk: in-memory ConsensusWal and BlockStore that outlive a simulated crash
// (the process state is dropped, these are kept), so a restart reads back exactly what was
// durable. Writes are durable when the call returns, as in the daemon; a crash is injected
// between actions, so "before the write" and "after the write" are both exercised.
#pragma once

#include <optional>
#include <vector>

#include "base/check.h"
#include "consensus/storage.h"

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
  void append(const consensus::StoredBlock& stored) override {
    KMCHAIN_CHECK(stored.block.header.height.value() == blocks_.size() + 1);
    blocks_.push_back(stored);
  }
  std::optional<consensus::StoredBlock> get(Height height) const override {
    if (height.value() == 0 || height.value() > blocks_.size()) return std::nullopt;
    return blocks_[height.value() - 1];
  }
  const consensus::StoredBlock& at(Height height) const { return blocks_.at(height.value() - 1); }

 private:
  std::vector<consensus::StoredBlock> blocks_;
};

}  // namespace kmchain::sim
