// kmchain analyze capture: node-capture resilience, measured against the paper's formula.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kmchain/commands.h"
#include "sim/capture_analysis.h"

namespace kmchain::app {

namespace {

int run_capture(const sim::CaptureConfig& config, bool json) {
  const sim::CaptureResult r = sim::analyze_capture(config);
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
  return 0;
}

}  // namespace

void add_analyze_command(CLI::App& app, int& exit_code) {
  auto* analyze = app.add_subcommand("analyze", "Security analyses");
  analyze->require_subcommand(1);
  auto* capture = analyze->add_subcommand("capture", "Links exposed by captured devices");
  auto config = std::make_shared<sim::CaptureConfig>();
  auto json = std::make_shared<bool>(false);
  capture->add_option("--devices", config->devices, "Network size")->check(CLI::Range(2, 1 << 20));
  capture->add_option("--trials", config->trials, "Independent captures to average")
      ->check(CLI::Range(1, 1000000));
  capture->add_option("--seed", config->seed, "Seed of the network and the captures");
  capture->add_option("--captured", config->captured, "Devices captured per trial")
      ->check(CLI::PositiveNumber);
  capture->add_flag("--json", *json, "One JSON object on stdout");
  capture->callback([config, json, &exit_code] {
    if (config->captured > config->devices) {
      throw CLI::ValidationError("--captured", "cannot exceed --devices");
    }
    exit_code = run_capture(*config, *json);
  });
}

}  // namespace kmchain::app
