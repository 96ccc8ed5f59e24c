// The demo (harness/demo.h): the Demo below drives the consortium's processes step by step and
// reads the devices' events from their pipes.
#include "harness/demo.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "base/endpoint.h"
#include "base/percentile.h"
#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/operator_files.h"
#include "enroll/credential.h"
#include "harness/child.h"
#include "io/clock.h"

namespace kmchain::harness {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Ctrl-C or SIGTERM ends the run through the same path as a failure: every process stopped.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) {
  g_interrupted = 1;
}
using nlohmann::json;

struct DeviceView {
  std::unique_ptr<Child> process;
  std::uint16_t port = 0;
  std::size_t gateway = 0;
  std::uint32_t node = 0;
  std::uint32_t set = 0;
  bool has_keys = false;
  std::uint64_t position = 0;
  std::optional<std::uint64_t> join_ms;
  std::string refused;
  bool gone = false;  // left or evicted
  json status;
};

json p50_p99(const std::vector<double>& v) {
  return {{"p50", percentile(v, 0.5)}, {"p99", percentile(v, 0.99)}, {"count", v.size()}};
}

bool port_free(unsigned port) {
  asio::io_context io;
  asio::error_code ec;
  asio::ip::tcp::acceptor a(io);
  a.open(asio::ip::tcp::v4(), ec);
  if (ec) return false;
  a.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                 static_cast<std::uint16_t>(port)),
         ec);
  if (ec) return false;
  asio::ip::udp::socket u(io);
  u.open(asio::ip::udp::v4(), ec);
  if (ec) return false;
  u.bind(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"),
                                 static_cast<std::uint16_t>(port)),
         ec);
  return !ec;
}

class Demo {
 public:
  explicit Demo(DemoOptions o) : o_(std::move(o)), exe_(self_executable()) {}

  int run() {
    // A device that dies must fail the run with a message, not kill it through its pipe.
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const auto t0 = Clock::now();
    deadline_ = t0 + std::chrono::seconds(o_.deadline_s);
    if (!setup()) return finish(false, t0);
    const bool ok = start_gateways() && join_all() && talk("before", false) && leave_and_evict() &&
                    talk("after", true) && burst();
    return finish(ok, t0);
  }

 private:
  // ---- steps -------------------------------------------------------------------------------

  bool setup() {
    if (o_.dir.empty()) {
      o_.dir = fmt::format("runs/demo-{}", io::wall_clock_ms() / 1000);
    }
    run_dir_ = fs::absolute(o_.dir);
    std::error_code ec;
    fs::create_directories(run_dir_, ec);
    if (o_.base_port == 0) {
      std::random_device rd;
      for (int tries = 0; tries < 50 && o_.base_port == 0; ++tries) {
        // Below the kernel's ephemeral range (32768 up), where no outgoing connection lands.
        const unsigned base = 20000 + (rd() % 110) * 100;
        bool all = true;
        for (unsigned p = base; p < base + 3 * o_.gateways && all; ++p)
          all = port_free(p);
        for (unsigned d = 0; d < o_.devices && all; ++d)
          all = port_free(base + 3 * static_cast<unsigned>(o_.gateways) + 10 + d);
        if (all) o_.base_port = base;
      }
    }
    fmt::print("run directory {}\n", run_dir_.string());
    const fs::path consortium = run_dir_ / "consortium";
    Child init(
        {exe_, "init", "--gateways", std::to_string(o_.gateways), "--dir", consortium.string(),
         "--base-port", std::to_string(o_.base_port), "--submission-mode", o_.mode,
         "--timeout-commit-ms", std::to_string(o_.timeout_commit_ms), "--name", "demo"},
        (run_dir_ / "init.log").string(), false);
    const auto code = init.wait_for(std::chrono::seconds(20));
    if (code != 0) return fail("kmchain init failed (see init.log)");
    auto credentials = daemon::load_operator_credentials((consortium / "operator.key").string(),
                                                         (consortium / "genesis.json").string());
    if (!credentials) return fail("the operator's key: " + credentials.error());
    operator_.emplace(std::move(credentials).value());
    return true;
  }

