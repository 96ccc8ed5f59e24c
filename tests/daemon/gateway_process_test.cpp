// The gateway daemon as real processes on loopback: four gateways order blocks over pinned
// TLS links, a gateway whose certificate is not in the genesis cannot join the mesh, SIGTERM
// stops a gateway cleanly and a restart resumes from its store.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "daemon/admin_server.h"
#include "harness/child.h"
#include "support/free_ports.h"

namespace kmchain::daemon {
namespace {

namespace fs = std::filesystem;
using harness::Child;
using namespace std::chrono_literals;

// Free ports for one consortium (and its devices), probed: ctest -j runs tests side by side.
std::uint16_t base_port(int) {
  return kmchain::testing::free_port_range(60);
}

class GatewayProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kmchain-gw-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    gateways_.clear();
    if (!HasFailure()) fs::remove_all(root_);
  }

  int init(const fs::path& dir, std::uint16_t port) {
    const std::string cmd = std::string(KMCHAIN_BINARY) + " init --gateways 4 --dir " +
                            dir.string() + " --base-port " + std::to_string(port) + " >/dev/null";
    return std::system(cmd.c_str());
  }

  Child& start(const fs::path& dir, int index, const std::string& tag = "") {
    const fs::path config = dir / ("gateway-" + std::to_string(index)) / "gateway.toml";
    gateways_.push_back(std::make_unique<Child>(
        std::vector<std::string>{KMCHAIN_BINARY, "gateway", "--config", config.string()},
        (root_ / ("gw" + std::to_string(index) + tag + ".log")).string(), false));
    return *gateways_.back();
  }

  static Endpoint admin(std::uint16_t base, int index) {
    return {"127.0.0.1", static_cast<std::uint16_t>(base + 3 * index + 2)};
  }

  static std::optional<nlohmann::json> status(const Endpoint& at) {
    std::string error;
    return admin_request(at, {{"op", "status"}}, error);
  }

  // Waits until the gateway's height reaches `height`; its last status.
  static std::optional<nlohmann::json> wait_height(const Endpoint& at, std::uint64_t height,
                                                   std::chrono::seconds deadline = 30s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    std::optional<nlohmann::json> last;
    while (std::chrono::steady_clock::now() < end) {
      if (auto s = status(at)) {
        last = s;
        if ((*s)["height"].get<std::uint64_t>() >= height) return s;
      }
      std::this_thread::sleep_for(50ms);
    }
    return last;
  }

  fs::path root_;
  std::vector<std::unique_ptr<Child>> gateways_;
};

TEST_F(GatewayProcesses, FourGatewaysAgreeOnEveryBlockAndStopCleanly) {
  const std::uint16_t port = base_port(0);
  const fs::path dir = root_ / "consortium";
  ASSERT_EQ(init(dir, port), 0);
  for (int i = 0; i < 4; ++i)
    start(dir, i);
  // Ready: the admin endpoint answers. How fast a gateway starts is a figure (its log's
  // startup_ms), not a test: a busy machine must not fail it.
  const auto t0 = std::chrono::steady_clock::now();
  bool up = false;
  while (!up && std::chrono::steady_clock::now() - t0 < 60s) {
    up = status(admin(port, 3)).has_value();
    if (!up) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(up) << "gateway 3 never answered";

  for (int i = 0; i < 4; ++i) {
    auto s = wait_height(admin(port, i), 3);
    ASSERT_TRUE(s) << gateways_[static_cast<std::size_t>(i)]->log();
    EXPECT_GE((*s)["height"].get<std::uint64_t>(), 3u);
    EXPECT_EQ((*s)["links"]["handshakes_refused"].get<std::uint64_t>(), 0u);
  }
  // Same block at the same height everywhere.
  std::string error;
  auto reference =
      admin_request(admin(port, 0), {{"op", "chain"}, {"from", 1}, {"count", 3}}, error);
  ASSERT_TRUE(reference) << error;
  for (int i = 1; i < 4; ++i) {
    auto other = admin_request(admin(port, i), {{"op", "chain"}, {"from", 1}, {"count", 3}}, error);
    ASSERT_TRUE(other) << error;
    for (std::size_t h = 0; h < 3; ++h) {
      EXPECT_EQ((*other)["blocks"][h]["hash"], (*reference)["blocks"][h]["hash"]);
      // A commit certificate with more than 2/3 of the power: at least 3 of 4.
      EXPECT_GE((*other)["blocks"][h]["signatures"].get<int>(), 3);
    }
  }

  // SIGTERM: a clean, prompt exit with status 0.
  auto& g2 = *gateways_[2];
  g2.signal(SIGTERM);
  const auto code = g2.wait_for(2s);
  ASSERT_TRUE(code.has_value()) << "gateway 2 still running 2 s after SIGTERM";
  EXPECT_EQ(*code, 0) << g2.log();
  EXPECT_NE(g2.log().find("event=stopped"), std::string::npos);
  const std::uint64_t stopped_at =
      std::stoull(g2.log().substr(g2.log().find("event=stopped height=") + 21));

  // The other three keep deciding (3 of 4 is more than 2/3), and the restarted gateway
  // resumes from its store and catches up.
  auto s0 = wait_height(admin(port, 0), stopped_at + 3);
  ASSERT_TRUE(s0);
  EXPECT_GE((*s0)["height"].get<std::uint64_t>(), stopped_at + 3);
  start(dir, 2, "-restart");
  auto s2 = wait_height(admin(port, 2), (*s0)["height"].get<std::uint64_t>());
  ASSERT_TRUE(s2) << gateways_.back()->log();
  EXPECT_GE((*s2)["height"].get<std::uint64_t>(), (*s0)["height"].get<std::uint64_t>());
  EXPECT_NE(gateways_.back()->log().find("event=started height=" + std::to_string(stopped_at)),
            std::string::npos)
      << gateways_.back()->log();
}

TEST_F(GatewayProcesses, ConfigWithAMissingOrMalformedFieldStopsWithItsName) {
  const fs::path dir = root_ / "consortium";
  ASSERT_EQ(init(dir, base_port(0)), 0);
  const fs::path config = dir / "gateway-1" / "gateway.toml";
  std::string text;
  {
    std::ifstream in(config);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const auto run_with = [&](const std::string& edited, const std::string& name) {
    std::ofstream(config) << edited;
    Child p({KMCHAIN_BINARY, "gateway", "--config", config.string()},
            (root_ / (name + ".log")).string(), false);
    const auto code = p.wait_for(5s);
    EXPECT_TRUE(code.has_value());
    EXPECT_EQ(code.value_or(0), 2) << p.log();
    return p.log();
  };
  std::string missing = text;
  missing.erase(missing.find("device = "),
                missing.find('\n', missing.find("device = ")) - missing.find("device = ") + 1);
  EXPECT_NE(run_with(missing, "missing").find("listen.device"), std::string::npos);
  std::string malformed = text;
  malformed.replace(malformed.find("index = 1"), 9, "index = \"one\"");
  EXPECT_NE(run_with(malformed, "malformed").find("gateway.index"), std::string::npos);
}

TEST_F(GatewayProcesses, GatewayWhoseCertificateIsNotInTheGenesisCannotJoinTheMesh) {
  const std::uint16_t port = base_port(1);
  const fs::path dir = root_ / "consortium";
  const fs::path rogue_dir = root_ / "rogue";
  ASSERT_EQ(init(dir, port), 0);
  // Another consortium on the same addresses: its gateway 0 has a certificate our genesis
  // does not know, and dials our gateways 1-3 where our gateway 0 would.
  ASSERT_EQ(init(rogue_dir, port), 0);
  start(dir, 1);
  start(dir, 2);
  start(dir, 3);
  start(rogue_dir, 0, "-rogue");

  // The three genuine gateways hold more than 2/3 of the power and go on deciding.
  for (int i = 1; i < 4; ++i) {
    auto s = wait_height(admin(port, i), 2);
    ASSERT_TRUE(s);
    EXPECT_GE((*s)["height"].get<std::uint64_t>(), 2u);
    for (const auto& peer : (*s)["peers_connected"])
      EXPECT_NE(peer.get<int>(), 0) << "gateway " << i << " linked with the rogue";
  }
  // Every genuine gateway refused the rogue's handshake.
  for (int i = 1; i < 4; ++i) {
    auto s = status(admin(port, i));
    ASSERT_TRUE(s);
    EXPECT_GT((*s)["links"]["handshakes_refused"].get<std::uint64_t>(), 0u) << "gateway " << i;
  }
  // The rogue has no link and decides nothing.
  auto r = status(admin(port, 0));
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)["peers_connected"].empty());
  EXPECT_EQ((*r)["height"].get<std::uint64_t>(), 0u);
}

}  // namespace
}  // namespace kmchain::daemon

