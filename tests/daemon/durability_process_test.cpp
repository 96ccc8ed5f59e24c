// What a gateway acknowledged survives its restarts, as real processes on loopback: a join
// accepted while the other gateways were down and its gateway restarted before any peer heard of
// it, and a stream of joins through a gateway killed with SIGKILL again and again.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process_fixture.h"

namespace kmchain::daemon {
namespace {

void kill_hard(Child& c) {
  ::kill(c.pid(), SIGKILL);
  (void)c.wait_for(10s);
}

// The lost join: gateways 1-3 down, the device accepted at gateway 0 (its transaction
// in gateway 0's mempool alone), gateway 0 restarted, then the others started.
TEST_F(DeviceProcesses, AJoinAcceptedBeforeARestartIsNotLost) {
  start_consortium(4);
  for (std::size_t g = 1; g < 4; ++g) {
    gateways_[g]->terminate();
    ASSERT_EQ(gateways_[g]->wait_for(10s), 0);
  }
  make_device_dir("d", 0);
  Device& d = start_device("d", 0, static_cast<std::uint16_t>(port_ + 20));
  ASSERT_TRUE(wait([&] { return d.find("accepted").has_value(); }));
  auto before = status(0);
  ASSERT_TRUE(before);
  EXPECT_EQ((*before)["devices"]["pending_transactions"].get<int>(), 1);
  EXPECT_EQ((*before)["members"].get<int>(), 0);
  gateways_[0]->terminate();
  ASSERT_EQ(gateways_[0]->wait_for(10s), 0);
  gateways_[0] = start_gateway(0);
  ASSERT_TRUE(wait([&] { return status(0).has_value(); }));
  for (std::size_t g = 1; g < 4; ++g)
    gateways_[g] = start_gateway(static_cast<int>(g));
  ASSERT_TRUE(wait([&] { return d.find("keys").has_value(); }, 60s));
  ASSERT_TRUE(wait([&] {
    for (int g = 0; g < 4; ++g) {
      auto s = status(g);
      if (!s || (*s)["members"].get<int>() != 1) return false;
    }
    return true;
  }));
  auto after = status(0);
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["devices"]["pending_transactions"].get<int>(), 0);
  EXPECT_EQ((*after)["devices"]["homed"].get<int>(), 1);
}

// Joins keep coming through all four gateways while gateway 1 is killed with SIGKILL and
// started again, over and over: in the end every device holds its keys and every gateway counts
// every device, whatever each kill interrupted.
TEST_F(DeviceProcesses, KillNineLoopDuringAStreamOfJoinsLosesNoJoin) {
  start_consortium(5);
  constexpr int kDevices = 16;
  constexpr int kKills = 8;
  std::vector<Device*> devices;
  int started = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    // Two devices join, one of them through the gateway about to die.
    for (int k = 0; k < 2 && started < kDevices; ++k, ++started) {
      const int g = started % 4;
      const std::string name = "dev" + std::to_string(started);
      const auto credential = make_device_dir(name, std::nullopt);
      // The operator admits it (again, until the gateway answers: it may be restarting).
      ASSERT_TRUE(wait([&] {
        auto r = request(g, {{"op", "admit"},
                             {"credential_id", to_hex(credential.id)},
                             {"psk", to_hex(credential.psk.view())}});
        return r && r->value("ok", false);
      }));
      devices.push_back(&start_device(name, g, static_cast<std::uint16_t>(port_ + 20 + started)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 70 * (kill % 4)));
    kill_hard(*gateways_[1]);
    std::this_thread::sleep_for(200ms);
    gateways_[1] = start_gateway(1);
  }
  while (started < kDevices) {
    const std::string name = "dev" + std::to_string(started);
    make_device_dir(name, started % 4);
    devices.push_back(
        &start_device(name, started % 4, static_cast<std::uint16_t>(port_ + 20 + started)));
    ++started;
  }
  ASSERT_TRUE(wait(
      [&] {
        for (Device* d : devices)
          if (!d->find("keys")) return false;
        return true;
      },
      120s));
  std::set<unsigned> nodes;
  for (Device* d : devices) {
    // The node it ended as (a device told its join failed joins again as another node).
    unsigned node = 0;
    for (const auto& e : d->events)
      if (e.value("event", "") == "accepted") node = e.value("node", 0u);
    nodes.insert(node);
  }
  EXPECT_EQ(nodes.size(), static_cast<std::size_t>(kDevices));
  ASSERT_TRUE(wait(
      [&] {
        for (int g = 0; g < 4; ++g) {
          auto s = status(g);
          if (!s || (*s)["members"].get<int>() != kDevices) return false;
          if ((*s)["devices"]["pending_transactions"].get<int>() != 0) return false;
        }
        return true;
      },
      60s));
  // Every device at the ledger's position.
  ASSERT_TRUE(wait(
      [&] {
        auto s = status(0);
        if (!s) return false;
        for (Device* d : devices) {
          auto st = d->status();
          if (!st || (*st)["position"] != (*s)["position"]) return false;
        }
        return true;
      },
      60s));
}

}  // namespace
}  // namespace kmchain::daemon
