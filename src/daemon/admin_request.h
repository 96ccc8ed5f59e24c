// The operator's requests to a gateway, parsed from their JSON into types before anything acts
// on them. Every field is checked for its type and range; a request that is wrong gets an
// error naming the field, never an exception.
//
//   {"op":"status"}                                  height, hashes, members, peers, figures
//   {"op":"members"}                                 every set with its owner and members
//   {"op":"chain","from":H,"count":C}                blocks from H (default 1), at most C
//                                                    (default 100, 1..kChainBlocksMax)
//   {"op":"evict","node":N}                          N in 1..2^32-1: submits its eviction
//   {"op":"admit","credential_id":HEX,"psk":HEX}     admits a device credential
//
// Fields a request does not use are refused too: a misspelt field must not fall back to its
// default silently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "base/ids.h"
#include "base/result.h"
#include "enroll/credential.h"

namespace kmchain::daemon {

// Blocks one chain request may return.
inline constexpr std::uint64_t kChainBlocksMax = 1000;
// Heights a chain request may start from: what a JSON reader can hold exactly.
inline constexpr std::uint64_t kChainFromMax = (std::uint64_t{1} << 53) - 1;

struct StatusRequest {};
struct MembersRequest {};
struct ChainRequest {
  std::uint64_t from = 1;
  std::uint64_t count = 100;
};
struct EvictRequest {
  NodeId node;
};
struct AdmitRequest {
  enroll::DeviceCredential credential;
};

using AdminRequest =
    std::variant<StatusRequest, MembersRequest, ChainRequest, EvictRequest, AdmitRequest>;

// The request, or an error that names the field (or the op) that is wrong.
Result<AdminRequest, std::string> parse_admin_request(const nlohmann::json& request);

// The same from a request line, for the endpoint and the fuzzer: malformed JSON is an error too.
Result<AdminRequest, std::string> parse_admin_request(std::string_view line);

// The op's name, for logs.
const char* op_name(const AdminRequest& request);

}  // namespace kmchain::daemon
