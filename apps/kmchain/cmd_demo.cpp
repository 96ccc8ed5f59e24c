// kmchain demo: the main job, a consortium of gateways and devices as processes on loopback
// (harness/demo.h).
#include <memory>

#include "harness/demo.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_demo_command(CLI::App& app, int& exit_code) {
  auto* demo = app.add_subcommand(
      "demo", "The main job: a consortium of gateways and devices as processes on loopback");
  auto o = std::make_shared<harness::DemoOptions>();
  demo->add_option("--gateways", o->gateways, "Gateway processes")->check(CLI::Range(1, 16));
  demo->add_option("--devices", o->devices, "Device processes")->check(CLI::Range(12, 200));
  demo->add_option("--dir", o->dir, "Run directory (default runs/demo-<time>)");
  demo->add_option("--base-port", o->base_port, "First port (default: a free range)");
  demo->add_option("--submission-mode", o->mode, "commit or sync")
      ->check(CLI::IsMember({"commit", "sync"}));
  demo->add_option("--timeout-commit-ms", o->timeout_commit_ms, "Pause between heights")
      ->capture_default_str();
  demo->add_option("--burst", o->burst, "Records of the D2D throughput run (0: none)")
      ->capture_default_str();
  demo->callback([o, &exit_code] { exit_code = harness::run_demo(*o); });
}

}  // namespace kmchain::app
