// Subcommands of the kmchain binary. Each registers its options on the parent app and
// stores its exit code in `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace kmchain::app {

void add_sim_command(CLI::App& app, int& exit_code);
void add_analyze_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_key_demo_command(CLI::App& app, int& exit_code);
void add_init_command(CLI::App& app, int& exit_code);
void add_config_command(CLI::App& app, int& exit_code);
void add_gateway_command(CLI::App& app, int& exit_code);
void add_ctl_command(CLI::App& app, int& exit_code);
void add_device_command(CLI::App& app, int& exit_code);
void add_credential_command(CLI::App& app, int& exit_code);
void add_loadgen_command(CLI::App& app, int& exit_code);

}  // namespace kmchain::app
