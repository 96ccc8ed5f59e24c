// One gateway's configuration file (TOML), written by `kmchain init` and read by
// `kmchain gateway --config FILE`. Paths are relative to the file's directory.
//
//   [gateway]    index, genesis, identity_key, certificate, data_dir: required;
//                submission_mode = "commit" | "sync" (default "commit")
//   [listen]     gateway, device, admin = "host:port" with an IP address: required
//   [admin]      operator_keys = ["64 hex digits", ...]: the Ed25519 keys of the operators the
//                admin endpoint accepts (mutual TLS, daemon/admin_server.h): 1..16, required
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
#include <vector>

#include "base/endpoint.h"
#include "base/result.h"
#include "config/config_error.h"
#include "crypto/sign.h"
#include "ledger/submission_mode.h"
#include "ledger/timeouts.h"

namespace kmchain::config {

inline constexpr std::size_t kOperatorKeysMax = 16;

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
  std::vector<crypto::Ed25519PublicKey> operator_keys;
  ledger::Timeouts timeouts;
  std::uint32_t block_transactions_max = 256;
  std::string log_level = "info";
};

std::string render_gateway_config(const GatewayConfig& config);
Result<GatewayConfig, ConfigError> parse_gateway_config(std::string_view text);

}  // namespace kmchain::config
