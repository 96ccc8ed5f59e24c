// Gateways and device agents as real processes on loopback: joins, refused credentials that
// leave no trace on the ledger, bad datagrams at a gateway's device port and at a device, and
// replayed or forged D2D records.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "enroll/credential.h"
#include "enroll/join.h"
#include "enroll/secret_code.h"
#include "harness/child.h"
#include "io/coap_node.h"
#include "process_fixture.h"
#include "support/free_ports.h"

namespace kmchain::daemon {
namespace {

TEST_F(DeviceProcesses, UnknownOrWrongCredentialIsRefusedAndLeavesNoTraceOnTheLedger) {
  start_consortium(0);
  // Never admitted.
  make_device_dir("stranger", std::nullopt);
  // Admitted under its id, but the device holds another PSK.
  auto admitted = make_device_dir("impostor", 1);
  {
    crypto::OsRng rng;
    enroll::DeviceCredential wrong = enroll::DeviceCredential::generate(rng);
    wrong.id = admitted.id;
    std::ofstream(root_ / "impostor" / "credential.json")
        << enroll::render_credential_file(wrong).view();
  }
  Device& stranger = start_device("stranger", 1, static_cast<std::uint16_t>(port_ + 20));
  Device& impostor = start_device("impostor", 1, static_cast<std::uint16_t>(port_ + 21));
  ASSERT_TRUE(wait([&] { return stranger.find("join_refused") && impostor.find("join_refused"); }));
  EXPECT_NE(stranger.find("join_refused")
                .value_or(json::object())
                .value("reason", "")
                .find("unknown credential"),
            std::string::npos);
  EXPECT_NE(impostor.find("join_refused")
                .value_or(json::object())
                .value("reason", "")
                .find("bad credential mac"),
            std::string::npos);
  auto s = status(1);
  ASSERT_TRUE(s);
  // The devices say hello again now and then (the operator may admit them yet).
  EXPECT_GE((*s)["devices"]["refused"]["join: unknown credential"].get<int>(), 1);
  EXPECT_GE((*s)["devices"]["refused"]["join: bad credential mac"].get<int>(), 1);
  // Some blocks later: nothing on any gateway's ledger, no member, no pending transaction.
  const auto height = (*s)["height"].get<std::uint64_t>();
  ASSERT_TRUE(wait([&] {
    auto t = status(1);
    return t && (*t)["height"].get<std::uint64_t>() >= height + 3;
  }));
  for (int g = 0; g < 4; ++g) {
    EXPECT_EQ(transactions_on_chain(g), 0u) << "gateway " << g;
    auto sg = status(g);
    ASSERT_TRUE(sg) << "gateway " << g;
    EXPECT_EQ((*sg)["members"].get<int>(), 0);
    EXPECT_EQ((*sg)["mempool"].get<int>(), 0);
  }
}

TEST_F(DeviceProcesses, BadDatagramsAndReplayedOrForgedRecordsAreRefusedAndCounted) {
  start_consortium(1);
  make_device_dir("alice", 0);
  make_device_dir("bob", 2);
  Device& alice = start_device("alice", 0, static_cast<std::uint16_t>(port_ + 20));
  Device& bob = start_device("bob", 2, static_cast<std::uint16_t>(port_ + 21));
  ASSERT_TRUE(wait([&] { return alice.find("keys") && bob.find("keys"); }));
  // Both at the ledger's position (the second join refreshed the first device's keys).
  ASSERT_TRUE(wait([&] {
    auto a = alice.status();
    auto b = bob.status();
    auto s = status(0);
    return a && b && s && (*a)["position"] == (*s)["position"] &&
           (*b)["position"] == (*s)["position"];
  }));
  const auto bob_keys = bob.find("keys").value_or(json::object());
  const auto bob_node = bob.find("accepted").value_or(json::object()).value("node", 0u);

  // An eavesdropper: a CoAP endpoint that keeps what it is sent.
  asio::io_context io;
  io::CoapNode spy(io, {"127.0.0.1", static_cast<std::uint16_t>(port_ + 30)});
  std::vector<Bytes> captured;
  spy.on_post("d2d", [&](const Endpoint&, ByteView body) {
    captured.emplace_back(body.begin(), body.end());
    return io::CoapReply{};
  });
  spy.start();
  const auto run_io = [&](auto done) {
    const auto end = std::chrono::steady_clock::now() + 15s;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(20ms);
      io.restart();
    }
    return done();
  };

