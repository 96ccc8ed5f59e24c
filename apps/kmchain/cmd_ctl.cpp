// kmchain ctl --gateway ADDR (--consortium DIR | --key FILE --genesis FILE)
//   status | members | evict NODE | admit --credential FILE | chain [--from H] [--count C]:
// the operator's client of a gateway's admin endpoint (daemon/admin_server.h), authenticated by
// the operator's key. Human-readable by default, the gateway's JSON with --json.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/operator_files.h"
#include "enroll/credential.h"
#include "kmchain/commands.h"

namespace kmchain::app {

namespace {

struct CtlOptions {
  std::string gateway;
  std::string consortium;
  std::string key;
  std::string genesis;
  bool json = false;
  std::uint32_t node = 0;
  std::uint64_t from = 1;
  std::uint64_t count = 20;
  std::string credential;
};

void print_pending_evictions(const nlohmann::json& r) {
  if (!r.contains("pending_evictions")) return;
  for (const auto& e : r["pending_evictions"]) {
    fmt::print("  eviction of node {} asked by gateways {} (power {}, {} needed)\n",
               e["node"].get<std::uint32_t>(), e["asked_by"].dump(),
               e["power"].get<std::uint64_t>(), e["power_needed"].get<std::uint64_t>());
  }
}

void print_status(const nlohmann::json& r) {
  fmt::print("gateway {}  height {}  members {} in {} sets  mempool {}  mode {}\n",
             r["gateway"].get<int>(), r["height"].get<std::uint64_t>(),
             r["members"].get<std::uint64_t>(), r["sets"].get<std::uint64_t>(),
             r["mempool"].get<std::uint64_t>(), r["submission_mode"].get<std::string>());
  fmt::print("chain {}\nlast block {}\npeers connected {}\n", r["chain_id"].get<std::string>(),
             r["last_block_hash"].get<std::string>(), r["peers_connected"].dump());
  fmt::print("consensus {}\nlinks {}\n", r["consensus"].dump(), r["links"].dump());
  if (r.contains("devices")) fmt::print("devices {}\n", r["devices"].dump());
  print_pending_evictions(r);
}

void print_members(const nlohmann::json& r) {
  fmt::print("{} members at height {}\n", r["members"].get<std::uint64_t>(),
             r["height"].get<std::uint64_t>());
  for (const auto& s : r["sets"]) {
    fmt::print("  set {:#010x} (gateway {}): {}\n", s["set"].get<std::uint32_t>(),
               s["owner"].get<int>(), s["members"].dump());
  }
  print_pending_evictions(r);
}

void print_eviction(const nlohmann::json& r) {
  const auto node = r["node"].get<std::uint32_t>();
  const auto set = r["set"].get<std::uint32_t>();
  if (r["by_home"].get<bool>()) {
    fmt::print(
        "eviction of node {} (set {:#010x}) submitted by its home gateway: pending, done "
        "once its block is final\n",
        node, set);
    return;
  }
  fmt::print("eviction of node {} (set {:#010x}) {} by gateways {} (power {}, {} needed): {}\n",
             node, set, r["already_asked"].get<bool>() ? "already asked" : "asked",
             r["asked_by"].dump(), r["power"].get<std::uint64_t>(),
             r["power_needed"].get<std::uint64_t>(),
             r["state"].get<std::string>() == "pending"
                 ? "pending, done once its block is final"
                 : "waiting for more gateways to ask (more than a third of the power)");
}

void print_chain(const nlohmann::json& r) {
  for (const auto& b : r["blocks"]) {
    fmt::print("#{} {} proposer {} signatures {} txs {}\n", b["height"].get<std::uint64_t>(),
               b["hash"].get<std::string>().substr(0, 16), b["proposer"].get<int>(),
               b["signatures"].get<std::uint64_t>(), b["transactions"].size());
    for (const auto& tx : b["transactions"]) {
      fmt::print("    {} node {} set {:#010x}\n", tx["op"].get<std::string>(),
                 tx["node"].get<std::uint32_t>(), tx["set"].get<std::uint32_t>());
    }
  }
}

int run_ctl(const CtlOptions& o, const std::string& op) {
  auto endpoint = parse_endpoint(o.gateway);
  if (!endpoint) {
    fmt::print(stderr, "kmchain ctl: --gateway: {}\n", endpoint.error());
    return 2;
  }
  if (!o.consortium.empty() && (!o.key.empty() || !o.genesis.empty())) {
    fmt::print(stderr,
               "kmchain ctl: --consortium names the key and genesis; not with --key or "
               "--genesis\n");
    return 2;
  }
  const std::string key = o.consortium.empty() ? o.key : o.consortium + "/operator.key";
  const std::string genesis = o.consortium.empty() ? o.genesis : o.consortium + "/genesis.json";
  if (key.empty() || genesis.empty()) {
    fmt::print(stderr,
               "kmchain ctl: the operator's key is needed: --consortium DIR (as kmchain "
               "init wrote it), or --key FILE and --genesis FILE\n");
    return 2;
  }
  auto credentials = daemon::load_operator_credentials(key, genesis);
  if (!credentials) {
    fmt::print(stderr, "kmchain ctl: {}\n", credentials.error());
    return 2;
  }
  nlohmann::json request = {{"op", op}};
  if (op == "evict") request["node"] = o.node;
  if (op == "admit") {
    std::ifstream in(o.credential);
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    auto credential = enroll::parse_credential_file(content);
    OPENSSL_cleanse(content.data(), content.size());
    if (!in || !credential) {
      fmt::print(stderr, "kmchain ctl: {}: {}\n", o.credential,
                 credential ? "cannot read" : enroll::to_string(credential.error()));
      return 2;
    }
    request["credential_id"] = to_hex(credential->id);
    request["psk"] = to_hex(credential->psk.view());
  }
  if (op == "chain") {
    request["from"] = o.from;
    request["count"] = o.count;
  }
  std::string error;
  auto response = daemon::admin_request(*endpoint, *credentials, request, error);
  if (!response) {
    fmt::print(stderr, "kmchain ctl: {}\n", error);
    return 1;
  }
  if (!response->value("ok", false)) {
    fmt::print(stderr, "kmchain ctl: {}: {}\n", op, response->value("error", "failed"));
    return 1;
  }
  if (o.json) {
    fmt::print("{}\n", response->dump(2));
    return 0;
  }
  try {
    if (op == "status") print_status(*response);
    if (op == "members") print_members(*response);
    if (op == "chain") print_chain(*response);
    if (op == "admit") fmt::print("credential admitted\n");
    if (op == "evict") print_eviction(*response);
  } catch (const nlohmann::json::exception& e) {
    fmt::print(stderr, "kmchain ctl: unexpected answer: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

void add_ctl_command(CLI::App& app, int& exit_code) {
  auto* ctl = app.add_subcommand("ctl", "Operator commands to a gateway's admin endpoint");
  auto o = std::make_shared<CtlOptions>();
  ctl->add_option("--gateway", o->gateway, "The gateway's admin address host:port")->required();
  ctl->add_option("--consortium", o->consortium,
                  "The directory kmchain init wrote: its operator.key and genesis.json");
  ctl->add_option("--key", o->key, "The operator's Ed25519 key (PEM, mode 0600)");
  ctl->add_option("--genesis", o->genesis, "The consortium's genesis file");
  ctl->add_flag("--json", o->json, "Print the gateway's JSON answer");
  ctl->require_subcommand(1);
  ctl->add_subcommand("status", "Height, peers, members, error counters")
      ->callback([o, &exit_code] { exit_code = run_ctl(*o, "status"); });
  ctl->add_subcommand("members", "Sets and their members")->callback([o, &exit_code] {
    exit_code = run_ctl(*o, "members");
  });
  auto* evict = ctl->add_subcommand("evict", "Submit the eviction of a device");
  evict->add_option("node", o->node, "The device's node id")->required();
  evict->callback([o, &exit_code] { exit_code = run_ctl(*o, "evict"); });
  auto* admit = ctl->add_subcommand("admit", "Admit a device's enrollment credential");
  admit->add_option("--credential", o->credential, "The credential file")->required();
  admit->callback([o, &exit_code] { exit_code = run_ctl(*o, "admit"); });
  auto* chain = ctl->add_subcommand("chain", "Decided blocks");
  chain->add_option("--from", o->from, "First height")->capture_default_str();
  chain->add_option("--count", o->count, "Blocks at most")->capture_default_str();
  chain->callback([o, &exit_code] { exit_code = run_ctl(*o, "chain"); });
}

void add_credential_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("credential", "Create a device enrollment credential (a PSK)");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "The file to write (mode 0600; must not exist)")->required();
  cmd->callback([out, &exit_code] {
    crypto::OsRng rng;
    const auto credential = enroll::DeviceCredential::generate(rng);
    if (auto written = daemon::write_credential_file(*out, credential); !written) {
      fmt::print(stderr, "kmchain credential: {}\n", written.error());
      exit_code = 1;
      return;
    }
    fmt::print("{}: credential {}\n", *out, to_hex(credential.id));
  });
}

}  // namespace kmchain::app
