// `kmchain init` (daemon/consortium_init.h).
#include "daemon/consortium_init.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "config/gateway_pair_key.h"
#include "config/genesis_file.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "io/clock.h"
#include "io/durable_file.h"

namespace kmchain::daemon {

namespace {

namespace fs = std::filesystem;

bool write_new_file(const fs::path& path, std::string_view text, mode_t mode) {
  auto written = io::write_new_file(path, text, mode);
  if (!written) fmt::print(stderr, "kmchain init: {}\n", written.error());
  return written.ok();
}

bool make_dir(const fs::path& path, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (!ec) fs::permissions(path, perms, ec);
  if (ec) {
    fmt::print(stderr, "kmchain init: cannot create directory {}: {}\n", path.string(),
               ec.message());
    return false;
  }
  return true;
}

}  // namespace

int run_init(const InitOptions& o) {
  const fs::path dir(o.dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    fmt::print(stderr, "kmchain init: {} exists and is not empty; refusing to overwrite keys\n",
               o.dir);
    return 2;
  }
  if (!is_ip_address(o.host)) {
    fmt::print(stderr, "kmchain init: --host {}: an IP address is expected (gateways bind it)\n",
               o.host);
    return 2;
  }
  if (o.base_port + 3 * o.gateways > 65535) {
    fmt::print(stderr, "kmchain init: --base-port {} leaves no room for {} gateways\n", o.base_port,
               o.gateways);
    return 2;
  }
  if (!make_dir(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec)) {
    return 1;
  }
  const std::uint64_t now_ms = io::wall_clock_ms();
  crypto::OsRng rng;
  // The operator's key: the one the gateways' admin endpoints accept (daemon/admin_server.h).
  const crypto::Ed25519KeyPair operator_key = crypto::Ed25519KeyPair::generate(rng);
  if (!write_new_file(dir / "operator.key", crypto::private_key_pem(operator_key).view(), 0600))
    return 1;
  config::GenesisFile genesis;
  genesis.genesis.name = o.name;
  genesis.genesis.genesis_time_ms = now_ms;
  std::vector<config::GatewayConfig> configs;
  for (std::size_t i = 0; i < o.gateways; ++i) {
    const auto index = static_cast<std::uint16_t>(i);
    const auto port = static_cast<std::uint16_t>(o.base_port + 3 * i);
    const crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::generate(rng);
    const fs::path home = dir / fmt::format("gateway-{}", i);
    if (!make_dir(home, fs::perms::owner_all) || !make_dir(home / "data", fs::perms::owner_all))
      return 1;
    const crypto::SecretPem key_pem = crypto::private_key_pem(key);
    const std::string cert_pem = crypto::self_signed_certificate_pem(
        key, fmt::format("kmchain gateway {} of {}", i, o.name),
        static_cast<std::int64_t>(now_ms / 1000), static_cast<int>(o.certificate_days));
    if (!write_new_file(home / "identity.key", key_pem.view(), 0600) ||
        !write_new_file(home / "identity.crt", cert_pem, 0644)) {
      return 1;
    }
    genesis.genesis.validators.push_back(ledger::Validator{GatewayId{index}, key.public_key(), 1});
    genesis.addresses.push_back(config::GatewayAddresses{
        Endpoint{o.host, port}, Endpoint{o.host, static_cast<std::uint16_t>(port + 1)}});
    genesis.pair_keys.push_back(config::gateway_pair_key(key).public_key());
    config::GatewayConfig c;
    c.index = index;
    c.genesis = "../genesis.json";
    c.identity_key = "identity.key";
    c.certificate = "identity.crt";
    c.data_dir = "data";
    c.listen_gateway = genesis.addresses.back().gateway;
    c.listen_device = genesis.addresses.back().device;
    c.listen_admin = Endpoint{o.host, static_cast<std::uint16_t>(port + 2)};
    c.operator_keys = {operator_key.public_key()};
    c.submission_mode = o.submission_mode == "sync" ? ledger::SubmissionMode::kSync
                                                    : ledger::SubmissionMode::kCommit;
    c.timeouts.commit_ms = o.timeout_commit_ms;
    configs.push_back(c);
  }
  if (auto valid = ledger::validate_genesis(genesis.genesis); !valid) {
    fmt::print(stderr, "kmchain init: {}\n", ledger::to_string(valid.error()));
    return 2;
  }
  if (!write_new_file(dir / "genesis.json", config::render_genesis_file(genesis), 0644)) return 1;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    if (!write_new_file(dir / fmt::format("gateway-{}", i) / "gateway.toml",
                        config::render_gateway_config(configs[i]), 0644)) {
      return 1;
    }
  }
  fmt::print("consortium \"{}\" of {} gateways in {}\n", o.name, o.gateways, o.dir);
  fmt::print("chain id {}\n", to_hex(genesis.genesis.chain_id()));
  fmt::print("operator key {}/operator.key (kmchain ctl --consortium {} ...)\n", o.dir, o.dir);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    fmt::print("  gateway {}: {}/gateway-{}/gateway.toml, links {}, devices {}, admin {}\n", i,
               o.dir, i, to_string(configs[i].listen_gateway), to_string(configs[i].listen_device),
               to_string(configs[i].listen_admin));
  }
  return 0;
}

}  // namespace kmchain::daemon
