// What the operator's one-shot commands read and write, so that apps/ parses arguments only: a
// gateway's files checked together as the daemon checks them at startup, the operator's key and
// the genesis its gateways are pinned to, and a new device credential file.
#pragma once

#include <string>

#include "base/result.h"
#include "daemon/admin_server.h"
#include "enroll/credential.h"

namespace kmchain::daemon {

// Loads the gateway's config, genesis, key and certificate as `kmchain gateway` would: a
// description of what it would run as, or the first problem with the file and field named.
Result<std::string, std::string> check_gateway_config(const std::string& config_path);

// The operator's Ed25519 key (a PEM file only its owner may read, as `kmchain init` writes
// DIR/operator.key) and the keys of the gateways of `genesis_path` that the endpoint may present.
Result<OperatorCredentials, std::string> load_operator_credentials(const std::string& key_path,
                                                                   const std::string& genesis_path);

// Writes `credential` as a new file, mode 0600, durably; an existing file is never replaced.
Status<std::string> write_credential_file(const std::string& path,
                                          const enroll::DeviceCredential& credential);

}  // namespace kmchain::daemon
