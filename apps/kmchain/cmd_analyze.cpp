// kmchain analyze capture: node-capture and gateway-capture resilience, measured against the
// paper's formulas (Propositions 1 and 3).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kmchain/commands.h"
#include "sim/capture_analysis.h"

namespace kmchain::app {

namespace {

int run_capture(const sim::CaptureConfig& config, const sim::GatewayCaptureConfig& gw_config,
                bool json) {
  const sim::CaptureResult r = sim::analyze_capture(config);
  const sim::GatewayCaptureResult g = sim::analyze_gateway_capture(gw_config);
  if (json) {
    nlohmann::json out = {
        {"devices", r.devices},
        {"trials", config.trials},
        {"seed", config.seed},
        {"captured_per_trial", config.captured},
        {"sets", r.sets},
        {"set_size_min", r.set_size_min},
        {"set_size_max", r.set_size_max},
        {"links", r.links},
        {"node_capture",
         {{"measured", r.measured},
          {"formula", r.formula},
          {"structural", r.structural},
          {"min", r.measured_min},
          {"max", r.measured_max}}},
        {"gateways", gw_config.gateways},
        {"gateway_capture",
         {{"measured", g.measured},
          {"formula", g.formula},
          {"naive", g.naive},
          {"min", g.measured_min},
          {"max", g.measured_max},
          {"operations_per_history", g.operations},
          {"moves", g.moves},
          {"exposed_by_dropped_keys", g.exposed_by_dropped_keys}}},
    };
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("devices {} in {} sets of {}..{}; {} links; {} trials, {} captured each (seed {})\n",
             r.devices, r.sets, r.set_size_min, r.set_size_max, r.links, config.trials,
             config.captured, config.seed);
  fmt::print("{:<34}{:>12}\n", "compromised link fraction", "value");
  fmt::print("{:<34}{:>12.6f}\n", "measured (mean)", r.measured);
  fmt::print("{:<34}{:>12.6f}\n", "  min / max", r.measured_min);
  fmt::print("{:<34}{:>12.6f}\n", "", r.measured_max);
  fmt::print("{:<34}{:>12.6f}\n", "formula 2(n+1)/((sqrt n+1)n)", r.formula);
  if (config.captured == 1) {
    fmt::print("{:<34}{:>12.6f}\n", "expected from actual set sizes", r.structural);
  }
  fmt::print("\none gateway of {} captured; {} changes per history ({} moves in all)\n",
             gw_config.gateways, g.operations, g.moves);
  fmt::print("{:<34}{:>12.6f}\n", "measured (mean)", g.measured);
  fmt::print("{:<34}{:>12.6f}\n", "  min / max", g.measured_min);
  fmt::print("{:<34}{:>12.6f}\n", "", g.measured_max);
  fmt::print("{:<34}{:>12.6f}\n", "formula (2np-n-p)/((n-1)p^2)", g.formula);
  fmt::print("{:<34}{:>12.6f}\n", "any gateway into any set", g.naive);
  return 0;
}

}  // namespace

void add_analyze_command(CLI::App& app, int& exit_code) {
  auto* analyze = app.add_subcommand("analyze", "Security analyses");
  analyze->require_subcommand(1);
  auto* capture = analyze->add_subcommand("capture", "Links exposed by captured devices");
  auto config = std::make_shared<sim::CaptureConfig>();
  auto gw_config = std::make_shared<sim::GatewayCaptureConfig>();
  auto json = std::make_shared<bool>(false);
  capture->add_option("--devices", config->devices, "Network size")->check(CLI::Range(2, 1 << 20));
  capture->add_option("--trials", config->trials, "Independent captures to average")
      ->check(CLI::Range(1, 1000000));
  capture->add_option("--seed", config->seed, "Seed of the network and the captures");
  capture->add_option("--captured", config->captured, "Devices captured per trial")
      ->check(CLI::PositiveNumber);
  capture
      ->add_option("--gateways", gw_config->gateways,
                   "Gateways of the consortium, for gateway capture (default 4)")
      ->check(CLI::Range(1, 255));
  capture->add_flag("--json", *json, "One JSON object on stdout");
  capture->callback([config, gw_config, json, &exit_code] {
    if (config->captured > config->devices) {
      throw CLI::ValidationError("--captured", "cannot exceed --devices");
    }
    gw_config->devices = config->devices;
    gw_config->trials = config->trials;
    gw_config->seed = config->seed;
    exit_code = run_capture(*config, *gw_config, *json);
  });
}

}  // namespace kmchain::app
