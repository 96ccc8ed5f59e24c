// kmchain gateway --config FILE: runs one gateway until SIGTERM.
#include "daemon/gateway_daemon.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_gateway_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("gateway", "Run one gateway of a consortium until SIGTERM");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--config", *path, "The gateway's config file (from kmchain init)")->required();
  cmd->callback([path, &exit_code] { exit_code = daemon::run_gateway(*path); });
}

}  // namespace kmchain::app
