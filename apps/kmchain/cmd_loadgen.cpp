// kmchain loadgen: many device agents in one process, for measurements (harness/loadgen.h).
#include <memory>

#include "harness/loadgen.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_loadgen_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("loadgen", "Many device agents in one process (measurements)");
  auto o = std::make_shared<harness::LoadgenOptions>();
  cmd->add_option("--genesis", o->genesis, "The consortium's genesis file")->required();
  cmd->add_option("--key", o->operator_key, "The operator's key file (kmchain init's operator.key)")
      ->required();
  cmd->add_option("--admin", o->admins, "Admin endpoints of the gateways (round robin)")
      ->required();
  cmd->add_option("--devices", o->devices, "Devices")->check(CLI::Range(1, 5000));
  cmd->add_option("--base-port", o->base_port, "First device port")->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Joins in flight at once")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = harness::run_loadgen(*o); });
}

}  // namespace kmchain::app