  json send = {{"cmd", "send"},
               {"peer", bob_node},
               {"set", bob_keys.value("set", 0u)},
               {"to", "127.0.0.1:" + std::to_string(bob.port)},
               {"text", "hello bob"},
               {"tag", 1},
               {"copy_to", json::array({"127.0.0.1:" + std::to_string(port_ + 30)})}};
  alice.process->send_line(send.dump());
  ASSERT_TRUE(run_io([&] { return !captured.empty(); }));
  ASSERT_TRUE(wait([&] { return bob.find("d2d").has_value(); }));
  EXPECT_EQ(bob.find("d2d").value_or(json::object()).value("text", ""), "hello bob");

  // Replayed and forged copies of the record, posted as new CoAP requests.
  const auto post = [&](const Endpoint& to, const std::string& path, const Bytes& body) {
    bool done = false;
    std::optional<io::CoapReply> reply;
    spy.post(to, path, body, [&](std::optional<io::CoapReply> r) {
      reply = std::move(r);
      done = true;
    });
    run_io([&] { return done; });
    return reply;
  };
  // The answer's code; 0 when nothing answered.
  const auto code_of = [](const std::optional<io::CoapReply>& r) {
    return r ? r->code : static_cast<io::CoapCode>(0);
  };
  const Endpoint bob_at{"127.0.0.1", bob.port};
  auto replayed = post(bob_at, "d2d", captured.front());
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->code, io::CoapCode::kBadRequest);
  Bytes forged = captured.front();
  forged.back() ^= 0x01;
  EXPECT_EQ(code_of(post(bob_at, "d2d", forged)), io::CoapCode::kBadRequest);
  Bytes retargeted = captured.front();
  retargeted[20] ^= 0x01;  // the counter, bound by the associated data
  EXPECT_EQ(code_of(post(bob_at, "d2d", retargeted)), io::CoapCode::kBadRequest);
  // Garbage at the device: a truncated record, a bad rekey message, an unknown path, non-CoAP.
  EXPECT_EQ(code_of(post(bob_at, "d2d", Bytes(10, 0x42))), io::CoapCode::kBadRequest);
  EXPECT_EQ(code_of(post(bob_at, "rekey", Bytes(40, 0x01))), io::CoapCode::kBadRequest);
  EXPECT_EQ(code_of(post(bob_at, "nothing-here", Bytes{1})), io::CoapCode::kNotFound);
  asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  for (const Bytes& g : {Bytes{0x00, 0x01}, Bytes{0x4F, 0x02, 0x00, 0x01}, Bytes{0xFF}}) {
    raw.send_to(asio::buffer(g),
                asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), bob.port));
    raw.send_to(asio::buffer(g),
                asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), device_port(0).port));
  }
  io.run_for(300ms);
  io.restart();

  auto b = bob.status();
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["d2d_received"].get<int>(), 1);
  EXPECT_EQ((*b)["d2d_errors"]["replayed"].get<int>(), 1) << b->dump();
  EXPECT_EQ((*b)["d2d_errors"]["authentication failed"].get<int>(), 2) << b->dump();
  EXPECT_EQ((*b)["d2d_errors"]["truncated"].get<int>(), 1) << b->dump();
  EXPECT_GE((*b)["rekey_errors"].size(), 1u) << b->dump();
  EXPECT_EQ((*b)["coap_unknown_paths"].get<int>(), 1);
  EXPECT_GE((*b)["coap_malformed_datagrams"].get<int>(), 1);
  // Bob still works: a fresh record opens.
  send["text"] = "still here";
  send["tag"] = 2;
  send.erase("copy_to");
  alice.process->send_line(send.dump());
  ASSERT_TRUE(wait([&] {
    auto s = bob.status();
    return s && (*s)["d2d_received"].get<int>() == 2;
  }));

  // At the gateway's device port: garbage, a truncated hello, a replayed hello, a forged request.
  const Endpoint gw0 = device_port(0);
  auto before = status(0);
  ASSERT_TRUE(before);
  EXPECT_EQ(code_of(post(gw0, "join", Bytes(7, 0x13))), io::CoapCode::kBadRequest);
  Bytes hello(enroll::kJoinHelloBytes, 0);
  hello[0] = enroll::kJoinVersion;
  hello.resize(hello.size() - 1);
  EXPECT_EQ(code_of(post(gw0, "join", hello)), io::CoapCode::kBadRequest);
  EXPECT_EQ(code_of(post(gw0, "req", Bytes(40, 0x01))), io::CoapCode::kBadRequest);
  Bytes request(32, 0);
  request[0] = 1;   // version
  request[1] = 1;   // leave
  request[5] = 1;   // node 1: alice, but no valid MAC
  request[13] = 9;  // counter
  EXPECT_NE(code_of(post(gw0, "req", request)), io::CoapCode::kChanged);
  io.run_for(200ms);
  auto after = status(0);
  ASSERT_TRUE(after);
  const auto& refused = (*after)["devices"]["refused"];
  EXPECT_GE(refused.size(), 3u) << refused.dump();
  EXPECT_GT((*after)["devices"]["coap"]["malformed_datagrams"].get<int>(), 0);
  // No state change: the same two members, nothing pending, no new transaction.
  EXPECT_EQ((*after)["members"], (*before)["members"]);
  EXPECT_EQ((*after)["mempool"].get<int>(), 0);
  EXPECT_EQ(transactions_on_chain(0), 2u);

  // Killed (-9) and started again, Bob still refuses the replay: its windows were durable
  // before each record was delivered (they used to live in memory only, and the record was
  // delivered a second time).
  bob.process->signal(SIGKILL);
  ASSERT_TRUE(bob.process->wait_for(5s).has_value());
  Device& bob_again = start_device("bob", 2, bob.port);
  ASSERT_TRUE(wait([&] {
    auto st = bob_again.status();
    return st && (*st)["node"].get<std::uint32_t>() == bob_node;
  }));
  EXPECT_EQ(code_of(post(bob_at, "d2d", captured.front())), io::CoapCode::kBadRequest);
  auto again = bob_again.status();
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["d2d_received"].get<int>(), 0) << again->dump();
  EXPECT_EQ((*again)["d2d_errors"]["replayed"].get<int>(), 1) << again->dump();
  EXPECT_FALSE(bob_again.find("d2d").has_value());
}

