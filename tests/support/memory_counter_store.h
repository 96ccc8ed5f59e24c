// A channel::CounterStore that lives in memory: it outlives the senders built over it, as a file
// outlives a process. Counts its writes. No gtest here: the fuzz targets use it too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel/sender.h"

namespace kmchain::testing {

class MemoryCounterStore final : public channel::CounterStore {
 public:
  explicit MemoryCounterStore(std::uint64_t initial = 0) : value_(initial) {}
  std::uint64_t load() override { return value_; }
  void reserve(std::uint64_t up_to) override {
    ++writes_;
    value_ = up_to;
  }
  std::uint64_t value() const { return value_; }
  std::size_t writes() const { return writes_; }

 private:
  std::uint64_t value_;
  std::size_t writes_ = 0;
};

}  // namespace kmchain::testing
