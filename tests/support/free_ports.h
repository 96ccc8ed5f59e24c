// A run of free loopback ports for tests that start processes: below Linux's ephemeral range
// (32768 and up by default), so that no outgoing connection of another process takes one
// between the probe and the bind, and probed for TCP and UDP alike.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>

namespace kmchain::testing {

inline bool port_free(std::uint16_t port) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

// The first port of `count` consecutive free ports in [20000, 32000).
inline std::uint16_t free_port_range(unsigned count) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) * 7919u + std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto base = static_cast<std::uint16_t>(20000 + rng() % (12000 - count));
    bool all = true;
    for (unsigned p = 0; p < count && all; ++p)
      all = port_free(static_cast<std::uint16_t>(base + p));
    if (all) return base;
  }
  return 0;
}

}  // namespace kmchain::testing
