// CoapNode on loopback: requests and answers larger than a datagram (block-wise), unknown
// paths, garbage datagrams, a peer that never answers, and block-wise requests that announce
// or send more than a path takes.
#include "io/coap_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/coap_raw.h"

namespace kmchain::io {
namespace {

Endpoint loopback(std::uint16_t port) {
  return {"127.0.0.1", port};
}

// Runs the io_context until `done` or a deadline.
void run_until(asio::io_context& io, const bool& done, int seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
}

TEST(CoapNode, LargeRequestAndAnswerTravelBlockWise) {
  asio::io_context io;
  CoapNode server(io, loopback(18931));
  Bytes seen;
  server.on_post("echo", [&](const Endpoint& from, ByteView body) {
    EXPECT_EQ(from.host, "127.0.0.1");
    seen.assign(body.begin(), body.end());
    Bytes reversed(body.rbegin(), body.rend());
    return CoapReply{CoapCode::kChanged, reversed};
  });
  server.start();
  CoapNode client(io, loopback(18932));
  client.start();

  Bytes body(5000);
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<std::uint8_t>(i * 7);
  std::optional<CoapReply> reply;
  bool done = false;
  client.post(loopback(18931), "echo", body, [&](std::optional<CoapReply> r) {
    reply = std::move(r);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(done);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, CoapCode::kChanged);
  EXPECT_EQ(seen, body);
  EXPECT_EQ(reply->payload, Bytes(body.rbegin(), body.rend()));
}

TEST(CoapNode, UnknownPathIsNotFoundAndCounted) {
  asio::io_context io;
  CoapNode server(io, loopback(18933));
  server.on_post("known", [](const Endpoint&, ByteView) { return CoapReply{}; });
  server.start();
  CoapNode client(io, loopback(18934));
  client.start();
  std::optional<CoapReply> reply;
  bool done = false;
  client.post(loopback(18933), "unknown", Bytes{1, 2, 3}, [&](std::optional<CoapReply> r) {
    reply = std::move(r);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, CoapCode::kNotFound);
  EXPECT_EQ(server.stats().unknown_paths, 1u);
}

TEST(CoapNode, GarbageDatagramsAreCountedAndServiceGoesOn) {
  asio::io_context io;
  CoapNode server(io, loopback(18935));
  int calls = 0;
  server.on_post("x", [&](const Endpoint&, ByteView) {
    ++calls;
    return CoapReply{};
  });
  server.start();
  const std::uint64_t before = coap_malformed_datagrams();
  asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"), 18935);
  // A version-0 header, a token length above 8, and a truncated option.
  for (const Bytes& garbage : {Bytes{0x00, 0x01, 0x02, 0x03}, Bytes{0x4F, 0x02, 0x00, 0x01},
                               Bytes{0x40, 0x02, 0x00, 0x01, 0xB5, 'a'}, Bytes{0xFF}}) {
    raw.send_to(asio::buffer(garbage), target);
  }
  io.run_for(std::chrono::milliseconds(300));
  io.restart();
  EXPECT_GT(coap_malformed_datagrams(), before);
  EXPECT_EQ(calls, 0);

  CoapNode client(io, loopback(18936));
  client.start();
  bool done = false;
  std::optional<CoapReply> reply;
  client.post(loopback(18935), "x", Bytes{}, [&](std::optional<CoapReply> r) {
    reply = std::move(r);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(calls, 1);
}

TEST(CoapNode, SilentPeerEndsWithNoAnswer) {
  asio::io_context io;
  asio::ip::udp::socket silent(io,
                               asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 18937));
  CoapNode client(io, loopback(18938));
  client.start();
  bool done = false;
  std::optional<CoapReply> reply{CoapReply{}};
  client.post(loopback(18937), "x", Bytes{1}, [&](std::optional<CoapReply> r) {
    reply = std::move(r);
    done = true;
  });
  run_until(io, done, 30);
  EXPECT_TRUE(done);
  EXPECT_FALSE(reply.has_value());
  EXPECT_EQ(client.stats().posts_failed, 1u);
}

}  // namespace
}  // namespace kmchain::io

namespace kmchain::io {
namespace {

TEST(CoapNode, PostsChainedFromAnAnswerAllArrive) {
  asio::io_context io;
  CoapNode server(io, loopback(18939));
  int calls = 0;
  server.on_post("x", [&](const Endpoint&, ByteView) {
    ++calls;
    return CoapReply{};
  });
  server.start();
  CoapNode client(io, loopback(18940));
  client.start();
  int answered = 0;
  std::function<void(int)> next = [&](int left) {
    client.post(loopback(18939), "x", Bytes(200, 7), [&, left](std::optional<CoapReply> r) {
      if (r) ++answered;
      if (left > 1) next(left - 1);
    });
  };
  next(5);
  bool done = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (answered < 5 && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
  (void)done;
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(answered, 5);
}

}  // namespace
}  // namespace kmchain::io

namespace kmchain::io {
namespace {

// Tokens are drawn per session: answers from two peers at once must reach their own posts.
TEST(CoapNode, ConcurrentPostsToSeveralPeersEachGetTheirAnswer) {
  asio::io_context io;
  std::vector<std::unique_ptr<CoapNode>> servers;
  for (std::uint16_t i = 0; i < 4; ++i) {
    servers.push_back(
        std::make_unique<CoapNode>(io, loopback(static_cast<std::uint16_t>(18941 + i))));
    servers.back()->on_post("x", [i](const Endpoint&, ByteView) {
      return CoapReply{CoapCode::kChanged, Bytes{static_cast<std::uint8_t>(i)}};
    });
    servers.back()->start();
  }
  CoapNode client(io, loopback(18949));
  client.start();
  std::map<int, std::vector<std::uint8_t>> answers;
  for (int round = 0; round < 3; ++round) {
    for (std::uint16_t i = 0; i < 4; ++i) {
      client.post(loopback(static_cast<std::uint16_t>(18941 + i)), "x", Bytes{1},
                  [&answers, i](std::optional<CoapReply> r) {
                    if (r && !r->payload.empty()) answers[i].push_back(r->payload[0]);
                  });
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto total = [&] {
    std::size_t n = 0;
    for (const auto& [i, v] : answers)
      n += v.size();
    return n;
  };
  while (total() < 12 && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(answers[i], std::vector<std::uint8_t>(3, static_cast<std::uint8_t>(i))) << i;
  }
}

}  // namespace
}  // namespace kmchain::io

namespace kmchain::io {
namespace {

using testing::Answer;
using testing::exchange;
using testing::first_block;
using testing::kCode231;
using testing::kCode408;
using testing::kCode413;
using testing::kCode503;
using testing::virtual_kb;

// libcoap 4.3.1 reserved the whole body a first block announces (Size1), up to 4 GiB per
// session; a body above the path's bound is now refused with its bound before anything is kept.
TEST(CoapBlockWise, AnnouncedBodiesAboveThePathBoundAreRefusedBeforeAnythingIsReserved) {
  asio::io_context io;
  CoapNode server(io, loopback(18941));
  int calls = 0;
  server.on_post(
      "join",
      [&](const Endpoint&, ByteView) {
        ++calls;
        return CoapReply{};
      },
      131);
  server.start();
  const std::uint64_t before_kb = virtual_kb();
  std::vector<asio::ip::udp::socket> sockets;
  for (int i = 0; i < 500; ++i)
    sockets.emplace_back(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  const asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"), 18941);
  const auto answers = exchange(io, sockets, target, [](std::size_t i) {
    return first_block("join", 0xFFFFFFFFu, static_cast<std::uint16_t>(i));
  });
  const std::uint64_t after_kb = virtual_kb();
  ASSERT_EQ(answers.size(), sockets.size());
  for (const Answer& a : answers) {
    EXPECT_EQ(a.code, kCode413);
    EXPECT_EQ(a.size1, 131u);
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(server.stats().bodies_too_large, sockets.size());
  // 500 sessions: tens of MB at most, not 500 reservations of gigabytes.
  // (AddressSanitizer's allocator reserves address space in large regions of its own.)
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::uint64_t kVirtualGrowthMaxKb = 1024 * 1024;
#else
  constexpr std::uint64_t kVirtualGrowthMaxKb = 64 * 1024;
#endif
  EXPECT_LT(after_kb, before_kb + kVirtualGrowthMaxKb)
      << "VmSize " << before_kb << " -> " << after_kb;
  std::printf("VmSize %llu kB -> %llu kB after 500 first blocks announcing 4 GiB\n",
              static_cast<unsigned long long>(before_kb),
              static_cast<unsigned long long>(after_kb));
}

TEST(CoapBlockWise, BodiesSentBeyondTheBoundOutOfOrderOrTooManyAtOnceAreRefused) {
  asio::io_context io;
  CoapNode server(io, loopback(18942));
  int calls = 0;
  server.on_post(
      "small",
      [&](const Endpoint&, ByteView) {
        ++calls;
        return CoapReply{};
      },
      2000);
  server.on_post(
      "big",
      [&](const Endpoint&, ByteView) {
        ++calls;
        return CoapReply{};
      },
      kCoapBodyBytesMax);
  server.start();
  CoapNode client(io, loopback(18943));
  client.start();

  // Sent block-wise with no Size1 (libcoap's client): refused at the block that passes 2000.
  std::optional<CoapReply> reply;
  bool done = false;
  client.post(loopback(18942), "small", Bytes(5000, 1), [&](std::optional<CoapReply> r) {
    reply = std::move(r);
    done = true;
  });
  run_until(io, done);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, CoapCode::kTooLarge);
  EXPECT_EQ(calls, 0);

  const asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"), 18942);
  // A block that starts in the middle of a transfer this endpoint does not hold.
  std::vector<asio::ip::udp::socket> one;
  one.emplace_back(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  auto answers = exchange(io, one, target, [](std::size_t) {
    return first_block("big", std::nullopt, 7, /*block_num=*/3);
  });
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].code, kCode408);

  // At most kCoapTransfersMax transfers in progress.
  std::vector<asio::ip::udp::socket> many;
  for (std::size_t i = 0; i < kCoapTransfersMax + 6; ++i)
    many.emplace_back(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  answers = exchange(io, many, target, [](std::size_t i) {
    return first_block("big", std::nullopt, static_cast<std::uint16_t>(100 + i));
  });
  ASSERT_EQ(answers.size(), many.size());
  EXPECT_EQ(std::count_if(answers.begin(), answers.end(),
                          [](const Answer& a) { return a.code == kCode231; }),
            static_cast<std::ptrdiff_t>(kCoapTransfersMax));
  EXPECT_EQ(std::count_if(answers.begin(), answers.end(),
                          [](const Answer& a) { return a.code == kCode503; }),
            6);
  EXPECT_EQ(server.stats().transfers_refused, 6u);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace kmchain::io
