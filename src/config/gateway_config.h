// One gateway's configuration file (TOML), written by `kmchain init` and read by
// `kmchain gateway --config FILE`. Paths are relative to the file's directory.
//
//   [gateway]    index, genesis, identity_key, certificate, data_dir: required;
//                submission_mode = "commit" | "sync" (default "commit")
//   [listen]     gateway, device, admin = "host:port": required
//   [consensus]  timeout_{propose,prevote,precommit}_ms and their _delta_ms, timeout_commit_ms,
//                block_transactions_max: optional (defaults of ledger::Timeouts and
//                consensus::ReplicaConfig)
//   [log]        level = "debug" | "info" | "warn" | "error" (default "info")
//
// Unknown tables and keys are refused: a misspelt option must not silently fall back to its
// default. Every error names the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/endpoint.h"
#include "base/result.h"
#include "config/config_error.h"
#include "ledger/submission_mode.h"
#include "ledger/timeouts.h"

namespace kmchain::config {

struct GatewayConfig {
  std::uint16_t index = 0;
  std::string genesis;
  std::string identity_key;
  std::string certificate;
  std::string data_dir;
  ledger::SubmissionMode submission_mode = ledger::SubmissionMode::kCommit;
  Endpoint listen_gateway;
  Endpoint listen_device;
  Endpoint listen_admin;
  ledger::Timeouts timeouts;
  std::uint32_t block_transactions_max = 256;
  std::string log_level = "info";
};

std::string render_gateway_config(const GatewayConfig& config);
Result<GatewayConfig, ConfigError> parse_gateway_config(std::string_view text);

}  // namespace kmchain::config