  Endpoint admin(std::size_t g) const {
    return {"127.0.0.1", static_cast<std::uint16_t>(o_.base_port + 3 * g + 2)};
  }
  Endpoint device_endpoint(std::size_t g) const {
    return {"127.0.0.1", static_cast<std::uint16_t>(o_.base_port + 3 * g + 1)};
  }

  std::optional<json> ask(std::size_t g, const json& request) {
    std::string error;
    auto r = daemon::admin_request(admin(g), *operator_, request, error);
    if (!r || !r->value("ok", false)) return std::nullopt;
    return r;
  }

  bool start_gateways() {
    const auto t = Clock::now();
    for (std::size_t g = 0; g < o_.gateways; ++g) {
      const fs::path config =
          run_dir_ / "consortium" / fmt::format("gateway-{}", g) / "gateway.toml";
      gateways_.push_back(std::make_unique<Child>(
          std::vector<std::string>{exe_, "gateway", "--config", config.string()},
          (run_dir_ / fmt::format("gateway-{}.log", g)).string(), false));
    }
    if (!wait_until("gateways deciding blocks", [&] {
          for (std::size_t g = 0; g < o_.gateways; ++g) {
            auto s = ask(g, {{"op", "status"}});
            if (!s || (*s)["height"].get<std::uint64_t>() < 1) return false;
          }
          return true;
        }))
      return false;
    fmt::print("{} gateways up, deciding blocks ({} ms)\n", o_.gateways, ms_since(t));
    return true;
  }

  bool join_all() {
    const auto t = Clock::now();
    crypto::OsRng rng;
    const fs::path genesis = run_dir_ / "consortium" / "genesis.json";
    for (std::size_t d = 0; d < o_.devices; ++d) {
      DeviceView& v = devices_.emplace_back();
      v.gateway = d % o_.gateways;
      v.port = static_cast<std::uint16_t>(o_.base_port + 3 * o_.gateways + 10 + d);
      const fs::path dir = run_dir_ / fmt::format("device-{:02}", d);
      std::error_code ec;
      fs::create_directories(dir, ec);
      fs::permissions(dir, fs::perms::owner_all, ec);
      const auto credential = enroll::DeviceCredential::generate(rng);
      {
        const auto text = enroll::render_credential_file(credential);
        std::ofstream out(dir / "credential.json");
        out << text.view();
      }
      fs::permissions(dir / "credential.json", fs::perms::owner_read | fs::perms::owner_write, ec);
      if (!ask(v.gateway, {{"op", "admit"},
                           {"credential_id", to_hex(credential.id)},
                           {"psk", to_hex(credential.psk.view())}})) {
        return fail(
            fmt::format("gateway {} refused to admit device {}'s credential", v.gateway, d));
      }
      std::vector<std::string> args{exe_,        "device",
                                    "--gateway", to_string(device_endpoint(v.gateway)),
                                    "--genesis", genesis.string(),
                                    "--state",   dir.string(),
                                    "--listen",  fmt::format("127.0.0.1:{}", v.port)};
      // The devices that will leave and be evicted run the attacker beside them: it keeps every
      // key they ever hold and tries them on the records sent after their departure.
      if (d == leaver_index() || d == evicted_index()) args.push_back("--eavesdrop");
      v.process = std::make_unique<Child>(args, (dir / "device.log").string(), true);
    }
    if (!wait_until("every device holding its keys", [&] {
          return std::all_of(devices_.begin(), devices_.end(),
                             [](const DeviceView& v) { return v.has_keys; });
        }))
      return false;
    if (!settle()) return false;
    std::vector<double> join_ms;
    for (const auto& v : devices_)
      join_ms.push_back(static_cast<double>(v.join_ms.value_or(0)));
    timings_["join"] = p50_p99(join_ms);
    std::set<std::uint32_t> sets;
    for (const auto& v : devices_)
      sets.insert(v.set);
    fmt::print(
        "{} devices joined through {} gateways into {} sets ({} ms; join p50 {} ms, p99 {} ms)\n",
        devices_.size(), o_.gateways, sets.size(), ms_since(t), percentile(join_ms, 0.5),
        percentile(join_ms, 0.99));
    return true;
  }

