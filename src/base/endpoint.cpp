#include "base/endpoint.h"

#include <arpa/inet.h>

#include <charconv>

namespace kmchain {

Result<Endpoint, std::string> parse_endpoint(std::string_view text) {
  const std::string expected = "expected host:port, got '" + std::string(text) + "'";
  Endpoint e;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Err{expected};
    e.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Err{expected};
    e.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (e.host.find(':') != std::string::npos) return Err{expected + " (bracket IPv6 hosts)"};
  }
  if (e.host.empty() || e.host.find_first_of(" \t\r\n") != std::string::npos) return Err{expected};
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Err{"port must be 1..65535 in '" + std::string(text) + "'"};
  }
  e.port = static_cast<std::uint16_t>(value);
  return e;
}

std::string to_string(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

bool is_ip_address(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace kmchain
