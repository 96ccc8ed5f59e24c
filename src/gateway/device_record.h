// What a gateway keeps durably about the devices it serves: the credentials the operator
// admitted and the records of the devices that joined through it. The node holds them in memory
// and every change leaves as a Put/Erase action that the shell makes durable before anything the
// change allows is answered (gateway/actions.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/ids.h"
#include "crypto/secret.h"
#include "enroll/credential.h"

namespace kmchain::gateway {

struct CredentialRecord {
  enroll::DeviceCredential credential;
  // The device that joined with it. A credential admits one device; it is free again only when
  // that device's join failed for good (the device may then try again).
  std::optional<NodeId> used_by;
};

struct DeviceRecord {
  NodeId node;
  crypto::Key128 node_key;
  Endpoint endpoint;  // where the device listens for pushed key messages
  enroll::CredentialId credential{};
  Bytes hello;  // the hello it joined with: a repeated hello gets the same accept
  Bytes accept;
  std::uint64_t request_counter = 0;  // the last authenticated request acted on
  // Set when the join will never be final (its commitment is used by another device): kept,
  // with the node key, to tell the device so in an authenticated reply; the credential is free.
  std::string join_failure;
};

}  // namespace kmchain::gateway
