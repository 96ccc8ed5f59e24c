// Loading one gateway's files the way the daemon will at startup: its config, the genesis file
// it names, its identity key and certificate, each checked against the others, so that a
// misconfigured gateway stops with a message naming the file and field instead of joining the
// consortium half-right. Paths in the config are relative to the config file's directory.
//
// Checks beyond each file's own parser: the identity key is the genesis key of the configured
// index; the certificate is self-signed by that key; the listen addresses for gateway links and
// devices are the genesis' addresses of this gateway; the key file is not readable by group or
// others; the data directory exists and is a directory.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "config/config_error.h"
#include "config/gateway_config.h"
#include "config/genesis_file.h"
#include "crypto/sign.h"

namespace kmchain::io {

struct GatewayFiles {
  std::filesystem::path config_path;
  config::GatewayConfig config;
  config::GenesisFile genesis;
  crypto::Ed25519KeyPair identity;
  std::string certificate_pem;
  std::filesystem::path data_dir;  // resolved
};

// A configuration file read whole with read(2) straight into the returned string (a key file
// passes through no stream buffer that would be freed unwiped); refused above 1 MiB or if it is
// not a regular file. Errors name `field` and the path.
Result<std::string, config::ConfigError> read_config_file(const std::filesystem::path& path,
                                                          const std::string& field);

// An Ed25519 private key in PEM, refused if group or others may read the file.
Result<crypto::Ed25519KeyPair, config::ConfigError> load_private_key_file(
    const std::filesystem::path& path, const std::string& field);

// Errors name the file's field ("gateway.identity_key: ...") or, for a file's own content, the
// file ("../genesis.json: chain_id: ...").
Result<GatewayFiles, config::ConfigError> load_gateway_files(const std::filesystem::path& config);

}  // namespace kmchain::io
