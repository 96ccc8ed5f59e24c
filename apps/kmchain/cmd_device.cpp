// kmchain device --gateway ADDR --genesis FILE --state DIR --listen ADDR: runs one device agent.
//
// It joins through the gateway with the credential in DIR/credential.json (or resumes as the
// node it already is), keeps its keyring up to date from the gateway's pushes, and answers D2D
// records on its CoAP endpoint. It is driven over stdin/stdout, one JSON object per line (the
// demo and the tests are its operators; only the parent holds the pipe):
//
//   in   {"cmd":"send","peer":N,"set":S,"to":"host:port","text":"...","tag":K,
//         "copy_to":["host:port",...]}  (copies for eavesdroppers: the demo's attacker)
//        {"cmd":"burst","peer":N,"set":S,"to":"host:port","count":C}  (throughput)
//        {"cmd":"leave"}   {"cmd":"status"}   {"cmd":"quit"}
//   out  {"event":"accepted","node":N,...}  {"event":"keys","set":S,"position":P,"join_ms":T}
//        {"event":"d2d","from":N,...}  {"event":"sent","tag":K,"ok":true,"ms":T}
//        {"event":"sniffed","decrypted":false,...}  {"event":"status",...}
// Logs go to stderr (daemon/log.h). SIGTERM stops it.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/genesis_file.h"
#include "crypto/random.h"
#include "daemon/log.h"
#include "device/agent.h"
#include "io/coap_node.h"
#include "kmchain/commands.h"
#include "kmchain/device_state.h"

namespace kmchain::app {

namespace {

namespace fs = std::filesystem;

struct DeviceOptions {
  std::string gateway;
  std::string genesis;
  std::string state;
  std::string listen;
  std::string credential;
  std::uint64_t grace_ms = 10'000;
};

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DeviceProcess {
 public:
  DeviceProcess(device::AgentConfig config, enroll::DeviceCredential credential,
                DeviceStateFile& state, const fs::path& state_dir, const config::Endpoint& listen,
                daemon::Logger& log)
      : log_(log),
        counters_(state_dir / "send.counter"),
        sink_(state_dir / "device.state", state),
        agent_(config, std::move(credential), state.code, rng_, counters_, sink_, state.identity,
               state.request_counter),
        coap_(io_, listen),
        input_(io_, ::dup(0)),
        tick_(io_),
        signals_(io_, SIGTERM, SIGINT) {
    coap_.on_post("rekey", [this](const config::Endpoint&, ByteView body) {
      std::vector<device::Post> posts;
      std::vector<device::Event> events;
      const bool ok = agent_.on_rekey(body, steady_ms(), posts, events);
      emit(events);
      execute(posts);
      return io::CoapReply{ok ? io::CoapCode::kChanged : io::CoapCode::kBadRequest, {}};
    });
    coap_.on_post("d2d", [this](const config::Endpoint&, ByteView body) {
      std::vector<device::Event> events;
      const bool ok = agent_.on_d2d(body, steady_ms(), events);
      emit(events);
      return io::CoapReply{ok ? io::CoapCode::kChanged : io::CoapCode::kBadRequest, {}};
    });
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
    join_started_ms_ = steady_ms();
    std::vector<device::Post> posts;
    agent_.start(steady_ms(), posts);
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
      agent_.tick(steady_ms(), posts);
      execute(posts);
      schedule_tick();
    });
  }

  void read_command() {
    asio::async_read_until(
        input_, input_buffer_, '\n', [this](const asio::error_code& ec, std::size_t n) {
          if (ec) return stop();  // the operator went away
          std::string line(
              asio::buffers_begin(input_buffer_.data()),
              asio::buffers_begin(input_buffer_.data()) + static_cast<std::ptrdiff_t>(n));
          input_buffer_.consume(n);
          command(line);
          if (!stopped_) read_command();
        });
  }

