// kmchain sim keys | consensus | system: the deterministic simulators.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/fault_injection.h"
#include "kmchain/commands.h"
#include "sim/broken_rule_census.h"
#include "sim/consensus_sim.h"
#include "sim/consensus_sweep.h"
#include "sim/key_sim.h"
#include "sim/reports.h"
#include "sim/seed_batch.h"
#include "sim/sim_consortium.h"
#include "sim/system_sim.h"

namespace kmchain::app {

namespace {

constexpr const char* kNoFaultInjection =
    "this build has no fault injection: build with -DKMCHAIN_FAULT_INJECTION=ON (make faults)";

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

// The two forms of a seeded simulator: one run (--seed, with its description and verdict) or a
// batch of seeds on every core (--seeds A-B, a summary, --json for one JSON line).
struct BatchOptions {
  std::string seeds;
  bool json = false;
  bool verbose = false;
  unsigned jobs = 0;
};

template <class Result, class Run>
int run_seeded(std::uint64_t seed, const BatchOptions& batch, const Run& run,
               const std::string& header, const nlohmann::json& params) {
  if (batch.seeds.empty()) {
    fmt::print("seed {}\n", seed);
    std::fflush(stdout);
    const Result r = run(seed, /*batch=*/false);
    fmt::print("{}, faults: {}\n", header, r.fault_mix);
    fmt::print("{}\n", sim::describe(r));
    fmt::print("verdict: {}\n", r.ok() ? "PASS" : "FAIL");
    return r.ok() ? 0 : 1;
  }
  const auto range = sim::parse_seed_range(batch.seeds);
  if (!range) {
    fmt::print(stderr, "--seeds: expected A-B with A <= B, got '{}'\n", batch.seeds);
    return 2;
  }
  if (!batch.json) fmt::print("seeds {}-{}\n", range->first, range->last);
  std::fflush(stdout);
  const std::vector<Result> results =
      sim::run_seeds(*range, batch.jobs, [&](std::uint64_t s) { return run(s, true); });
  bool ok = true;
  for (const Result& r : results) {
    ok = ok && r.ok();
    if (!batch.json && (batch.verbose || !r.ok())) fmt::print("{}\n", sim::describe(r));
  }
  nlohmann::json summary = sim::summarize(results);
  summary.update(params);
  if (batch.json) {
    fmt::print("{}\n", summary.dump());
  } else {
    fmt::print("{}\nverdict: {}\n", sim::summary_line(summary), ok ? "PASS" : "FAIL");
  }
  return ok ? 0 : 1;
}

void add_batch_options(CLI::App* cmd, BatchOptions& batch) {
  cmd->add_option("--seeds", batch.seeds, "Batch form: every seed of A-B");
  cmd->add_option("--jobs", batch.jobs, "Threads for the batch form (default: cores)")
      ->check(CLI::Range(0u, 256u));
  cmd->add_flag("--json", batch.json, "Batch form: one JSON summary line");
  cmd->add_flag("--verbose", batch.verbose, "Batch form: a line per seed");
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
    if (*parsed != keys::Fault::kNone && !kFaultInjection)
      throw CLI::ValidationError("--inject-fault", kNoFaultInjection);
    config->fault = *parsed;
    exit_code = run_sim_keys(*config, *verbose);
  });

