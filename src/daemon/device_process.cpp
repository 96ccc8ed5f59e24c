#include "daemon/device_process.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "channel/record.h"
#include "config/genesis_file.h"
#include "crypto/random.h"
#include "daemon/device_state.h"
#include "daemon/log.h"
#include "device/agent.h"
#include "device/eavesdropper.h"
#include "io/clock.h"
#include "io/coap_node.h"

namespace kmchain::daemon {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A command line longer than this is refused (the operator's pipe, not a bulk channel).
constexpr std::size_t kCommandBytesMax = 64 * 1024;
// Records one burst may ask for.
constexpr std::uint64_t kBurstRecordsMax = 1'000'000;

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ByteView bytes_of(const std::string& s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

// The fields of a send or burst command, each checked; an error naming the field otherwise.
struct Target {
  NodeId peer;
  SetId set;
  Endpoint to;
};
Result<Target, std::string> parse_target(const json& cmd) {
  for (const char* field : {"peer", "set"}) {
    if (!cmd.contains(field) || !cmd[field].is_number_unsigned() ||
        cmd[field].get<std::uint64_t>() > 0xffffffffULL) {
      return Err{std::string("\"") + field + "\" must be an unsigned 32-bit integer"};
    }
  }
  if (!cmd.contains("to") || !cmd["to"].is_string()) return Err{std::string("\"to\": host:port")};
  auto to = parse_endpoint(cmd["to"].get<std::string>());
  if (!to) return Err{"\"to\": " + to.error()};
  return Target{NodeId{cmd["peer"].get<std::uint32_t>()}, SetId{cmd["set"].get<std::uint32_t>()},
                *to};
}

class DeviceProcess {
 public:
  DeviceProcess(device::AgentConfig config, enroll::DeviceCredential credential,
                DeviceStateFile& state, const fs::path& state_dir, const Endpoint& listen,
                bool eavesdrop, Logger& log)
      : log_(log),
        counters_(state_dir / "send.counter", state),
        sink_(state_dir / "device.state", state_dir / "replay.state", state, counters_),
        agent_(config, std::move(credential), state.code, rng_, counters_, sink_, state.durable),
        coap_(io_, listen),
        input_(io_, ::dup(0)),
        tick_(io_),
        signals_(io_, SIGTERM, SIGINT) {
    if (eavesdrop) eavesdropper_.emplace(config.chain_id);
    coap_.on_post("rekey", [this](const Endpoint&, ByteView body) {
      std::vector<device::Post> posts;
      std::vector<device::Event> events;
      const bool ok = agent_.on_push(body, io::steady_clock_ms(), posts, events);
      after_input(events, posts);
      return io::CoapReply{ok ? io::CoapCode::kChanged : io::CoapCode::kBadRequest, {}};
    });
    coap_.on_post(
        "d2d",
        [this](const Endpoint&, ByteView body) {
          std::vector<device::Event> events;
          bool ok = false;
          auto header = channel::parse_header(body);
          if (eavesdropper_ && header && agent_.node() && header->receiver != *agent_.node()) {
            // A copy of someone else's record: the attacker tries every key it kept.
            device::Event e{"sniffed", {}};
            e.add("from", header->sender.value());
            e.add("to", header->receiver.value());
            e.add("decrypted",
                  eavesdropper_->opens(body, io::steady_clock_ms()) ? "true" : "false");
            events.push_back(std::move(e));
            ok = true;
          } else {
            ok = agent_.on_d2d(body, io::steady_clock_ms(), events);
          }
          std::vector<device::Post> none;
          after_input(events, none);
          return io::CoapReply{ok ? io::CoapCode::kChanged : io::CoapCode::kBadRequest, {}};
        },
        channel::kRecordBytesMax);
  }

  int run() {
    try {
      coap_.start();
    } catch (const std::exception& e) {
      log_.error("start_failed", {{"error", e.what()}});
      return 1;
    }
    signals_.async_wait([this](const asio::error_code& ec, int) {
      if (!ec) stop();
    });
    read_command();
    schedule_tick();
    join_started_ms_ = io::steady_clock_ms();
    std::vector<device::Post> posts;
    agent_.start(io::steady_clock_ms(), posts);
    execute(posts);
    io_.run();
    return 0;
  }

 private:
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    coap_.stop();
    tick_.cancel();
    asio::error_code ignored;
    input_.close(ignored);
    io_.stop();
  }

  void schedule_tick() {
    tick_.expires_after(std::chrono::milliseconds(200));
    tick_.async_wait([this](const asio::error_code& ec) {
      if (ec || stopped_) return;
      std::vector<device::Post> posts;
      agent_.tick(io::steady_clock_ms(), posts);
      execute(posts);
      schedule_tick();
    });
  }

  void read_command() {
    asio::async_read_until(
        input_, input_buffer_, '\n', [this](const asio::error_code& ec, std::size_t n) {
          if (ec) return stop();  // the operator went away, or sent a line over the bound
          std::string line(
              asio::buffers_begin(input_buffer_.data()),
              asio::buffers_begin(input_buffer_.data()) + static_cast<std::ptrdiff_t>(n));
          input_buffer_.consume(n);
          command(line);
          if (!stopped_) read_command();
        });
  }

  void error(const std::string& what) { out({{"event", "error"}, {"error", what}}); }

  void command(const std::string& line) {
    const auto cmd = json::parse(line, nullptr, false);
    if (cmd.is_discarded() || !cmd.is_object() || !cmd.contains("cmd") || !cmd["cmd"].is_string()) {
      return error("not a command: an object with \"cmd\": a string");
    }
    const std::string name = cmd["cmd"].get<std::string>();
    std::vector<device::Post> posts;
    if (name == "send") {
      send(cmd, posts);
    } else if (name == "burst") {
      burst(cmd, posts);
    } else if (name == "leave") {
      agent_.leave(io::steady_clock_ms(), posts);
    } else if (name == "status") {
      status();
    } else if (name == "quit") {
      stop();
      return;
    } else {
      return error("unknown command " + name);
    }
    execute(posts);
  }

  void send(const json& cmd, std::vector<device::Post>& posts) {
    if (cmd.contains("tag") && !cmd["tag"].is_number_unsigned()) {
      return error("\"tag\" must be an unsigned integer");
    }
    const std::uint64_t tag = cmd.value("tag", std::uint64_t{0});
    auto target = parse_target(cmd);
    if (!target) {
      out({{"event", "sent"}, {"tag", tag}, {"ok", false}, {"error", target.error()}});
      return;
    }
    if (cmd.contains("text") && !cmd["text"].is_string()) {
      return error("\"text\" must be a string");
    }
    const std::string text = cmd.value("text", "");
    std::string failure;
    sent_at_[tag] = io::steady_clock_ms();
    if (!agent_.send(target->peer, target->set, target->to, bytes_of(text), tag, posts, failure)) {
      sent_at_.erase(tag);
      out({{"event", "sent"}, {"tag", tag}, {"ok", false}, {"error", failure}});
      return;
    }
    // Copies of the record for eavesdroppers, when the operator names them.
    if (cmd.contains("copy_to") && cmd["copy_to"].is_array() && !posts.empty()) {
      const device::Post original = posts.back();
      for (const auto& address : cmd["copy_to"]) {
        if (!address.is_string()) continue;
        if (auto spy = parse_endpoint(address.get<std::string>())) {
          device::Post copy = original;
          copy.to = *spy;
          copy.kind = device::PostKind::kRequest;  // no "sent" event for a copy
          copy.tag = 0;
          posts.push_back(std::move(copy));
        }
      }
    }
  }

  // Throughput: `count` records to one peer back to back; one "burst" event at the end.
  void burst(const json& cmd, std::vector<device::Post>& posts) {
    auto target = parse_target(cmd);
    if (!target || !cmd.contains("count") || !cmd["count"].is_number_unsigned() ||
        cmd["count"].get<std::uint64_t>() == 0 ||
        cmd["count"].get<std::uint64_t>() > kBurstRecordsMax || burst_left_ != 0) {
      out({{"event", "burst"}, {"ok", false}, {"error", "bad burst"}});
      return;
    }
    const std::uint64_t count = cmd["count"].get<std::uint64_t>();
    burst_left_ = count;
    burst_ok_ = 0;
    burst_started_ms_ = io::steady_clock_ms();
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::string text = fmt::format("burst record {}", i);
      std::string failure;
      if (!agent_.send(target->peer, target->set, target->to, bytes_of(text), kBurstTag, posts,
                       failure)) {
        burst_left_ = 0;
        posts.clear();
        out({{"event", "burst"}, {"ok", false}, {"error", failure}});
        return;
      }
    }
  }

  void status() {
    const auto& st = agent_.stats();
    const auto as_json = [](const std::map<std::string, std::uint64_t>& m) {
      json j = json::object();
      for (const auto& [k, v] : m)
        j[k] = v;
      return j;
    };
    json j = {{"event", "status"},
              {"node", agent_.node() ? agent_.node()->value() : 0u},
              {"set", agent_.set() ? agent_.set()->value() : 0u},
              {"position", agent_.position().value()},
              // Sync mode: keys from an early bundle, until the committed join's bundle comes.
              {"provisional", agent_.keyring() != nullptr && agent_.keyring()->provisional()},
              {"keys", agent_.key_count()},
              {"rekey_applied", st.rekey_applied},
              {"rekey_errors", as_json(st.rekey_errors)},
              {"d2d_sent", st.d2d_sent},
              {"d2d_received", st.d2d_received},
              {"d2d_errors", as_json(st.d2d_errors)},
              {"reply_errors", as_json(st.reply_errors)},
              {"catch_up_requests", st.catch_up_requests},
              {"joins_restarted", st.joins_restarted},
              {"coap_malformed_datagrams", io::coap_malformed_datagrams()},
              {"coap_unknown_paths", coap_.stats().unknown_paths}};
    if (eavesdropper_) j["eavesdropper_keys"] = eavesdropper_->keys_kept();
    out(j);
  }

  void execute(std::vector<device::Post>& posts) {
    for (device::Post& p : posts) {
      const device::PostKind kind = p.kind;
      const std::uint64_t tag = p.tag;
      coap_.post(p.to, p.path, p.body, [this, kind, tag](std::optional<io::CoapReply> reply) {
        on_reply(kind, tag, std::move(reply));
      });
    }
    posts.clear();
  }

  void on_reply(device::PostKind kind, std::uint64_t tag, std::optional<io::CoapReply> reply) {
    const std::uint64_t now = io::steady_clock_ms();
    const bool success = reply && io::is_success(reply->code);
    const ByteView body = reply ? ByteView(reply->payload) : ByteView{};
    std::vector<device::Event> events;
    std::vector<device::Post> posts;
    switch (kind) {
      case device::PostKind::kJoin:
        agent_.on_join_reply(reply.has_value(), success, body, now, posts, events);
        break;
      case device::PostKind::kD2d:
        on_d2d_reply(tag, success, reply);
        break;
      case device::PostKind::kRequest:
        if (reply && !success) {
          log_.warn("request_refused",
                    {{"code", io::to_string(reply->code)},
                     {"reason", std::string(reply->payload.begin(), reply->payload.end())}});
        }
        agent_.on_request_reply(tag, reply.has_value(), success, body, now, posts, events);
        break;
    }
    after_input(events, posts);
  }

  void on_d2d_reply(std::uint64_t tag, bool ok, const std::optional<io::CoapReply>& reply) {
    const std::uint64_t now = io::steady_clock_ms();
    if (tag == kBurstTag) {
      burst_ok_ += ok ? 1 : 0;
      if (burst_left_ > 0 && --burst_left_ == 0) {
        out({{"event", "burst"},
             {"ok", true},
             {"delivered", burst_ok_},
             {"ms", now - burst_started_ms_}});
      }
      return;
    }
    const auto it = sent_at_.find(tag);
    const std::uint64_t ms = it == sent_at_.end() ? 0 : now - it->second;
    if (it != sent_at_.end()) sent_at_.erase(it);
    out({{"event", "sent"},
         {"tag", tag},
         {"ok", ok},
         {"ms", ms},
         {"code", reply ? io::to_string(reply->code) : "no answer"}});
  }

  // After every input: the attacker copies the keys, the events go out, the posts leave.
  void after_input(std::vector<device::Event>& events, std::vector<device::Post>& posts) {
    if (eavesdropper_ && agent_.keyring()) eavesdropper_->observe(*agent_.keyring());
    emit(events);
    execute(posts);
  }

  void emit(std::vector<device::Event>& events) {
    for (const device::Event& e : events) {
      json j = {{"event", e.name}};
      for (const auto& [k, v] : e.fields) {
        const bool number =
            !v.empty() && v.size() < 20 && v.find_first_not_of("0123456789") == std::string::npos;
        if (number) {
          j[k] = std::stoull(v);
        } else {
          j[k] = v;
        }
      }
      if (e.name == "keys" && !reported_join_) {
        reported_join_ = true;
        j["join_ms"] = io::steady_clock_ms() - join_started_ms_;
      }
      if (e.name == "join_failed") reported_join_ = false;
      out(j);
      log_.info(e.name, {{"node", agent_.node() ? agent_.node()->value() : 0u}});
    }
    events.clear();
  }

  void out(const json& j) {
    const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

  Logger& log_;
  asio::io_context io_;
  crypto::OsRng rng_;
  FileCounterStore counters_;
  FileStateSink sink_;
  device::DeviceAgent agent_;
  std::optional<device::Eavesdropper> eavesdropper_;
  io::CoapNode coap_;
  asio::posix::stream_descriptor input_;
  asio::streambuf input_buffer_{kCommandBytesMax};
  asio::steady_timer tick_;
  asio::signal_set signals_;
  std::map<std::uint64_t, std::uint64_t> sent_at_;
  static constexpr std::uint64_t kBurstTag = ~std::uint64_t{0};
  std::uint64_t burst_left_ = 0;
  std::uint64_t burst_ok_ = 0;
  std::uint64_t burst_started_ms_ = 0;
  std::uint64_t join_started_ms_ = 0;
  bool reported_join_ = false;
  bool stopped_ = false;
};

}  // namespace

int run_device(const DeviceOptions& o) {
  Logger log(fmt::format("device={}", fs::path(o.state).filename().string()), LogLevel::kInfo);
  auto gateway = parse_endpoint(o.gateway);
  if (!gateway) {
    fmt::print(stderr, "kmchain device: --gateway: {}\n", gateway.error());
    return 2;
  }
  auto listen = parse_endpoint(o.listen);
  if (!listen) {
    fmt::print(stderr, "kmchain device: --listen: {}\n", listen.error());
    return 2;
  }
  auto genesis_text = read_text(o.genesis);
  if (!genesis_text) {
    fmt::print(stderr, "kmchain device: --genesis: cannot read {}\n", o.genesis);
    return 2;
  }
  auto genesis = config::parse_genesis_file(*genesis_text);
  if (!genesis) {
    fmt::print(stderr, "kmchain device: {}: {}\n", o.genesis, to_string(genesis.error()));
    return 2;
  }
  const fs::path dir = o.state;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, ec);
  const fs::path credential_path =
      o.credential.empty() ? dir / "credential.json" : fs::path(o.credential);
  auto credential_text = read_text(credential_path);
  if (!credential_text) {
    fmt::print(stderr, "kmchain device: cannot read {}\n", credential_path.string());
    return 2;
  }
  auto credential = enroll::parse_credential_file(*credential_text);
  OPENSSL_cleanse(credential_text->data(), credential_text->size());
  if (!credential) {
    fmt::print(stderr, "kmchain device: {}: {}\n", credential_path.string(),
               enroll::to_string(credential.error()));
    return 2;
  }
  const fs::path state_path = dir / "device.state";
  std::string error;
  auto state = load_device_state(state_path, error);
  if (!state) {
    if (!error.empty()) {
      fmt::print(stderr, "kmchain device: {}\n", error);
      return 2;
    }
    crypto::OsRng rng;
    state = DeviceStateFile{enroll::draw_secret_code(rng), {}};
    // The secret code is durable before its commitment can reach the ledger.
    if (!save_device_state(state_path, *state)) {
      fmt::print(stderr, "kmchain device: cannot write {}\n", state_path.string());
      return 1;
    }
  }
  if (auto replay = load_replay_state(dir / "replay.state", error)) {
    state->durable.replay = std::move(*replay);
  } else if (!error.empty()) {
    fmt::print(stderr, "kmchain device: {}\n", error);
    return 2;
  }
  device::AgentConfig config;
  const auto id = genesis->genesis.chain_id();
  std::copy(id.begin(), id.end(), config.chain_id.begin());
  config.gateway = *gateway;
  config.listen_port = listen->port;
  config.grace_ms = o.grace_ms;
  config.check_interval_ms = o.check_interval_ms;
  DeviceProcess process(config, std::move(*credential), *state, dir, *listen, o.eavesdrop, log);
  return process.run();
}

}  // namespace kmchain::daemon
