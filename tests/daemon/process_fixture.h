// The fixture of the process tests with devices: a consortium of gateway processes from
// `kmchain init`, device processes driven over their pipes, and the admin endpoint.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/operator_files.h"
#include "enroll/credential.h"
#include "harness/child.h"
#include "support/free_ports.h"

namespace kmchain::daemon {

namespace fs = std::filesystem;
using harness::Child;
using nlohmann::json;
using namespace std::chrono_literals;

inline std::uint16_t base_port(int) {
  return kmchain::testing::free_port_range(40);
}

class DeviceProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    std::string tmpl = (fs::temp_directory_path() / "kmchain-dev-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    devices_.clear();
    gateways_.clear();
    if (!HasFailure()) fs::remove_all(root_);
  }

  void start_consortium(int slot) {
    port_ = base_port(slot);
    const std::string cmd = std::string(KMCHAIN_BINARY) + " init --gateways 4 --dir " +
                            (root_ / "c").string() + " --base-port " + std::to_string(port_) +
                            " --timeout-commit-ms 100 >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto credentials = load_operator_credentials((root_ / "c" / "operator.key").string(),
                                                 (root_ / "c" / "genesis.json").string());
    ASSERT_TRUE(credentials) << credentials.error();
    operator_.emplace(std::move(credentials).value());
    for (int g = 0; g < 4; ++g)
      gateways_.push_back(start_gateway(g));
    ASSERT_TRUE(wait([&] {
      auto s = status(0);
      return s && (*s)["height"].get<std::uint64_t>() >= 1;
    }));
  }

  // Gateway g's process (a restart appends to the same log).
  std::unique_ptr<Child> start_gateway(int g) {
    return std::make_unique<Child>(
        std::vector<std::string>{
            KMCHAIN_BINARY, "gateway", "--config",
            (root_ / "c" / ("gateway-" + std::to_string(g)) / "gateway.toml").string()},
        (root_ / ("gw" + std::to_string(g) + ".log")).string(), false);
  }

  Endpoint admin(int g) const {
    return {"127.0.0.1", static_cast<std::uint16_t>(port_ + 3 * g + 2)};
  }
  Endpoint device_port(int g) const {
    return {"127.0.0.1", static_cast<std::uint16_t>(port_ + 3 * g + 1)};
  }
  std::optional<json> request(int g, const json& r) {
    std::string error;
    return admin_request(admin(g), *operator_, r, error);
  }
  std::optional<json> status(int g) { return request(g, {{"op", "status"}}); }

  template <class F>
  static bool wait(F done, std::chrono::seconds deadline = 30s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // A credential file in a fresh state directory; admitted at `gateway` unless told otherwise.
  enroll::DeviceCredential make_device_dir(const std::string& name, std::optional<int> gateway) {
    crypto::OsRng rng;
    auto credential = enroll::DeviceCredential::generate(rng);
    fs::create_directories(root_ / name);
    fs::permissions(root_ / name, fs::perms::owner_all);
    std::ofstream(root_ / name / "credential.json")
        << enroll::render_credential_file(credential).view();
    if (gateway) {
      EXPECT_TRUE(request(*gateway, {{"op", "admit"},
                                     {"credential_id", to_hex(credential.id)},
                                     {"psk", to_hex(credential.psk.view())}}));
    }
    return credential;
  }

  struct Device {
    std::unique_ptr<Child> process;
    std::uint16_t port = 0;
    std::vector<json> events;

    void pump() {
      std::vector<std::string> lines;
      process->read_lines(lines);
      for (const auto& l : lines) {
        auto j = json::parse(l, nullptr, false);
        if (!j.is_discarded()) events.push_back(j);
      }
    }
    std::optional<json> find(const std::string& name) {
      pump();
      for (const auto& e : events)
        if (e.value("event", "") == name) return e;
      return std::nullopt;
    }
    std::optional<json> status() {
      process->send_line(R"({"cmd":"status"})");
      const auto end = std::chrono::steady_clock::now() + 5s;
      std::size_t seen = events.size();
      while (std::chrono::steady_clock::now() < end) {
        pump();
        for (std::size_t i = seen; i < events.size(); ++i)
          if (events[i].value("event", "") == "status") return events[i];
        std::this_thread::sleep_for(20ms);
      }
      return std::nullopt;
    }
  };

  Device& start_device(const std::string& name, int gateway, std::uint16_t port) {
    auto d = std::make_unique<Device>();
    d->port = port;
    d->process = std::make_unique<Child>(
        std::vector<std::string>{
            KMCHAIN_BINARY, "device", "--gateway", to_string(device_port(gateway)), "--genesis",
            (root_ / "c" / "genesis.json").string(), "--state", (root_ / name).string(), "--listen",
            "127.0.0.1:" + std::to_string(port)},
        (root_ / (name + ".log")).string(), true);
    devices_.push_back(std::move(d));
    return *devices_.back();
  }

  // Committed transactions on gateway g's chain.
  std::size_t transactions_on_chain(int g) {
    auto c = request(g, {{"op", "chain"}, {"from", 1}, {"count", 1000}});
    std::size_t n = 0;
    if (c)
      for (const auto& b : (*c)["blocks"])
        n += b["transactions"].size();
    return n;
  }

  fs::path root_;
  std::uint16_t port_ = 0;
  std::optional<OperatorCredentials> operator_;
  std::vector<std::unique_ptr<Child>> gateways_;
  std::vector<std::unique_ptr<Device>> devices_;
};

}  // namespace kmchain::daemon