  // Waits until every present device's keyring is at the ledger's position, with final keys (in
  // sync mode an early bundle may differ from the committed one: records under it may not open).
  bool settle() {
    return wait_until("every keyring at the ledger's position", [&] {
      auto s = ask(0, {{"op", "status"}});
      if (!s) return false;
      const std::uint64_t ledger = (*s)["position"].get<std::uint64_t>();
      for (auto& v : devices_) {
        if (!v.gone) v.process->send_line(R"({"cmd":"status"})");
      }
      pump(std::chrono::milliseconds(100));
      return std::all_of(devices_.begin(), devices_.end(), [&](const DeviceView& v) {
        return v.gone || (v.position == ledger && !v.status.value("provisional", true));
      });
    });
  }

  // Every present device sends to the next present one and to one member of its own set.
  bool talk(const std::string& phase, bool copy_to_departed) {
    const auto t = Clock::now();
    std::vector<std::size_t> present;
    for (std::size_t d = 0; d < devices_.size(); ++d)
      if (!devices_[d].gone) present.push_back(d);
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    for (std::size_t i = 0; i < present.size(); ++i) {
      const std::size_t a = present[i];
      pairs.emplace_back(a, present[(i + 1) % present.size()]);
      for (std::size_t j = 1; j < present.size(); ++j) {
        const std::size_t b = present[(i + j) % present.size()];
        if (devices_[b].set == devices_[a].set && b != pairs.back().second) {
          pairs.emplace_back(a, b);
          break;
        }
      }
    }
    std::size_t same_set = 0;
    std::size_t cross_gateway = 0;
    const std::uint64_t delivered_before = delivered_;
    const std::uint64_t sent_before = sent_ok_;
    for (const auto& [a, b] : pairs) {
      const std::uint64_t tag = ++next_tag_;
      json cmd = {{"cmd", "send"},
                  {"peer", devices_[b].node},
                  {"set", devices_[b].set},
                  {"to", fmt::format("127.0.0.1:{}", devices_[b].port)},
                  {"text", fmt::format("{} #{} from {} to {}", phase, tag, devices_[a].node,
                                       devices_[b].node)},
                  {"tag", tag}};
      if (copy_to_departed) {
        // The network is the attacker's: every record also reaches the departed devices.
        cmd["copy_to"] = json::array();
        for (std::size_t spy : departed_) {
          cmd["copy_to"].push_back(fmt::format("127.0.0.1:{}", devices_[spy].port));
          ++copies_;
        }
      }
      devices_[a].process->send_line(cmd.dump());
      ++d2d_sent_;
      if (devices_[a].set == devices_[b].set) ++same_set;
      if (devices_[a].gateway != devices_[b].gateway) ++cross_gateway;
    }
    const std::uint64_t want = pairs.size();
    const bool ok = wait_until("every record delivered", [&] {
      pump(std::chrono::milliseconds(50));
      return delivered_ - delivered_before >= want && sent_ok_ - sent_before >= want &&
             (!copy_to_departed || sniffed_ >= copies_);
    });
    fmt::print("{}: {} records ({} within a set, {} across gateways): {} delivered ({} ms)\n",
               phase, want, same_set, cross_gateway, delivered_ - delivered_before, ms_since(t));
    return ok;
  }

  std::size_t leaver_index() const { return 5 % o_.devices; }
  std::size_t evicted_index() const { return 10 % o_.devices; }

