// kmchain loadgen: many device agents in one process, for measurements at a scale where one
// process per device would measure the machine instead of kmchain. Each agent is the same
// core as `kmchain device` (device/agent.h) with its own CoAP endpoint and port; state is kept
// in memory (nothing survives the run). It admits one credential per device at the gateways'
// admin endpoints (round robin), joins at most `concurrency` devices at a time, waits until
// every keyring is at the ledger's position, and prints one JSON object with the figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kmchain::harness {

struct LoadgenOptions {
  std::string genesis;              // the consortium's genesis file
  std::string operator_key;         // the operator's key file (kmchain init's operator.key)
  std::vector<std::string> admins;  // the gateways' admin endpoints, host:port
  std::size_t devices = 1000;
  unsigned base_port = 40000;  // device d listens on base_port + d
  std::size_t concurrency = 32;
  std::uint64_t deadline_s = 600;
};

// Runs the load to the end or its deadline; the process exit code: 0 once every keyring is at
// the ledger's position, 1 if a gateway refused an admission or the deadline passed first, 2 for
// an unreadable genesis or key file or a malformed admin endpoint.
int run_loadgen(const LoadgenOptions& options);

}  // namespace kmchain::harness
