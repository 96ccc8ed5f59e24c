// kmchain sim keys: the Layer-1 churn simulator.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "kmchain/commands.h"
#include "sim/consensus_sim.h"
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

struct ConsensusOptions {
  sim::ConsensusSimConfig config;
  std::string seeds;  // "A-B" for the batch form
  std::string fault = "none";
  bool json = false;
  bool verbose = false;
  unsigned jobs = 0;
};

std::string format_result(const sim::ConsensusSimResult& r) {
  std::string verdict = r.ok() ? "PASS" : "FAIL";
  std::string line = fmt::format(
      "seed {}: {} blocks {} txs {} rounds<={} msgs {} (dropped {}) crashes {} partitions {} "
      "equivocations {} split-lock attacks {}",
      r.seed, verdict, r.blocks, r.transactions_committed, r.max_round, r.messages_sent,
      r.messages_dropped, r.crashes, r.partitions, r.equivocations_detected, r.split_lock_attacks);
  for (const auto& v : r.violations)
    line += fmt::format("\n  violation {} at {} ms: {}", v.invariant, v.at_ms, v.detail);
  if (r.liveness_failure) line += "\n  liveness failure: " + r.liveness_detail;
  return line;
}

// Parses "A-B" (or "A"): the batch form's seed range.
bool parse_seeds(const std::string& text, std::uint64_t& first, std::uint64_t& last) {
  const auto dash = text.find('-');
  try {
    first = std::stoull(text.substr(0, dash));
    last = dash == std::string::npos ? first : std::stoull(text.substr(dash + 1));
  } catch (const std::exception&) {
    return false;
  }
  return first <= last;
}

int run_sim_consensus(const ConsensusOptions& options) {
  if (options.seeds.empty()) {
    fmt::print("seed {}\n", options.config.seed);
    std::fflush(stdout);
    sim::ConsensusSimConfig config = options.config;
    config.stop_at_violation = false;
    const sim::ConsensusSimResult r = sim::run_consensus_sim(config);
    fmt::print("gateways {}, byzantine {}, faults: {}\n", config.gateways, config.byzantine,
               r.fault_mix);
    fmt::print("{}\n", format_result(r));
    fmt::print("signature verifications {}, decode errors {}, simulated {} ms\n",
               r.signatures_verified, r.decode_errors, r.sim_ms);
    fmt::print("verdict: {}\n", r.ok() ? "PASS" : "FAIL");
    return r.ok() ? 0 : 1;
  }
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (!parse_seeds(options.seeds, first, last)) {
    fmt::print(stderr, "--seeds: expected A-B with A <= B, got '{}'\n", options.seeds);
    return 2;
  }
  if (!options.json) fmt::print("seeds {}-{}\n", first, last);
  std::fflush(stdout);
  const std::size_t count = last - first + 1;
  std::vector<sim::ConsensusSimResult> results(count);
  std::atomic<std::size_t> next{0};
  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      sim::ConsensusSimConfig config = options.config;
      config.seed = first + i;
      results[i] = sim::run_consensus_sim(config);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<std::size_t>(jobs, count); ++j)
    threads.emplace_back(worker);
  for (auto& t : threads)
    t.join();

  std::uint64_t violations = 0, liveness = 0, blocks = 0, txs = 0, messages = 0, crashes = 0,
                equivocations = 0, verified = 0, sim_ms = 0, split_locks = 0;
  std::vector<std::uint64_t> failing;
  std::vector<std::uint64_t> latencies;
  std::map<std::string, std::uint64_t> by_invariant;
  for (const auto& r : results) {
    violations += r.violations.size();
    for (const auto& v : r.violations)
      ++by_invariant[v.invariant];
    liveness += r.liveness_failure ? 1 : 0;
    blocks += r.blocks;
    txs += r.transactions_committed;
    messages += r.messages_sent;
    crashes += r.crashes;
    equivocations += r.equivocations_detected;
    split_locks += r.split_lock_attacks;
    verified += r.signatures_verified;
    sim_ms += r.sim_ms;
    latencies.insert(latencies.end(), r.commit_latency_ms.begin(), r.commit_latency_ms.end());
    if (!r.ok()) failing.push_back(r.seed);
    if (!options.json && (options.verbose || !r.ok())) fmt::print("{}\n", format_result(r));
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) -> std::uint64_t {
    if (latencies.empty()) return 0;
    return latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))];
  };
  if (options.json) {
    nlohmann::json j;
    j["seeds"] = count;
    j["violations"] = violations;
    j["liveness_failures"] = liveness;
    j["blocks"] = blocks;
    j["transactions"] = txs;
    j["messages"] = messages;
    j["crashes"] = crashes;
    j["equivocations_detected"] = equivocations;
    j["split_lock_attacks"] = split_locks;
    j["signature_verifications"] = verified;
    j["simulated_ms"] = sim_ms;
    j["commit_latency_ms"] = {{"p50", pct(0.5)}, {"p99", pct(0.99)}};
    j["violations_by_invariant"] = by_invariant;
    j["failing_seeds"] = failing;
    j["gateways"] = options.config.gateways;
    j["byzantine"] = options.config.byzantine;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "{} seeds: {} violations, {} liveness failures, {} blocks, {} transactions, {} crashes, "
        "{} equivocations detected; commit latency p50 {} ms p99 {} ms\n",
        count, violations, liveness, blocks, txs, crashes, equivocations, pct(0.5), pct(0.99));
    fmt::print("verdict: {}\n", failing.empty() ? "PASS" : "FAIL");
  }
  return failing.empty() ? 0 : 1;
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

  auto* consensus = sim->add_subcommand(
      "consensus", "Tendermint over a faulty simulated network, with Byzantine gateways, checked");
  auto opts = std::make_shared<ConsensusOptions>();
  consensus->add_option("--gateways", opts->config.gateways, "Gateways (validators)")
      ->check(CLI::Range(1, 64));
  consensus->add_option("--byzantine", opts->config.byzantine,
                        "Byzantine gateways, at most floor((P-1)/3)");
  consensus->add_option("--seed", opts->config.seed, "Seed of one run: it replays exactly");
  consensus->add_option("--seeds", opts->seeds, "Batch form: every seed of A-B");
  consensus->add_option("--ticks", opts->config.ticks, "Simulated length, in 10 ms ticks")
      ->check(CLI::Range(100, 10'000'000));
  consensus->add_option("--inject-fault", opts->fault,
                        "Break a rule on purpose on every correct gateway: ignore-lock, "
                        "two-thirds-quorum, skip-wal");
  consensus->add_option("--jobs", opts->jobs, "Threads for the batch form (default: cores)");
  consensus->add_flag("--json", opts->json, "Batch form: one JSON summary line");
  consensus->add_flag("--verbose", opts->verbose, "Batch form: a line per seed");
  consensus->add_flag("--trace", opts->config.trace,
                      "Single run: every event of the correct gateways on stderr");
  consensus->callback([opts, &exit_code] {
    if (opts->config.byzantine * 3 >= opts->config.gateways && opts->config.byzantine > 0)
      throw CLI::ValidationError("--byzantine", "must be at most floor((gateways-1)/3)");
    if (!sim::inject_fault(opts->fault, opts->config))
      throw CLI::ValidationError("--inject-fault", "unknown fault: " + opts->fault);
    exit_code = run_sim_consensus(*opts);
  });
}

}  // namespace kmchain::app