// A device that was down while the network changed catches up when it comes back: it resumes as
// the node it was (its state directory) and asks its gateway for what it missed.
TEST_F(DeviceProcesses, DeviceBackFromSleepCatchesUp) {
  start_consortium(3);
  make_device_dir("sleeper", 0);
  make_device_dir("peer", 0);
  Device* sleeper = &start_device("sleeper", 0, static_cast<std::uint16_t>(port_ + 20));
  Device& peer = start_device("peer", 0, static_cast<std::uint16_t>(port_ + 21));
  ASSERT_TRUE(wait([&] { return sleeper->find("keys") && peer.find("keys"); }));
  const auto node = sleeper->find("accepted").value_or(json::object()).value("node", 0u);
  sleeper->process->terminate();
  ASSERT_TRUE(sleeper->process->wait_for(5s).has_value());
  // Two joins while it sleeps: it misses their refreshes.
  make_device_dir("late1", 0);
  make_device_dir("late2", 1);
  Device& late1 = start_device("late1", 0, static_cast<std::uint16_t>(port_ + 22));
  Device& late2 = start_device("late2", 1, static_cast<std::uint16_t>(port_ + 23));
  ASSERT_TRUE(wait([&] { return late1.find("keys") && late2.find("keys"); }));
  sleeper = &start_device("sleeper", 0, static_cast<std::uint16_t>(port_ + 20));
  ASSERT_TRUE(wait([&] {
    auto s = status(0);
    auto st = sleeper->status();
    return s && st && (*st)["position"] == (*s)["position"];
  }));
  auto st = sleeper->status();
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["node"].get<std::uint32_t>(), node);  // the same node, no new join
  EXPECT_GE((*st)["catch_up_requests"].get<int>(), 1);
  auto s0 = status(0);
  ASSERT_TRUE(s0);
  EXPECT_GE((*s0)["devices"]["catch_ups"].get<int>(), 1);
  EXPECT_EQ((*s0)["members"].get<int>(), 4);
  // And it talks with the device that joined while it slept, in its set.
  const auto late_keys = late1.find("keys").value_or(json::object());
  sleeper->process->send_line(json{
      {"cmd", "send"},
      {"peer", late1.find("accepted").value_or(json::object()).value("node", 0u)},
      {"set", late_keys.value("set", 0u)},
      {"to", "127.0.0.1:" + std::to_string(late1.port)},
      {"text", "good morning"},
      {"tag", 1}}.dump());
  ASSERT_TRUE(wait([&] { return late1.find("d2d").has_value(); }));
}

