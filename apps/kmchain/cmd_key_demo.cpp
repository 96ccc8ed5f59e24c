// kmchain key-demo: an in-process run of the Layer-1 key scheme with a summary of its costs and
// its measured capture resilience (no processes, no network: the scheme alone, at any size).
#include <fmt/format.h>

#include <cmath>

#include "kmchain/commands.h"
#include "sim/capture_analysis.h"
#include "sim/key_demo.h"

namespace kmchain::app {

namespace {

int run_demo(const sim::DemoConfig& config) {
  fmt::print("kmchain demo: Layer-1 key scheme, {} devices, {} gateway(s), seed {}\n\n",
             config.devices, config.gateways, config.seed);
  const sim::DemoReport r = sim::run_key_demo(config);

  fmt::print("{:<18}{:>8}{:>6}{:>13}{:>11}{:>6}{:>14}{:>12}{:>10}\n", "phase", "devices", "sets",
             "keys/device", "2*sqrt(n)", "ops", "rekey msg/op", "d2d sent", "delivered");
  for (const auto& p : r.phases) {
    const std::string keys = fmt::format("{}..{}", p.keys_min, p.keys_max);
    const std::string per_op = p.operations == 0
                                   ? "-"
                                   : fmt::format("{:.1f}", static_cast<double>(p.rekey_messages) /
                                                               static_cast<double>(p.operations));
    fmt::print("{:<18}{:>8}{:>6}{:>13}{:>11.1f}{:>6}{:>14}{:>12}{:>10}\n", p.name, p.devices,
               p.sets, keys, 2.0 * std::sqrt(static_cast<double>(p.devices)), p.operations, per_op,
               p.d2d_sent, p.d2d_delivered);
  }

  fmt::print("\nevicted devices, after their eviction:\n");
  fmt::print("  rekey messages sent {:>6}, decrypted by an evicted device {}\n",
             r.rekey_messages_after_eviction, r.rekey_decrypted_by_evicted);
  fmt::print("  d2d messages sent   {:>6}, decrypted by an evicted device {}\n",
             r.d2d_after_eviction, r.d2d_decrypted_by_evicted);

  const sim::CaptureResult c =
      sim::analyze_capture({.devices = config.devices, .trials = 200, .seed = config.seed});
  fmt::print("\nnode capture (one device captured, {} trials): links exposed\n", 200);
  fmt::print("  measured {:.6f}   formula 2(n+1)/((sqrt n+1)n) {:.6f}\n", c.measured, c.formula);

  if (!r.ok) {
    fmt::print("\ndemo FAILED: {}\n", r.failure);
    return 1;
  }
  fmt::print("\ndemo OK\n");
  return 0;
}

}  // namespace

void add_key_demo_command(CLI::App& app, int& exit_code) {
  auto* demo =
      app.add_subcommand("key-demo", "The key scheme in one process, end to end, summarised");
  auto config = std::make_shared<sim::DemoConfig>();
  demo->add_option("--devices", config->devices, "Devices that join")->check(CLI::Range(8, 100000));
  demo->add_option("--gateways", config->gateways, "Gateways owning sets")
      ->check(CLI::Range(1, 256));
  demo->add_option("--seed", config->seed, "Seed");
  demo->callback([config, &exit_code] { exit_code = run_demo(*config); });
}

}  // namespace kmchain::app
