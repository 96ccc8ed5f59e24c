// kmchain sim keys: the Layer-1 churn simulator.
#include <fmt/format.h>

#include "kmchain/commands.h"
#include "sim/key_sim.h"

namespace kmchain::app {

namespace {

int run_sim_keys(const sim::KeySimConfig& config, bool verbose) {
  fmt::print("seed {}\n", config.seed);
  std::fflush(stdout);
  auto progress = [&](const std::string& line) {
    if (verbose) fmt::print(stderr, "{}\n", line);
  };
  const sim::KeySimResult r = sim::run_key_sim(config, progress);
  const auto& s = r.stats;
  fmt::print(
      "devices {} (target {}), gateways {}, operations {}: {} joins, {} leaves, "
      "{} evictions\n",
      s.final_devices, config.devices, config.gateways, config.devices + config.ops, s.joins,
      s.leaves, s.evictions);
  fmt::print("reorder: {} sets dissolved, {} devices moved; {} refresh positions\n",
             s.dissolved_sets, s.reorder_moves, s.steps);
  fmt::print("sets {} (max {}), largest set {}, keys per device {}..{}\n", s.final_sets, s.max_sets,
             s.max_set_size, s.min_keys_per_device, s.max_keys_per_device);
  std::string kinds;
  for (const auto& [kind, count] : s.messages_by_kind)
    kinds += fmt::format(" {}={}", kind, count);
  fmt::print("messages:{}; deliveries {}; {} bytes\n", kinds, s.deliveries, s.wire_bytes);
  for (const auto& [op, totals] : s.messages_per_operation) {
    if (totals.second == 0) continue;
    fmt::print("  per {}: {:.1f} messages\n", op,
               static_cast<double>(totals.first) / static_cast<double>(totals.second));
  }
  fmt::print(
      "checks: {} device pairs agreed, {} forged/replayed copies refused, "
      "{} decryption attempts by departed devices failed\n",
      s.pairs_checked, s.rejected_forgeries, s.decrypt_attempts_by_departed);
  if (r.ok) {
    fmt::print("verdict: PASS\n");
    return 0;
  }
  fmt::print("verdict: FAIL at operation {}: invariant {} broken: {}\n", r.operation, r.invariant,
             r.detail);
  return 1;
}

}  // namespace

void add_sim_command(CLI::App& app, int& exit_code) {
  auto* sim = app.add_subcommand("sim", "Deterministic simulators");
  sim->require_subcommand(1);
  auto* keys = sim->add_subcommand("keys", "Layer-1 churn: joins, leaves and evictions, checked");
  auto config = std::make_shared<sim::KeySimConfig>();
  auto fault = std::make_shared<std::string>("none");
  auto verbose = std::make_shared<bool>(false);
  keys->add_option("--devices", config->devices, "Population reached before churn")
      ->check(CLI::Range(1, 1 << 20));
  keys->add_option("--ops", config->ops, "Churn operations after the population joined");
  keys->add_option("--seed", config->seed, "Seed: a run replays exactly from it");
  keys->add_option("--gateways", config->gateways, "Gateways owning sets")
      ->check(CLI::Range(1, 256));
  keys->add_option("--watchers", config->watchers,
                   "Departed devices that try to decrypt every later message");
  keys->add_option("--full-check-every", config->full_check_every,
                   "Compare every device in full every this many operations")
      ->check(CLI::PositiveNumber);
  keys->add_option("--inject-fault", *fault,
                   "Break the protocol on purpose to show the checks catch it: "
                   "leave-refresh-under-set-key, join-bundle-carries-old-keys, "
                   "skip-pairwise-set-refresh");
  keys->add_flag("--verbose", *verbose, "Progress on stderr");
  keys->callback([config, fault, verbose, &exit_code] {
    auto parsed = keys::fault_from_string(*fault);
    if (!parsed) throw CLI::ValidationError("--inject-fault", "unknown fault: " + *fault);
    config->fault = *parsed;
    exit_code = run_sim_keys(*config, *verbose);
  });
}

}  // namespace kmchain::app
