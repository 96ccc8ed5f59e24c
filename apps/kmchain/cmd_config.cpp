// kmchain config check: loads a gateway's files as the daemon does at startup and reports the
// first problem, naming the file and field, or what the gateway would run as.
#include <fmt/format.h>

#include "daemon/operator_files.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_config_command(CLI::App& app, int& exit_code) {
  auto* cfg = app.add_subcommand("config", "Gateway configuration");
  cfg->require_subcommand(1);
  auto* check = cfg->add_subcommand(
      "check", "Load a gateway's config, genesis, key and certificate, and check them together");
  auto path = std::make_shared<std::string>();
  check->add_option("--config", *path, "The gateway's config file")->required();
  check->callback([path, &exit_code] {
    auto report = daemon::check_gateway_config(*path);
    if (!report) {
      fmt::print(stderr, "kmchain: {}\n", report.error());
      exit_code = 2;
      return;
    }
    fmt::print("{}", *report);
    exit_code = 0;
  });
}

}  // namespace kmchain::app