  bool leave_and_evict() {
    const std::size_t leaver = leaver_index();
    const std::size_t evicted = evicted_index();
    const auto t = Clock::now();
    const auto members_before = ask(0, {{"op", "members"}});
    if (!members_before) return fail("gateway 0 does not answer");
    const auto before = (*members_before)["members"].get<std::uint64_t>();
    devices_[leaver].process->send_line(R"({"cmd":"leave"})");
    // Not by its home gateway, which could evict alone, but as a consortium does when the home
    // is not trusted: the other gateways ask, and it takes effect once those asking hold more
    // than a third of the power (every gateway has power 1 here). Alone, the home does it.
    const std::size_t home = devices_[evicted].gateway;
    const std::size_t askers = o_.gateways == 1 ? 1 : o_.gateways / 3 + 1;
    const std::uint32_t node = devices_[evicted].node;
    std::vector<std::size_t> asked;
    for (std::size_t k = 0; k < askers; ++k) {
      const std::size_t g = o_.gateways == 1 ? home : (home + 1 + k) % o_.gateways;
      const auto answer = ask(g, {{"op", "evict"}, {"node", node}});
      if (!answer) return fail(fmt::format("the eviction was refused by gateway {}", g));
      asked.push_back(g);
      // Each asker is told whether the eviction takes effect once final ("pending") or waits
      // for more gateways ("asked"); the next asker sees the request on the ledger first.
      const bool last = k + 1 == askers;
      const std::string state = answer->value("state", "");
      if (state != (last ? "pending" : "asked"))
        return fail(fmt::format("gateway {} answered the eviction with state \"{}\"", g, state));
      if (last) break;
      const std::size_t next = (home + 2 + k) % o_.gateways;
      if (!wait_until("the eviction request on the ledger", [&] {
            auto m = ask(next, {{"op", "members"}});
            if (!m) return false;
            for (const auto& e : (*m)["pending_evictions"]) {
              if (e["node"] == node && e["asked_by"].size() == asked.size()) return true;
            }
            return false;
          }))
        return false;
    }
    fmt::print("eviction of node {} (home gateway {}) asked by gateways {}\n",
               devices_[evicted].node, home, fmt::join(asked, ", "));
    std::optional<double> left_ms;
    std::optional<double> evicted_ms;
    if (!wait_until("the leave and the eviction final", [&] {
          auto m = ask(0, {{"op", "members"}});
          if (!m) return false;
          std::set<std::uint32_t> members;
          for (const auto& s : (*m)["sets"])
            for (const auto& n : s["members"])
              members.insert(n.get<std::uint32_t>());
          if (!left_ms && !members.contains(devices_[leaver].node)) left_ms = ms_since(t);
          if (!evicted_ms && !members.contains(devices_[evicted].node)) evicted_ms = ms_since(t);
          pump(std::chrono::milliseconds(20));
          return left_ms && evicted_ms && (*m)["members"].get<std::uint64_t>() == before - 2;
        }))
      return false;
    timings_["leave"] = p50_p99({*left_ms});
    timings_["evict"] = p50_p99({*evicted_ms});
    devices_[leaver].gone = true;
    devices_[evicted].gone = true;
    departed_ = {leaver, evicted};
    evicted_index_ = evicted;
    leaver_index_ = leaver;
    if (!settle()) return false;
    fmt::print("node {} left ({} ms), node {} evicted ({} ms); the others rekeyed\n",
               devices_[leaver].node, *left_ms, devices_[evicted].node, *evicted_ms);
    return true;
  }

  // D2D throughput between two device agents of different sets and gateways.
  bool burst() {
    if (o_.burst == 0) return true;
    std::size_t a = SIZE_MAX;
    std::size_t b = SIZE_MAX;
    for (std::size_t i = 0; i < devices_.size() && b == SIZE_MAX; ++i) {
      for (std::size_t j = 0; j < devices_.size(); ++j) {
        if (!devices_[i].gone && !devices_[j].gone && devices_[i].set != devices_[j].set &&
            devices_[i].gateway != devices_[j].gateway) {
          a = i;
          b = j;
          break;
        }
      }
    }
    if (b == SIZE_MAX) return true;
    const std::uint64_t received_before = delivered_;
    burst_result_.reset();
    const auto t = Clock::now();
    devices_[a].process->send_line(json{
        {"cmd", "burst"},
        {"peer", devices_[b].node},
        {"set", devices_[b].set},
        {"to", fmt::format("127.0.0.1:{}", devices_[b].port)},
        {"count", o_.burst}}.dump());
    if (!wait_until("the burst delivered", [&] {
          pump(std::chrono::milliseconds(20));
          return burst_result_.has_value() && delivered_ - received_before >= o_.burst;
        }))
      return false;
    const double seconds = ms_since(t) / 1000.0;
    d2d_burst_ = {{"records", o_.burst},
                  {"delivered", delivered_ - received_before},
                  {"seconds", seconds},
                  {"records_per_s", static_cast<double>(o_.burst) / seconds}};
    burst_sent_ = o_.burst;
    fmt::print("burst: {} records from node {} to node {} in {:.3f} s: {:.0f} records/s\n",
               o_.burst, devices_[a].node, devices_[b].node, seconds,
               static_cast<double>(o_.burst) / seconds);
    return true;
  }