// A gateway stopped and started again rebuilds every key it holds from its chain and its stored
// node keys: its devices get the refreshes of a later join and still talk.
TEST_F(DeviceProcesses, RestartedGatewayRebuildsItsKeysAndServesItsDevices) {
  start_consortium(2);
  make_device_dir("a", 0);
  make_device_dir("b", 0);
  Device& a = start_device("a", 0, static_cast<std::uint16_t>(port_ + 20));
  Device& b = start_device("b", 0, static_cast<std::uint16_t>(port_ + 21));
  ASSERT_TRUE(wait([&] { return a.find("keys") && b.find("keys"); }));
  gateways_[0]->terminate();
  ASSERT_EQ(gateways_[0]->wait_for(5s), 0);
  gateways_[0] = std::make_unique<Child>(
      std::vector<std::string>{KMCHAIN_BINARY, "gateway", "--config",
                               (root_ / "c" / "gateway-0" / "gateway.toml").string()},
      (root_ / "gw0-restart.log").string(), false);
  ASSERT_TRUE(wait([&] { return status(0).has_value(); }));
  make_device_dir("c", 1);
  Device& c = start_device("c", 1, static_cast<std::uint16_t>(port_ + 22));
  ASSERT_TRUE(wait([&] { return c.find("keys").has_value(); }));
  ASSERT_TRUE(wait([&] {
    auto s = status(0);
    auto sa = a.status();
    auto sb = b.status();
    return s && sa && sb && (*sa)["position"] == (*s)["position"] &&
           (*sb)["position"] == (*s)["position"];
  }));
  auto s0 = status(0);
  ASSERT_TRUE(s0);
  EXPECT_EQ((*s0)["devices"]["key_work_errors"].get<int>(), 0);
  const auto b_keys = b.find("keys").value_or(json::object());
  a.process->send_line(json{
      {"cmd", "send"},
      {"peer", b.find("accepted").value_or(json::object()).value("node", 0u)},
      {"set", b_keys.value("set", 0u)},
      {"to", "127.0.0.1:" + std::to_string(b.port)},
      {"text", "after the restart"},
      {"tag", 1}}.dump());
  ASSERT_TRUE(wait([&] { return b.find("d2d").has_value(); }));
  EXPECT_EQ(b.find("d2d").value_or(json::object()).value("text", ""), "after the restart");
}

}  // namespace
}  // namespace kmchain::daemon