  auto* consensus = sim->add_subcommand(
      "consensus", "Tendermint over a faulty simulated network, with Byzantine gateways, checked");
  auto consensus_config = std::make_shared<sim::ConsensusSimConfig>();
  auto consensus_batch = std::make_shared<BatchOptions>();
  auto consensus_fault = std::make_shared<std::string>("none");
  consensus->add_option("--gateways", consensus_config->gateways, "Gateways (validators)")
      ->check(CLI::Range(1, 64));
  consensus->add_option("--byzantine", consensus_config->byzantine,
                        "Byzantine gateways, at most floor((P-1)/3); with --powers, as many as "
                        "can hold less than a third of the power");
  consensus
      ->add_option("--powers", consensus_config->powers,
                   "Each gateway's voting power, comma-separated (sets --gateways)")
      ->delimiter(',')
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000}));
  consensus->add_option("--seed", consensus_config->seed, "Seed of one run: it replays exactly");
  consensus->add_option("--ticks", consensus_config->ticks, "Simulated length, in 10 ms ticks")
      ->check(CLI::Range(100, 10'000'000));
  consensus->add_option("--inject-fault", *consensus_fault,
                        "Break a rule on purpose on every correct gateway (the names: "
                        "kmchain sim broken-rules --help, docs/consensus.md)");
  consensus->add_flag("--trace", consensus_config->trace,
                      "Single run: every event of the correct gateways on stderr");
  add_batch_options(consensus, *consensus_batch);
  consensus->callback([consensus_config, consensus_batch, consensus_fault, &exit_code] {
    sim::ConsensusSimConfig& c = *consensus_config;
    if (!c.powers.empty()) {
      if (c.powers.size() > 64) throw CLI::ValidationError("--powers", "at most 64 gateways");
      c.gateways = c.powers.size();
      if (!sim::byzantine_power_tolerated(c.powers, c.byzantine))
        throw CLI::ValidationError("--byzantine",
                                   "that many gateways hold a third of the power or more");
    } else if (c.byzantine * 3 >= c.gateways && c.byzantine > 0) {
      throw CLI::ValidationError("--byzantine", "must be at most floor((gateways-1)/3)");
    }
    if (!sim::inject_fault(*consensus_fault, c)) {
      throw CLI::ValidationError("--inject-fault", kFaultInjection
                                                       ? "unknown fault: " + *consensus_fault
                                                       : kNoFaultInjection);
    }
    exit_code = run_seeded<sim::ConsensusSimResult>(
        c.seed, *consensus_batch,
        [&c](std::uint64_t seed, bool batch) {
          sim::ConsensusSimConfig one = c;
          one.seed = seed;
          one.stop_at_violation = batch;
          return sim::run_consensus_sim(one);
        },
        fmt::format("gateways {}{}, byzantine {}", c.gateways,
                    c.powers.empty() ? "" : fmt::format(" (powers {})", fmt::join(c.powers, ",")),
                    c.byzantine),
        {{"gateways", c.gateways}, {"byzantine", c.byzantine}, {"powers", c.powers}});
  });

  auto* sweep = sim->add_subcommand(
      "sweep", "The consensus simulator over every consortium size 1-10 and unequal powers");
  auto sweep_options = std::make_shared<sim::SweepOptions>();
  auto sweep_json = std::make_shared<bool>(false);
  sweep
      ->add_option("--seeds-each", sweep_options->seeds_each,
                   "Seeds per consortium (default: each its share of 10,100)")
      ->check(CLI::Range(1, 1'000'000));
  sweep->add_option("--first-seed", sweep_options->first_seed, "First seed of each batch")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  sweep->add_option("--jobs", sweep_options->jobs, "Threads (default: cores)")
      ->check(CLI::Range(0u, 256u));
  sweep->add_flag("--json", *sweep_json, "The totals as one JSON line on stdout");
  sweep->callback([sweep_options, sweep_json, &exit_code] {
    sim::SweepOptions o = *sweep_options;
    o.progress = [](const std::string& line) {
      fmt::print(stderr, "{}\n", line);
      std::fflush(stderr);
    };
    const nlohmann::json totals = sim::run_consensus_sweep(o);
    const bool ok = totals["violations"].get<std::uint64_t>() == 0 &&
                    totals["liveness_failures"].get<std::uint64_t>() == 0;
    if (*sweep_json) {
      fmt::print("{}\n", totals.dump());
    } else {
      fmt::print(
          "{} seeds over {} consortia: {} violations, {} liveness failures, {} blocks, "
          "{:.1f} s wall, {:.0f} blocks per core-second\nverdict: {}\n",
          totals["seeds"].get<std::uint64_t>(), totals["consortia"].size(),
          totals["violations"].get<std::uint64_t>(),
          totals["liveness_failures"].get<std::uint64_t>(), totals["blocks"].get<std::uint64_t>(),
          static_cast<double>(totals["wall_ms"].get<std::uint64_t>()) / 1000.0,
          totals["blocks_per_core_second"].get<double>(), ok ? "PASS" : "FAIL");
    }
    exit_code = ok ? 0 : 1;
  });

  auto* census = sim->add_subcommand(
      "broken-rules",
      "Each consensus rule broken in turn: which check of the simulator catches it (make faults)");
  auto census_options = std::make_shared<sim::CensusOptions>();
  auto census_seeds = std::make_shared<std::string>("1-50");
  auto census_format = std::make_shared<std::string>("markdown");
  census->add_option("--gateways", census_options->gateways, "Gateways")->check(CLI::Range(1, 64));
  census->add_option("--byzantine", census_options->byzantine,
                     "Byzantine gateways, at most floor((P-1)/3)");
  census->add_option("--seeds", *census_seeds, "Seeds A-B for each rule");
  census->add_option("--rules", census_options->only, "Only these rules (comma-separated)")
      ->delimiter(',');
  census->add_option("--jobs", census_options->jobs, "Threads (default: cores)")
      ->check(CLI::Range(0u, 256u));
  census->add_option("--format", *census_format, "markdown or json")
      ->check(CLI::IsMember({"markdown", "json"}));
  census->callback([census_options, census_seeds, census_format, &exit_code] {
    if (!kFaultInjection) throw CLI::ValidationError("broken-rules", kNoFaultInjection);
    sim::CensusOptions o = *census_options;
    if (o.byzantine * 3 >= o.gateways && o.byzantine > 0)
      throw CLI::ValidationError("--byzantine", "must be at most floor((gateways-1)/3)");
    const auto range = sim::parse_seed_range(*census_seeds);
    if (!range) throw CLI::ValidationError("--seeds", "expected A-B with A <= B");
    o.seeds = *range;
    for (const std::string& name : o.only) {
      const auto names = sim::injectable_faults();
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw CLI::ValidationError("--rules", "unknown rule: " + name);
    }
    o.progress = [](const sim::RuleCensus& c) {
      fmt::print(stderr, "{:<30} caught in {} of {} seeds\n", c.name, c.caught, c.seeds);
      std::fflush(stderr);
    };
    const auto census_result = sim::census_broken_rules(o);
    if (*census_format == "json") {
      nlohmann::json rules = nlohmann::json::array();
      for (const auto& c : census_result)
        rules.push_back(sim::to_json(c));
      fmt::print("{}\n", nlohmann::json{{"gateways", o.gateways},
                                        {"byzantine", o.byzantine},
                                        {"seeds", o.seeds.count()},
                                        {"rules", rules}}
                             .dump());
    } else {
      fmt::print("{}", sim::markdown_table(census_result, o));
    }
    exit_code = 0;
  });

  auto* system = sim->add_subcommand(
      "system",
      "Gateway nodes and device agents under faults, Byzantine gateways included, checked");
  auto system_config = std::make_shared<sim::SystemSimConfig>();
  auto system_batch = std::make_shared<BatchOptions>();
  auto system_fault = std::make_shared<std::string>("none");
  auto system_mode = std::make_shared<std::string>("any");
  system->add_option("--gateways", system_config->gateways, "Gateways")->check(CLI::Range(1, 64));
  system->add_option("--devices", system_config->devices, "Devices the workload keeps joined")
      ->check(CLI::Range(2, 2000));
  system->add_option("--byzantine", system_config->byzantine,
                     "Byzantine gateways, at most floor((P-1)/3)");
  system->add_option("--seed", system_config->seed, "Seed of one run: it replays exactly");
  system->add_option("--ticks", system_config->ticks, "Simulated length, in 10 ms ticks")
      ->check(CLI::Range(1000, 10'000'000));
  system->add_option("--submission-mode", *system_mode, "commit, sync, or any (drawn per seed)")
      ->check(CLI::IsMember({"any", "commit", "sync"}));
  system->add_option("--inject-fault", *system_fault,
                     "Break a rule of the system on purpose: lose-push, record-after-gossip, "
                     "forget-pending-joins, cached-peer-set-only");
  system->add_flag("--trace", system_config->trace, "Single run: events on stderr");
  add_batch_options(system, *system_batch);
  system->callback([system_config, system_batch, system_fault, system_mode, &exit_code] {
    sim::SystemSimConfig& c = *system_config;
    if (c.byzantine * 3 >= c.gateways && c.byzantine > 0)
      throw CLI::ValidationError("--byzantine", "must be at most floor((gateways-1)/3)");
    if (!sim::inject_system_fault(*system_fault, c)) {
      throw CLI::ValidationError("--inject-fault", kFaultInjection
                                                       ? "unknown fault: " + *system_fault
                                                       : kNoFaultInjection);
    }
    if (*system_mode == "commit") c.mode = ledger::SubmissionMode::kCommit;
    if (*system_mode == "sync") c.mode = ledger::SubmissionMode::kSync;
    exit_code = run_seeded<sim::SystemSimResult>(
        c.seed, *system_batch,
        [&c](std::uint64_t seed, bool batch) {
          sim::SystemSimConfig one = c;
          one.seed = seed;
          one.stop_at_violation = batch;
          return sim::run_system_sim(one);
        },
        fmt::format("gateways {}, devices {}, byzantine {}", c.gateways, c.devices, c.byzantine),
        {{"gateways", c.gateways}, {"population", c.devices}, {"byzantine", c.byzantine}});
  });
}

}  // namespace kmchain::app
