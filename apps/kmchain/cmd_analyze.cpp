// kmchain analyze capture: node-capture and gateway-capture resilience, measured against the
// paper's formulas (Propositions 1 and 3).
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

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
         {{"captured_gateways", gw_config.captured_gateways},
          {"measured", g.measured},
          {"formula", g.formula},
          {"naive", g.naive},
          {"min", g.measured_min},
          {"max", g.measured_max},
          {"operations_per_history", g.operations},
          {"moves", g.moves},
          {"exposed_by_dropped_keys", g.exposed_by_dropped_keys}}},
        {"node_capture_with_gateways",
         {{"measured", g.node_measured}, {"formula", g.node_formula}}},
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
  fmt::print("\n{} gateway(s) of {} captured together; {} changes per history ({} moves in all)\n",
             gw_config.captured_gateways, gw_config.gateways, g.operations, g.moves);
  fmt::print("{:<34}{:>12.6f}\n", "measured (mean)", g.measured);
  fmt::print("{:<34}{:>12.6f}\n", "  min / max", g.measured_min);
  fmt::print("{:<34}{:>12.6f}\n", "", g.measured_max);
  fmt::print("{:<34}{:>12.6f}\n", "formula c(2np-cn-p)/((n-1)p^2)", g.formula);
  fmt::print("{:<34}{:>12.6f}\n", "any gateway into any set", g.naive);
  fmt::print("{:<34}{:>12.6f}\n", "one device, in these histories", g.node_measured);
  return 0;
}

// The paper's Fig. 4 (p = 1..16): a CSV, a gnuplot script, and the PNG when gnuplot is there.
int run_figure(const sim::GatewayCaptureConfig& base, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "analyze capture: cannot create {}: {}\n", dir, ec.message());
    return 1;
  }
  const fs::path csv = fs::path(dir) / "fig4.csv";
  const fs::path script = fs::path(dir) / "fig4.gp";
  const fs::path png = fs::path(dir) / "fig4.png";
  std::ofstream out(csv);
  out << "gateways,node_measured,node_formula,gateway_measured,gateway_formula,gateway_naive\n";
  fmt::print("{:>3} {:>14} {:>13} {:>17} {:>16} {:>14}\n", "p", "node measured", "node formula",
             "gateway measured", "gateway formula", "gateway naive");
  for (const sim::Figure4Row& r : sim::figure4(base.devices, 16, base.trials, base.seed)) {
    out << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", r.gateways, r.node_measured,
                       r.node_formula, r.gateway_measured, r.gateway_formula, r.gateway_naive);
    fmt::print("{:>3} {:>14.6f} {:>13.6f} {:>17.6f} {:>16.6f} {:>14.6f}\n", r.gateways,
               r.node_measured, r.node_formula, r.gateway_measured, r.gateway_formula,
               r.gateway_naive);
  }
  out.close();
  if (!out) {
    fmt::print(stderr, "analyze capture: cannot write {}\n", csv.string());
    return 1;
  }
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 800,500\n"
     << "set output '" << png.string() << "'\n"
     << "set datafile separator ','\n"
     << "set key right center\n"
     << "set yrange [0:1.05]\n"
     << "set xlabel 'gateways p'\n"
     << "set ylabel 'fraction of links exposed'\n"
     << "set title 'Captured-link rate, n = " << base.devices << "'\n"
     << "plot '" << csv.string() << "' using 1:4 with linespoints title 'gateway, measured', \\\n"
     << "     '' using 1:5 with lines dashtype 2 title 'gateway, Prop. 3', \\\n"
     << "     '' using 1:6 with linespoints title 'gateway, any set (naive)', \\\n"
     << "     '' using 1:2 with linespoints title 'node, measured', \\\n"
     << "     '' using 1:3 with lines dashtype 2 title 'node, Prop. 1'\n";
  gp.close();
  if (!gp) {
    fmt::print(stderr, "analyze capture: cannot write {}\n", script.string());
    return 1;
  }
  fmt::print("wrote {} and {}\n", csv.string(), script.string());
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    fmt::print("gnuplot not found: no PNG (apt-get install gnuplot-nox)\n");
    return 0;
  }
  const std::string cmd = "gnuplot '" + script.string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    fmt::print(stderr, "analyze capture: gnuplot failed on {}\n", script.string());
    return 1;
  }
  fmt::print("wrote {}\n", png.string());
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
  capture
      ->add_option("--captured-gateways", gw_config->captured_gateways,
                   "Gateways captured together (default 1)")
      ->check(CLI::Range(1, 255));
  auto figure = std::make_shared<std::string>();
  capture->add_option("--figure", *figure,
                      "Write the paper's Fig. 4 (p = 1..16) as CSV and PNG into this directory");
  capture->add_flag("--json", *json, "One JSON object on stdout");
  capture->callback([config, gw_config, json, figure, &exit_code] {
    if (config->captured > config->devices) {
      throw CLI::ValidationError("--captured", "cannot exceed --devices");
    }
    if (gw_config->captured_gateways > gw_config->gateways) {
      throw CLI::ValidationError("--captured-gateways", "cannot exceed --gateways");
    }
    gw_config->devices = config->devices;
    gw_config->trials = config->trials;
    gw_config->seed = config->seed;
    exit_code =
        figure->empty() ? run_capture(*config, *gw_config, *json) : run_figure(*gw_config, *figure);
  });
}

}  // namespace kmchain::app