  void command(const std::string& line) {
    const auto cmd = nlohmann::json::parse(line, nullptr, false);
    if (cmd.is_discarded() || !cmd.is_object() || !cmd.contains("cmd")) {
      out({{"event", "error"}, {"error", "not a command"}});
      return;
    }
    const std::string name = cmd.value("cmd", "");
    std::vector<device::Post> posts;
    if (name == "send") {
      auto to = config::parse_endpoint(cmd.value("to", ""));
      const std::uint64_t tag = cmd.value("tag", std::uint64_t{0});
      std::string error;
      const std::string text = cmd.value("text", "");
      if (!to) {
        out({{"event", "sent"}, {"tag", tag}, {"ok", false}, {"error", "bad address"}});
        return;
      }
      sent_at_[tag] = steady_ms();
      if (!agent_.send(NodeId{cmd.value("peer", 0u)}, SetId{cmd.value("set", 0u)}, *to,
                       ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                       tag, posts, error)) {
        out({{"event", "sent"}, {"tag", tag}, {"ok", false}, {"error", error}});
        return;
      }
      // Copies of the record for eavesdroppers, when the operator names them.
      if (cmd.contains("copy_to") && cmd["copy_to"].is_array() && !posts.empty()) {
        const device::Post original = posts.back();
        for (const auto& address : cmd["copy_to"]) {
          if (!address.is_string()) continue;
          if (auto spy = config::parse_endpoint(address.get<std::string>())) {
            device::Post copy = original;
            copy.to = *spy;
            copy.kind = device::PostKind::kRequest;  // no "sent" event for a copy
            posts.push_back(std::move(copy));
          }
        }
      }
    } else if (name == "burst") {
      // Throughput: `count` records to one peer back to back; one "burst" event at the end.
      auto to = config::parse_endpoint(cmd.value("to", ""));
      const std::uint64_t count = cmd.value("count", std::uint64_t{0});
      if (!to || count == 0 || burst_left_ != 0) {
        out({{"event", "burst"}, {"ok", false}, {"error", "bad burst"}});
        return;
      }
      burst_left_ = count;
      burst_ok_ = 0;
      burst_started_ms_ = steady_ms();
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::string text = fmt::format("burst record {}", i);
        std::string error;
        if (!agent_.send(NodeId{cmd.value("peer", 0u)}, SetId{cmd.value("set", 0u)}, *to,
                         ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                         kBurstTag, posts, error)) {
          burst_left_ = 0;
          out({{"event", "burst"}, {"ok", false}, {"error", error}});
          return;
        }
      }
    } else if (name == "leave") {
      agent_.leave(posts);
    } else if (name == "status") {
      status();
    } else if (name == "quit") {
      stop();
      return;
    } else {
      out({{"event", "error"}, {"error", "unknown command " + name}});
    }
    execute(posts);
  }

  void status() {
    const auto& st = agent_.stats();
    nlohmann::json rekey_errors = nlohmann::json::object();
    for (const auto& [k, v] : st.rekey_errors)
      rekey_errors[k] = v;
    nlohmann::json d2d_errors = nlohmann::json::object();
    for (const auto& [k, v] : st.d2d_errors)
      d2d_errors[k] = v;
    out({{"event", "status"},
         {"node", agent_.node() ? agent_.node()->value() : 0u},
         {"set", agent_.set() ? agent_.set()->value() : 0u},
         {"position", agent_.position().value()},
         {"keys", agent_.key_count()},
         {"rekey_applied", st.rekey_applied},
         {"rekey_errors", rekey_errors},
         {"d2d_sent", st.d2d_sent},
         {"d2d_received", st.d2d_received},
         {"d2d_errors", d2d_errors},
         {"sniffed", st.sniffed},
         {"sniffed_decrypted", st.sniffed_decrypted},
         {"catch_up_requests", st.catch_up_requests},
         {"coap_malformed_datagrams", io::coap_malformed_datagrams()},
         {"coap_unknown_paths", coap_.stats().unknown_paths}});
  }

  void execute(std::vector<device::Post>& posts) {
    for (device::Post& p : posts) {
      const device::PostKind kind = p.kind;
      const std::uint64_t tag = p.tag;
      coap_.post(p.to, p.path, p.body, [this, kind, tag](std::optional<io::CoapReply> reply) {
        on_reply(kind, tag, std::move(reply));
      });
    }
  }

  void on_reply(device::PostKind kind, std::uint64_t tag, std::optional<io::CoapReply> reply) {
    const std::uint64_t now = steady_ms();
    switch (kind) {
      case device::PostKind::kJoin: {
        std::vector<device::Event> events;
        const bool success = reply && io::is_success(reply->code);
        agent_.on_join_reply(reply.has_value(), success,
                             reply ? ByteView(reply->payload) : ByteView{}, now, events);
        emit(events);
        if (!agent_.joined()) {
          // No answer: the same hello again, a little later.
          if (!reply) {
            auto retry = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(500));
            retry->async_wait([this, retry](const asio::error_code& ec) {
              if (ec || stopped_) return;
              std::vector<device::Post> posts;
              agent_.start(steady_ms(), posts);
              execute(posts);
            });
          }
        }
        break;
      }
      case device::PostKind::kD2d: {
        const bool ok = reply && io::is_success(reply->code);
        if (tag == kBurstTag) {
          burst_ok_ += ok ? 1 : 0;
          if (--burst_left_ == 0) {
            out({{"event", "burst"},
                 {"ok", true},
                 {"delivered", burst_ok_},
                 {"ms", now - burst_started_ms_}});
          }
          break;
        }
        const auto it = sent_at_.find(tag);
        const std::uint64_t ms = it == sent_at_.end() ? 0 : now - it->second;
        if (it != sent_at_.end()) sent_at_.erase(it);
        out({{"event", "sent"},
             {"tag", tag},
             {"ok", ok},
             {"ms", ms},
             {"code", reply ? io::to_string(reply->code) : "no answer"}});
        break;
      }
      case device::PostKind::kRequest:
        if (reply && !io::is_success(reply->code)) {
          log_.warn("request_refused",
                    {{"code", io::to_string(reply->code)},
                     {"reason", std::string(reply->payload.begin(), reply->payload.end())}});
        }
        break;
    }
  }

  void emit(std::vector<device::Event>& events) {
    for (const device::Event& e : events) {
      nlohmann::json j = {{"event", e.name}};
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
        j["join_ms"] = steady_ms() - join_started_ms_;
      }
      out(j);
      log_.info(e.name, {{"node", agent_.node() ? agent_.node()->value() : 0u}});
    }
    events.clear();
  }

  void out(const nlohmann::json& j) {
    const std::string line =
        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

  daemon::Logger& log_;
  asio::io_context io_;
  crypto::OsRng rng_;
  FileCounterStore counters_;
  FileStateSink sink_;
  device::DeviceAgent agent_;
  io::CoapNode coap_;
  asio::posix::stream_descriptor input_;
  asio::streambuf input_buffer_{64 * 1024};
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

int run_device(const DeviceOptions& o) {
  daemon::Logger log(fmt::format("device={}", fs::path(o.state).filename().string()),
                     daemon::LogLevel::kInfo);
  auto gateway = config::parse_endpoint(o.gateway);
  if (!gateway) {
    fmt::print(stderr, "kmchain device: --gateway: {}\n", gateway.error());
    return 2;
  }
  auto listen = config::parse_endpoint(o.listen);
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
    fmt::print(stderr, "kmchain device: {}: {}\n", o.genesis, config::to_string(genesis.error()));
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
    state = DeviceStateFile{enroll::draw_secret_code(rng), std::nullopt, 0};
    // The secret code is durable before its commitment can reach the ledger.
    if (!save_device_state(state_path, *state)) {
      fmt::print(stderr, "kmchain device: cannot write {}\n", state_path.string());
      return 1;
    }
  }
  device::AgentConfig config;
  const auto id = genesis->genesis.chain_id();
  std::copy(id.begin(), id.end(), config.chain_id.begin());
  config.gateway = *gateway;
  config.listen_port = listen->port;
  config.grace_ms = o.grace_ms;
  DeviceProcess process(config, std::move(*credential), *state, dir, *listen, log);
  return process.run();
}

}  // namespace

void add_device_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("device", "Run one device agent (driven over stdin/stdout)");
  auto o = std::make_shared<DeviceOptions>();
  cmd->add_option("--gateway", o->gateway, "The home gateway's device endpoint host:port")
      ->required();
  cmd->add_option("--genesis", o->genesis, "The consortium's genesis file")->required();
  cmd->add_option("--state", o->state, "The device's state directory")->required();
  cmd->add_option("--listen", o->listen, "Where this device receives (host:port)")->required();
  cmd->add_option("--credential", o->credential,
                  "The enrollment credential (default: STATE/credential.json)");
  cmd->add_option("--grace-ms", o->grace_ms, "How long an old DEK stays valid after a rekey")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_device(*o); });
}

}  // namespace kmchain::app
