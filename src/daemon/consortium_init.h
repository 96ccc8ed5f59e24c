// `kmchain init`: creates a consortium on this machine - per gateway an Ed25519 identity, its
// self-signed certificate for the gateway links, a data directory and a config; one genesis
// file for all, and the operator's key, which every gateway's admin endpoint accepts:
//
//   DIR/genesis.json  DIR/operator.key (0600)
//   DIR/gateway-I/identity.key (0600)  identity.crt  gateway.toml  data/
//
// Gateway I listens on base_port + 3I (links), + 1 (devices) and + 2 (admin). It refuses a
// directory that exists and is not empty: it never overwrites keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ledger/timeouts.h"

namespace kmchain::daemon {

struct InitOptions {
  std::size_t gateways = 4;
  std::string dir;
  std::string name = "kmchain";  // the consortium's name (part of the chain id)
  std::string host = "127.0.0.1";
  unsigned base_port = 17100;
  unsigned certificate_days = 825;
  std::string submission_mode = "commit";  // "commit" or "sync"
  std::uint64_t timeout_commit_ms = ledger::Timeouts{}.commit_ms;
};

// Writes the consortium and prints where; the process exit code (0, 1 if a file or directory
// could not be written, 2 for options that make no consortium or a directory in use).
int run_init(const InitOptions& options);

}  // namespace kmchain::daemon
