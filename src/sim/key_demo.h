// The in-process demo of the Layer-1 key scheme (the main job until the networked consortium
// exists): devices join, talk to each other under their DEKs, some leave and some are
// evicted, traffic flows again, and the evicted devices try to read everything sent after
// they left. Every message goes through the real key manager and device keyrings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kmchain::sim {

struct DemoConfig {
  std::size_t devices = 100;
  std::size_t gateways = 1;
  std::size_t leaves = 3;
  std::size_t evictions = 2;
  std::size_t late_joins = 4;
  std::size_t d2d_per_round = 200;
  std::uint64_t seed = 1;
};

struct DemoPhase {
  std::string name;
  std::size_t devices = 0;
  std::size_t sets = 0;
  std::size_t keys_min = 0;
  std::size_t keys_max = 0;
  std::size_t operations = 0;
  std::size_t rekey_messages = 0;  // sealed messages for this phase's operations
  std::size_t deliveries = 0;
  std::size_t d2d_sent = 0;
  std::size_t d2d_delivered = 0;
};

struct DemoReport {
  std::vector<DemoPhase> phases;
  std::size_t rekey_messages_after_eviction = 0;
  std::size_t d2d_after_eviction = 0;
  // What the evicted devices managed to read of everything sent after their eviction.
  std::size_t rekey_decrypted_by_evicted = 0;
  std::size_t d2d_decrypted_by_evicted = 0;
  bool ok = false;
  std::string failure;
};

DemoReport run_key_demo(const DemoConfig& config);

}  // namespace kmchain::sim
