// The load generator (harness/loadgen.h): light devices, each a device agent over its own CoAP
// endpoint, all driven from one io_context.
#include "harness/loadgen.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/percentile.h"
#include "channel/record.h"
#include "config/genesis_file.h"
#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/operator_files.h"
#include "device/agent.h"
#include "device/memory_state.h"
#include "io/clock.h"
#include "io/coap_node.h"

namespace kmchain::harness {

namespace {

using Clock = std::chrono::steady_clock;

struct LightDevice {
  std::unique_ptr<device::MemoryCounterStore> counters =
      std::make_unique<device::MemoryCounterStore>();
  std::unique_ptr<device::MemoryStateSink> state = std::make_unique<device::MemoryStateSink>();
  std::unique_ptr<device::DeviceAgent> agent;
  std::unique_ptr<io::CoapNode> coap;
  Clock::time_point started;
  std::optional<double> join_ms;
  bool started_join = false;
};

std::uint64_t now_ms() {
  return io::steady_clock_ms();
}

}  // namespace

int run_loadgen(const LoadgenOptions& o) {
  std::ifstream in(o.genesis);
  std::stringstream text;
  text << in.rdbuf();
  auto genesis = config::parse_genesis_file(text.str());
  if (!genesis) {
    fmt::print(stderr, "kmchain loadgen: {}: {}\n", o.genesis, to_string(genesis.error()));
    return 2;
  }
  auto credentials = daemon::load_operator_credentials(o.operator_key, o.genesis);
  if (!credentials) {
    fmt::print(stderr, "kmchain loadgen: {}\n", credentials.error());
    return 2;
  }
  std::vector<Endpoint> admins;
  for (const auto& a : o.admins) {
    auto e = parse_endpoint(a);
    if (!e) {
      fmt::print(stderr, "kmchain loadgen: --admin {}: {}\n", a, e.error());
      return 2;
    }
    admins.push_back(*e);
  }
  asio::io_context io;
  crypto::OsRng rng;
  std::vector<std::unique_ptr<LightDevice>> devices;
  const auto chain_id = genesis->genesis.chain_id();
  const auto t0 = Clock::now();
  for (std::size_t d = 0; d < o.devices; ++d) {
    const std::size_t g = d % admins.size();
    auto credential = enroll::DeviceCredential::generate(rng);
    std::string error;
    if (!daemon::admin_request(admins[g], *credentials,
                               {{"op", "admit"},
                                {"credential_id", to_hex(credential.id)},
                                {"psk", to_hex(credential.psk.view())}},
                               error)) {
      fmt::print(stderr, "kmchain loadgen: admit at {}: {}\n", to_string(admins[g]), error);
      return 1;
    }
    auto dev = std::make_unique<LightDevice>();
    device::AgentConfig config;
    std::copy(chain_id.begin(), chain_id.end(), config.chain_id.begin());
    config.gateway = genesis->addresses.at(g).device;
    config.listen_port = static_cast<std::uint16_t>(o.base_port + d);
    dev->agent = std::make_unique<device::DeviceAgent>(
        config, credential, enroll::draw_secret_code(rng), rng, *dev->counters, *dev->state,
        device::DurableState{});
    dev->coap = std::make_unique<io::CoapNode>(io, Endpoint{"127.0.0.1", config.listen_port});
    LightDevice* raw = dev.get();
    dev->coap->on_post("rekey", [raw, &io](const Endpoint&, ByteView body) {
      std::vector<device::Post> posts;
      std::vector<device::Event> events;
      const bool ok = raw->agent->on_push(body, now_ms(), posts, events);
      for (const auto& e : events) {
        if (e.name == "keys" && !raw->join_ms) {
          raw->join_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 Clock::now() - raw->started)
                                                 .count()) /
                         1000.0;
        }
      }
      for (auto& p : posts)
        raw->coap->post(p.to, p.path, p.body, [](std::optional<io::CoapReply>) {});
      (void)io;
      return io::CoapReply{ok ? io::CoapCode::kChanged : io::CoapCode::kBadRequest, {}};
    });
    dev->coap->on_post(
        "d2d", [](const Endpoint&, ByteView) { return io::CoapReply{}; }, channel::kRecordBytesMax);
    dev->coap->start();
    devices.push_back(std::move(dev));
  }
  const double admit_s =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()) /
      1000.0;
  const auto start_join = [&](LightDevice& d) {
    d.started_join = true;
    d.started = Clock::now();
    std::vector<device::Post> posts;
    d.agent->start(now_ms(), posts);
    for (auto& p : posts) {
      d.coap->post(p.to, p.path, p.body, [&d](std::optional<io::CoapReply> reply) {
        std::vector<device::Post> later;  // no retries: a lost join shows in the figures
        std::vector<device::Event> events;
        d.agent->on_join_reply(reply.has_value(), reply && io::is_success(reply->code),
                               reply ? ByteView(reply->payload) : ByteView{}, now_ms(), later,
                               events);
      });
    }
  };
  const auto deadline = Clock::now() + std::chrono::seconds(o.deadline_s);
  const auto t1 = Clock::now();
  std::size_t next = 0;
  auto ledger_position = [&]() -> std::optional<std::uint64_t> {
    std::string error;
    auto s = daemon::admin_request(admins[0], *credentials, {{"op", "status"}}, error);
    if (!s) return std::nullopt;
    return (*s)["position"].get<std::uint64_t>();
  };
  bool settled = false;
  std::uint64_t last_check = 0;
  while (Clock::now() < deadline) {
    std::size_t in_flight = 0;
    for (const auto& d : devices)
      if (d->started_join && !d->join_ms) ++in_flight;
    while (next < devices.size() && in_flight < o.concurrency) {
      start_join(*devices[next++]);
      ++in_flight;
    }
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
    for (auto& d : devices) {
      std::vector<device::Post> posts;
      d->agent->tick(now_ms(), posts);
      for (auto& p : posts)
        d->coap->post(p.to, p.path, p.body, [](std::optional<io::CoapReply>) {});
    }
    if (next == devices.size() && now_ms() - last_check > 500) {
      last_check = now_ms();
      const bool all_keys = std::all_of(devices.begin(), devices.end(),
                                        [](const auto& d) { return d->join_ms.has_value(); });
      const auto position = ledger_position();
      if (all_keys && position && std::all_of(devices.begin(), devices.end(), [&](const auto& d) {
            return d->agent->position().value() == *position;
          })) {
        settled = true;
        break;
      }
    }
  }
  std::vector<double> joins;
  std::size_t max_keys = 0;
  for (const auto& d : devices) {
    if (d->join_ms) joins.push_back(*d->join_ms);
    max_keys = std::max(max_keys, d->agent->key_count());
  }
  const double join_phase_s =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count()) /
      1000.0;
  nlohmann::json out = {
      {"devices", o.devices},
      {"joined", joins.size()},
      {"settled", settled},
      {"admit_s", admit_s},
      {"join_phase_s", join_phase_s},
      {"join_ms", {{"p50", percentile(joins, 0.5)}, {"p99", percentile(joins, 0.99)}}},
      {"keys_per_device_max", max_keys}};
  fmt::print("{}\n", out.dump());
  for (auto& d : devices)
    d->coap->stop();
  return settled ? 0 : 1;
}

}  // namespace kmchain::harness
