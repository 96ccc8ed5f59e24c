// The genesis file every gateway of a consortium holds: the canonical genesis (ledger/genesis.h:
// name, time, validators' Ed25519 keys and powers, which the chain id hashes) and where each
// gateway listens. Addresses are not part of the chain id: a gateway may move without a new
// chain, and its peers authenticate it by its key, not its address.
//
// JSON, one object:
//   format            "kmchain-genesis/1"
//   name              string, at most limits::kGenesisNameBytesMax bytes
//   genesis_time_ms   integer, milliseconds since the Unix epoch
//   chain_id          64 hex digits: the hash of the canonical genesis, checked on load so that
//                     an edited file cannot silently start another chain
//   validators        array, in index order: {index, public_key (64 hex digits), power,
//                     gateway_address "host:port", device_address "host:port",
//                     pair_public_key (64 hex digits: the X25519 key of config/gateway_pair_key.h)}
// Unknown fields are refused (a typo must not pass silently).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/endpoint.h"
#include "base/result.h"
#include "config/config_error.h"
#include "ledger/genesis.h"

namespace kmchain::config {

inline constexpr const char* kGenesisFileFormat = "kmchain-genesis/1";

struct GatewayAddresses {
  Endpoint gateway;  // the gateway links (TLS over TCP)
  Endpoint device;   // the device endpoint (CoAP over UDP)
  friend bool operator==(const GatewayAddresses&, const GatewayAddresses&) = default;
};

struct GenesisFile {
  ledger::Genesis genesis;
  std::vector<GatewayAddresses> addresses;  // by validator index
  // By validator index: the keys gateways agree pair secrets with (config/gateway_pair_key.h).
  // Like the addresses, outside the chain id; a gateway checks its own against its identity.
  std::vector<std::array<std::uint8_t, 32>> pair_keys;
  friend bool operator==(const GenesisFile&, const GenesisFile&) = default;
};

// Renders a valid genesis file (checked), pretty-printed.
std::string render_genesis_file(const GenesisFile& file);
Result<GenesisFile, ConfigError> parse_genesis_file(std::string_view text);

}  // namespace kmchain::config