  // ---- events from the devices ---------------------------------------------------------------

  void pump(std::chrono::milliseconds wait) {
    std::vector<pollfd> fds;
    for (auto& v : devices_)
      fds.push_back(pollfd{v.process->stdout_fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    for (std::size_t d = 0; d < devices_.size(); ++d) {
      std::vector<std::string> lines;
      devices_[d].process->read_lines(lines);
      for (const auto& line : lines) {
        const json e = json::parse(line, nullptr, false);
        if (!e.is_discarded() && e.is_object()) on_event(d, e);
      }
    }
  }

  void on_event(std::size_t d, const json& e) {
    DeviceView& v = devices_[d];
    const std::string name = e.value("event", "");
    if (name == "accepted") {
      v.node = e.value("node", 0u);
    } else if (name == "keys") {
      v.has_keys = true;
      v.set = e.value("set", 0u);
      v.position = e.value("position", std::uint64_t{0});
      if (e.contains("join_ms")) v.join_ms = e["join_ms"].get<std::uint64_t>();
    } else if (name == "join_refused" || name == "join_failed") {
      v.refused = e.value("reason", "");
    } else if (name == "status") {
      v.position = e.value("position", std::uint64_t{0});
      // A Reorder may have moved the device to another set since its keys came.
      if (e.value("set", 0u) != 0) v.set = e.value("set", 0u);
      v.status = e;
    } else if (name == "d2d") {
      ++delivered_;
    } else if (name == "sent") {
      if (e.value("ok", false)) {
        ++sent_ok_;
        d2d_ms_.push_back(static_cast<double>(e.value("ms", std::uint64_t{0})));
      } else {
        send_errors_.push_back(e.value("error", e.value("code", "failed")));
      }
    } else if (name == "burst") {
      burst_result_ = e;
    } else if (name == "sniffed") {
      ++sniffed_;
      const bool decrypted = e.value("decrypted", std::string()) == "true";
      if (decrypted && d == evicted_index_) ++evicted_decrypted_;
      if (decrypted && d == leaver_index_) ++departed_decrypted_;
    } else if (name == "d2d_refused") {
      ++d2d_refused_;
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------

  template <class F>
  bool wait_until(const std::string& what, F done) {
    while (Clock::now() < deadline_) {
      if (g_interrupted) return fail("interrupted");
      for (std::size_t g = 0; g < gateways_.size(); ++g) {
        if (!gateways_[g]->running())
          return fail(fmt::format("gateway {} exited (see gateway-{}.log)", g, g));
      }
      pump(std::chrono::milliseconds(0));
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fail("timed out waiting for " + what);
  }

  static double ms_since(Clock::time_point t) {
    return static_cast<double>(
               std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count()) /
           1000.0;
  }

  bool fail(const std::string& why) {
    failure_ = why;
    fmt::print(stderr, "demo: {}\n", why);
    return false;
  }

  int finish(bool ok, Clock::time_point t0) {
    json gateways = json::array();
    std::uint64_t joins_committed = 0;
    std::set<std::string> state_hashes;
    for (std::size_t g = 0; g < gateways_.size(); ++g) {
      if (auto s = ask(g, {{"op", "status"}})) {
        joins_committed = std::max(joins_committed, (*s)["members"].get<std::uint64_t>());
        gateways.push_back({{"gateway", g},
                            {"height", (*s)["height"]},
                            {"devices", (*s)["devices"]},
                            {"links", (*s)["links"]}});
        gateway_joins_ += (*s)["devices"]["joins_committed"].get<std::uint64_t>();
      }
    }
    for (auto& v : devices_) {
      if (v.process) v.process->send_line(R"({"cmd":"quit"})");
    }
    json summary = {
        {"ok", ok},
        {"failure", failure_},
        {"gateways", o_.gateways},
        {"devices", o_.devices},
        {"submission_mode", o_.mode},
        {"joins_committed", gateway_joins_},
        {"d2d_sent", d2d_sent_ + burst_sent_},
        {"d2d_delivered", delivered_},
        {"d2d_refused", d2d_refused_},
        {"copies_to_departed_devices", copies_},
        {"messages_decrypted_by_evicted_device_after_eviction", evicted_decrypted_},
        {"messages_decrypted_by_departed_device_after_leave", departed_decrypted_},
        {"response_ms", timings_},
        {"d2d_burst", d2d_burst_},
        {"per_gateway", gateways},
        {"wall_s", ms_since(t0) / 1000.0},
    };
    summary["response_ms"]["d2d"] = p50_p99(d2d_ms_);
    std::ofstream(run_dir_ / "summary.json") << summary.dump(2) << "\n";
    devices_.clear();
    for (auto& g : gateways_)
      g->terminate();
    gateways_.clear();
    const bool all = ok && gateway_joins_ == o_.devices && d2d_sent_ + burst_sent_ == delivered_ &&
                     evicted_decrypted_ == 0 && departed_decrypted_ == 0;
    fmt::print(
        "\n{} gateways, {} devices ({} mode): {} joins committed; {} D2D records sent, {} "
        "delivered;\n"
        "after their departure the evicted device opened {} of {} copies, the departed one {}.\n"
        "response times (ms): join p50 {} p99 {}; d2d p50 {} p99 {}; leave {}; evict {}\n"
        "{} in {:.1f} s; summary in {}\n",
        o_.gateways, o_.devices, o_.mode, gateway_joins_, d2d_sent_ + burst_sent_, delivered_,
        evicted_decrypted_, copies_ / 2, departed_decrypted_, timing("join", "p50"),
        timing("join", "p99"), percentile(d2d_ms_, 0.5), percentile(d2d_ms_, 0.99),
        timing("leave", "p50"), timing("evict", "p50"), all ? "PASSED" : "FAILED",
        ms_since(t0) / 1000.0, (run_dir_ / "summary.json").string());
    return all ? 0 : 1;
  }

  double timing(const std::string& op, const std::string& p) const {
    if (!timings_.contains(op) || !timings_[op].contains(p)) return 0;
    return timings_[op][p].get<double>();
  }

  DemoOptions o_;
  std::string exe_;
  fs::path run_dir_;
  std::optional<daemon::OperatorCredentials> operator_;
  Clock::time_point deadline_;
  std::vector<std::unique_ptr<Child>> gateways_;
  std::vector<DeviceView> devices_;
  std::vector<std::size_t> departed_;
  std::size_t evicted_index_ = SIZE_MAX;
  std::size_t leaver_index_ = SIZE_MAX;
  std::uint64_t next_tag_ = 0;
  std::uint64_t d2d_sent_ = 0;
  std::uint64_t sent_ok_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t d2d_refused_ = 0;
  std::uint64_t copies_ = 0;
  std::uint64_t sniffed_ = 0;
  std::uint64_t evicted_decrypted_ = 0;
  std::uint64_t departed_decrypted_ = 0;
  std::uint64_t gateway_joins_ = 0;
  std::vector<double> d2d_ms_;
  std::vector<std::string> send_errors_;
  json timings_ = json::object();
  std::optional<json> burst_result_;
  json d2d_burst_ = json::object();
  std::uint64_t burst_sent_ = 0;
  std::string failure_;
};

}  // namespace

int run_demo(const DemoOptions& options) {
  return Demo(options).run();
}

}  // namespace kmchain::harness
