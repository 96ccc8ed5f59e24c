// Raw CoAP datagrams for tests that play a hostile client: the first block of a block-wise POST
// (optionally announcing its total size with Size1), the code and Size1 of an answer, and one
// datagram from each of many sockets (each socket is a session to the server).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "io/asio.h"

namespace kmchain::testing {

// A raw CoAP POST to /`path` carrying the first block of a block-wise body (Block1 num 0,
// more to come, 1024-byte blocks), announcing `size1` bytes in all when given.
inline Bytes first_block(const std::string& path, std::optional<std::uint32_t> size1,
                         std::uint16_t message_id, std::uint32_t block_num = 0) {
  Bytes d{0x40, 0x02, static_cast<std::uint8_t>(message_id >> 8),
          static_cast<std::uint8_t>(message_id)};
  d.push_back(static_cast<std::uint8_t>(0xB0 | path.size()));  // Uri-Path (11)
  d.insert(d.end(), path.begin(), path.end());
  const std::uint8_t block = static_cast<std::uint8_t>((block_num << 4) | 0x08 | 6);
  d.insert(d.end(), {0xD1, 27 - 11 - 13, block});  // Block1 (27), one byte
  if (size1) {
    d.insert(d.end(), {0xD4, 60 - 27 - 13});  // Size1 (60), four bytes
    for (int shift = 24; shift >= 0; shift -= 8)
      d.push_back(static_cast<std::uint8_t>(*size1 >> shift));
  }
  d.push_back(0xFF);
  d.insert(d.end(), 1024, 0xAB);
  return d;
}

// The code of a CoAP answer and its Size1 option, if any.
struct Answer {
  std::uint8_t code = 0;
  std::optional<std::uint32_t> size1;
};
inline std::optional<Answer> parse_answer(const std::uint8_t* p, std::size_t n) {
  if (n < 4) return std::nullopt;
  Answer a{p[1], std::nullopt};
  std::size_t i = 4 + (p[0] & 0x0F);
  unsigned number = 0;
  while (i < n && p[i] != 0xFF) {
    unsigned delta = p[i] >> 4;
    unsigned length = p[i] & 0x0F;
    ++i;
    if (delta == 13) delta = 13u + p[i++];
    if (length == 13) length = 13u + p[i++];
    number += delta;
    if (i + length > n) return std::nullopt;
    if (number == 60) {
      std::uint32_t v = 0;
      for (unsigned k = 0; k < length; ++k)
        v = (v << 8) | p[i + k];
      a.size1 = v;
    }
    i += length;
  }
  return a;
}

// The virtual memory (VmSize) of a process (this one by default) in kB, or 0.
inline std::uint64_t virtual_kb(const std::string& pid = "self") {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7));
  }
  return 0;
}

// Sends one datagram from each of `sockets` and collects the answers, 32 sockets at a time
// (each batch waits for its answers, up to 5 s, so that no datagram is lost to a full receive
// buffer: what is measured is the server, not UDP).
inline std::vector<Answer> exchange(asio::io_context& io,
                                    std::vector<asio::ip::udp::socket>& sockets,
                                    const asio::ip::udp::endpoint& to,
                                    const std::function<Bytes(std::size_t)>& datagram) {
  constexpr std::size_t kBatch = 32;
  std::vector<Answer> answers;
  std::array<std::uint8_t, 2048> buffer{};
  for (std::size_t first = 0; first < sockets.size(); first += kBatch) {
    const std::size_t end = std::min(sockets.size(), first + kBatch);
    for (std::size_t i = first; i < end; ++i)
      sockets[i].send_to(asio::buffer(datagram(i)), to);
    std::vector<bool> got(end - first, false);
    std::size_t answered = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (answered < end - first && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(1));
      io.restart();
      for (std::size_t i = first; i < end; ++i) {
        if (got[i - first] || sockets[i].available() == 0) continue;
        const std::size_t n = sockets[i].receive(asio::buffer(buffer));
        if (auto a = parse_answer(buffer.data(), n)) answers.push_back(*a);
        got[i - first] = true;
        ++answered;
      }
    }
  }
  return answers;
}

inline constexpr std::uint8_t kCode413 = 0x8D;
inline constexpr std::uint8_t kCode408 = 0x88;
inline constexpr std::uint8_t kCode231 = 0x5F;
inline constexpr std::uint8_t kCode503 = 0xA3;

}  // namespace kmchain::testing
