// A device's durable state kept in memory: for many devices in one process that outlive no
// restart of it (the load generator, the system simulator, tests). A simulated device restart
// keeps these objects, as a real one keeps its files.
#pragma once

#include <cstdint>
#include <optional>

#include "channel/sender.h"
#include "device/agent.h"

namespace kmchain::device {

class MemoryCounterStore final : public channel::CounterStore {
 public:
  std::uint64_t load() override { return reserved_; }
  void reserve(std::uint64_t up_to) override { reserved_ = up_to; }

 private:
  std::uint64_t reserved_ = 0;
};

class MemoryStateSink final : public StateSink {
 public:
  void save_join(const JoinAttempt& attempt) override { state_.join = attempt; }
  void save_identity(const Identity& identity) override {
    state_.identity = identity;
    state_.join.reset();
    state_.replay = {};
  }
  void restart_join(const enroll::SecretCode& code) override {
    state_.identity.reset();
    state_.join.reset();
    state_.replay = {};
    code_ = code;
  }
  void save_request_counter(std::uint64_t counter) override { state_.request_counter = counter; }
  void save_replay_state(const channel::ReplayState& replay) override { state_.replay = replay; }

  // What a restarted agent starts from.
  const DurableState& state() const { return state_; }
  // The secret code drawn after a failed join, if any (else the device's first).
  const std::optional<enroll::SecretCode>& code() const { return code_; }

 private:
  DurableState state_;
  std::optional<enroll::SecretCode> code_;
};

}  // namespace kmchain::device
