// kmchain config check: loads a gateway's files as the daemon does at startup and reports the
// first problem, naming the file and field, or what the gateway would run as.
#include <fmt/format.h>

#include "io/gateway_files.h"
#include "kmchain/commands.h"

namespace kmchain::app {

namespace {

int run_check(const std::string& path) {
  auto files = io::load_gateway_files(path);
  if (!files) {
    fmt::print(stderr, "kmchain: {}: {}\n", path, to_string(files.error()));
    return 2;
  }
  const auto& c = files->config;
  const auto& g = files->genesis.genesis;
  fmt::print("{}: gateway {} of \"{}\" ({} gateways), chain id {}\n", path, c.index, g.name,
             g.validators.size(), to_hex(g.chain_id()));
  fmt::print("  identity {}, links {}, devices {}, admin {}, {} mode, data in {}\n",
             to_hex(files->identity.public_key()), to_string(c.listen_gateway),
             to_string(c.listen_device), to_string(c.listen_admin), to_string(c.submission_mode),
             files->data_dir.string());
  return 0;
}

}  // namespace

void add_config_command(CLI::App& app, int& exit_code) {
  auto* cfg = app.add_subcommand("config", "Gateway configuration");
  cfg->require_subcommand(1);
  auto* check = cfg->add_subcommand(
      "check", "Load a gateway's config, genesis, key and certificate, and check them together");
  auto path = std::make_shared<std::string>();
  check->add_option("--config", *path, "The gateway's config file")->required();
  check->callback([path, &exit_code] { exit_code = run_check(*path); });
}

}  // namespace kmchain::app
