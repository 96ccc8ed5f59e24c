// A listening or peer address: "host:port", an IPv6 host in brackets ("[::1]:7100").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kmchain {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// The host must be non-empty and free of spaces; the port 1..65535. The error says what was
// expected.
Result<Endpoint, std::string> parse_endpoint(std::string_view text);
std::string to_string(const Endpoint& e);

// An IPv4 or IPv6 address literal (what a listening socket binds; names are not resolved).
bool is_ip_address(const std::string& host);

}  // namespace kmchain
