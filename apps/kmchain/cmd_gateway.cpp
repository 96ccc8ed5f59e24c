// kmchain gateway --config FILE: runs one gateway until SIGTERM.
#include <fmt/format.h>

#include "daemon/gateway_daemon.h"
#include "io/gateway_files.h"
#include "kmchain/commands.h"

namespace kmchain::app {

namespace {

int run_gateway(const std::string& path) {
  auto files = io::load_gateway_files(path);
  if (!files) {
    fmt::print(stderr, "kmchain: {}: {}\n", path, to_string(files.error()));
    return 2;
  }
  const auto level = daemon::parse_log_level(files->config.log_level);
  daemon::Logger log(fmt::format("gw={}", files->config.index),
                     level ? *level : daemon::LogLevel::kInfo);
  auto gateway = daemon::GatewayDaemon::open(std::move(*files), log);
  if (!gateway) {
    log.error("open_failed", {{"error", gateway.error()}});
    return 1;
  }
  return (*gateway)->run();
}

}  // namespace

void add_gateway_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("gateway", "Run one gateway of a consortium until SIGTERM");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--config", *path, "The gateway's config file (from kmchain init)")->required();
  cmd->callback([path, &exit_code] { exit_code = run_gateway(*path); });
}

}  // namespace kmchain::app
