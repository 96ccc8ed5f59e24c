// The Layer-1 churn simulator: random joins, leaves and evictions through the real key
// manager and real device keyrings, with the design's invariants checked after every
// operation (see docs/key-scheme.md):
//   1. agreement: every current device holds exactly the keys the design gives it, with the
//      values the design gives them (so every pair derives the same DEK, and the right one);
//   2. shape: set sizes and the number of sets stay within the bounds of docs/protocol.md section
//   2;
//   3. forward secrecy: no departed device can decrypt any later rekey message, or holds any
//      key in use;
//   4. backward secrecy: a device placed into a set receives no key value in use before.
// A run replays exactly from its seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "keys/key_manager.h"

namespace kmchain::sim {

struct KeySimConfig {
  std::size_t devices = 100;  // population reached by joins before churn starts
  // Churn operations after that. The population follows a wave through them: down to a
  // quarter of `devices` halfway, then back.
  std::size_t ops = 1000;
  std::uint64_t seed = 1;
  std::size_t gateways = 1;
  // Departed devices that actually try to decrypt every later message with every KEK they
  // held (all departed devices are checked by key value; these also by decryption).
  std::size_t watchers = 8;
  // Every this many operations, every device is compared in full (in between, the devices
  // and keys an operation touched).
  std::size_t full_check_every = 250;
  keys::Fault fault = keys::Fault::kNone;
};

struct KeySimStats {
  std::size_t joins = 0;
  std::size_t leaves = 0;
  std::size_t evictions = 0;
  std::size_t reorder_moves = 0;
  std::size_t dissolved_sets = 0;
  std::size_t steps = 0;
  std::map<std::string, std::size_t> messages_by_kind;  // sealed messages
  std::size_t deliveries = 0;                           // message arrivals at devices
  std::size_t wire_bytes = 0;
  std::size_t rejected_forgeries = 0;  // replayed/tampered copies the keyrings refused
  std::size_t decrypt_attempts_by_departed = 0;
  std::size_t final_devices = 0;
  std::size_t final_sets = 0;
  std::size_t max_set_size = 0;
  std::size_t max_sets = 0;
  std::size_t min_keys_per_device = 0;
  std::size_t max_keys_per_device = 0;
  std::size_t pairs_checked = 0;
  // Messages per operation kind (join, leave, evict): total sealed messages and operations.
  std::map<std::string, std::pair<std::size_t, std::size_t>> messages_per_operation;
};

struct KeySimResult {
  bool ok = true;
  std::string invariant;      // which invariant broke (empty when ok)
  std::string detail;         // for which devices, and how
  std::size_t operation = 0;  // the operation that broke it (1-based, joins included)
  KeySimStats stats;
};

KeySimResult run_key_sim(const KeySimConfig& config,
                         const std::function<void(const std::string&)>& progress = {});

}  // namespace kmchain::sim
