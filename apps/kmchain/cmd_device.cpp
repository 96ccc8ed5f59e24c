// kmchain device: one device agent as a process (daemon/device_process.h).
#include <memory>

#include "daemon/device_process.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_device_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("device", "Run one device agent (driven over stdin/stdout)");
  auto o = std::make_shared<daemon::DeviceOptions>();
  cmd->add_option("--gateway", o->gateway, "The home gateway's device endpoint host:port")
      ->required();
  cmd->add_option("--genesis", o->genesis, "The consortium's genesis file")->required();
  cmd->add_option("--state", o->state, "The device's state directory")->required();
  cmd->add_option("--listen", o->listen, "Where this device receives (host:port)")->required();
  cmd->add_option("--credential", o->credential,
                  "The enrollment credential (default: STATE/credential.json)");
  cmd->add_option("--grace-ms", o->grace_ms, "How long an old DEK stays valid after a rekey")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{86'400'000}));
  cmd->add_option("--check-interval-ms", o->check_interval_ms,
                  "How often the device asks its gateway for anything it missed")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{86'400'000}));
  cmd->add_flag("--eavesdrop", o->eavesdrop,
                "The demo's attacker: keep every key and try them on others' records");
  cmd->callback([o, &exit_code] { exit_code = daemon::run_device(*o); });
}

}  // namespace kmchain::app
