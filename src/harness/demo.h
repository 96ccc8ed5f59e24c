// kmchain demo: the main job. A consortium of gateways and a population of devices as separate
// processes on loopback, through every flow a user exercises:
//
//   1. `kmchain init`, then the gateways start and decide blocks over their pinned TLS mesh;
//   2. the operator admits one credential per device, spread over all gateways; every device
//      joins (PSK-authenticated X25519, a join transaction, its key bundle once final);
//   3. devices exchange D2D records within their set and across sets and gateways;
//   4. one device leaves, one is evicted by the operator (itself a transaction);
//   5. records flow again, and copies of all of them reach the departed and the evicted device,
//      which try every key they ever held: they must open none.
// It prints a short summary, writes summary.json in the run directory, stops every process it
// started, and exits 0 only if every step succeeded.
//
// The processes are this executable's own `init`, `gateway` and `device` subcommands
// (self_executable() in harness/child.h): only the kmchain binary runs the demo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kmchain::harness {

struct DemoOptions {
  std::size_t gateways = 4;
  std::size_t devices = 40;
  std::string dir;         // the run directory; empty: runs/demo-<time>
  unsigned base_port = 0;  // 0: a free range
  std::string mode = "commit";
  std::uint64_t timeout_commit_ms = 200;
  std::uint64_t deadline_s = 100;
  std::uint64_t burst = 1000;
};

// Runs the demo to the end (or its first failure, Ctrl-C or SIGTERM); the process exit code.
int run_demo(const DemoOptions& options);

}  // namespace kmchain::harness