namespace kmchain::daemon {
namespace {

// The main job at a small size: every flow (join through every gateway, D2D within and across
// sets, leave, eviction, copies to the departed devices, a burst) over real processes.
// The demo at the sizes users run, in both modes (14 devices through one gateway used to fail
// every time: a record to a device a Reorder had moved was refused).
struct DemoSize {
  int gateways;
  int devices;
  const char* mode;
};

class Demo : public ::testing::TestWithParam<DemoSize> {};

TEST_P(Demo, PassesEveryStep) {
  const DemoSize size = GetParam();
  std::string tmpl = (fs::temp_directory_path() / "kmchain-demo-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = fs::path(tmpl) / "run";
  const std::string cmd =
      std::string(KMCHAIN_BINARY) + " demo --gateways " + std::to_string(size.gateways) +
      " --devices " + std::to_string(size.devices) + " --submission-mode " + size.mode +
      " --burst 200 --dir " + dir.string() + " --base-port " + std::to_string(base_port(2)) +
      " > " + (fs::path(tmpl) / "demo.out").string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir / "summary.json");
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(summary.is_discarded());
  EXPECT_EQ(summary["gateways"], size.gateways);
  EXPECT_EQ(summary["devices"], size.devices);
  EXPECT_EQ(summary["joins_committed"], size.devices);
  EXPECT_EQ(summary["d2d_sent"], summary["d2d_delivered"]);
  EXPECT_GT(summary["d2d_sent"].get<int>(), size.gateways > 1 ? 200 : 0);
  EXPECT_EQ(summary["messages_decrypted_by_evicted_device_after_eviction"], 0);
  EXPECT_EQ(summary["messages_decrypted_by_departed_device_after_leave"], 0);
  EXPECT_GT(summary["copies_to_departed_devices"].get<int>(), 0);
  for (const char* op : {"join", "d2d", "leave", "evict"}) {
    EXPECT_TRUE(summary["response_ms"].contains(op)) << op;
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(tmpl);
}

INSTANTIATE_TEST_SUITE_P(Sizes, Demo,
                         ::testing::Values(DemoSize{4, 12, "commit"}, DemoSize{1, 14, "commit"},
                                           DemoSize{4, 14, "sync"}, DemoSize{7, 40, "commit"}),
                         [](const ::testing::TestParamInfo<DemoSize>& p) {
                           return "Gateways" + std::to_string(p.param.gateways) + "Devices" +
                                  std::to_string(p.param.devices) + "_" + p.param.mode;
                         });

}  // namespace
}  // namespace kmchain::daemon
