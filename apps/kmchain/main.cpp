// kmchain: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "kmchain/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"kmchain: blockchain-based key management for device-to-device IoT"};
  app.require_subcommand(1);
  int exit_code = 0;
  kmchain::app::add_sim_command(app, exit_code);
  kmchain::app::add_analyze_command(app, exit_code);
  kmchain::app::add_demo_command(app, exit_code);
  kmchain::app::add_key_demo_command(app, exit_code);
  kmchain::app::add_init_command(app, exit_code);
  kmchain::app::add_config_command(app, exit_code);
  kmchain::app::add_gateway_command(app, exit_code);
  kmchain::app::add_ctl_command(app, exit_code);
  kmchain::app::add_device_command(app, exit_code);
  kmchain::app::add_credential_command(app, exit_code);
  kmchain::app::add_loadgen_command(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
