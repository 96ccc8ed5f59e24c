#include "sim/consensus_sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "sim/consensus_sim.h"
#include "sim/reports.h"
#include "sim/seed_batch.h"

namespace kmchain::sim {

std::string SweepConsortium::name() const {
  if (powers.empty()) return fmt::format("P{}F{}", gateways, byzantine);
  return fmt::format("powers {} F{}", fmt::join(powers, ","), byzantine);
}

std::vector<SweepConsortium> sweep_consortia() {
  std::vector<SweepConsortium> out;
  for (std::size_t g = 1; g <= 10; ++g) {
    const std::uint64_t seeds = g <= 3 ? 1500 : g <= 6 ? 900 : 350;
    out.push_back(SweepConsortium{g, (g - 1) / 3, {}, seeds});
  }
  // Unequal powers, each with groups of exactly two thirds of the power (not a quorum) and as
  // many liars as can hold less than a third. 2,1,1,1,1: 4 of 6. 3,3,2,1: 6 of 9, the two
  // heaviest alone. 2,2,2,3: 6 of 9 without the heaviest. 1..6: 14 of 21, three liars.
  // 10, eight 1s and a 3: six liars, and every quorum needs the heavy gateway; 14 of 21 is
  // 10+3+1. 5,5,4,3,1: 12 of 18 (5+4+3), two liars.
  for (std::vector<std::uint64_t> powers :
       {std::vector<std::uint64_t>{2, 1, 1, 1, 1}, std::vector<std::uint64_t>{3, 3, 2, 1},
        std::vector<std::uint64_t>{2, 2, 2, 3}, std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6},
        std::vector<std::uint64_t>{10, 1, 1, 1, 1, 1, 1, 1, 1, 3},
        std::vector<std::uint64_t>{5, 5, 4, 3, 1}}) {
    // The most liars the powers tolerate.
    std::vector<std::uint64_t> sorted = powers;
    std::sort(sorted.begin(), sorted.end());
    std::uint64_t total = 0;
    for (std::uint64_t p : sorted)
      total += p;
    std::size_t liars = 0;
    std::uint64_t lightest = 0;
    while (liars < sorted.size() && 3 * (lightest + sorted[liars]) < total)
      lightest += sorted[liars++];
    out.push_back(SweepConsortium{powers.size(), liars, powers, 250});
  }
  return out;
}

nlohmann::json run_consensus_sweep(const SweepOptions& options) {
  using Clock = std::chrono::steady_clock;
  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  const auto started = Clock::now();
  nlohmann::json consortia = nlohmann::json::array();
  std::uint64_t seeds = 0, blocks = 0, violations = 0, liveness = 0, messages = 0;
  for (const SweepConsortium& c : sweep_consortia()) {
    const auto begun = Clock::now();
    const std::uint64_t count = options.seeds_each != 0 ? options.seeds_each : c.seeds;
    const SeedRange range{options.first_seed, options.first_seed + count - 1};
    const std::vector<ConsensusSimResult> results = run_seeds(range, jobs, [&](std::uint64_t seed) {
      ConsensusSimConfig config;
      config.gateways = c.gateways;
      config.byzantine = c.byzantine;
      config.powers = c.powers;
      config.seed = seed;
      return run_consensus_sim(config);
    });
    nlohmann::json summary = summarize(results);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begun).count();
    summary["consortium"] = c.name();
    summary["gateways"] = c.gateways;
    summary["byzantine"] = c.byzantine;
    summary["powers"] = c.powers;
    summary["wall_ms"] = ms;
    seeds += summary["seeds"].get<std::uint64_t>();
    blocks += summary["blocks"].get<std::uint64_t>();
    violations += summary["violations"].get<std::uint64_t>();
    liveness += summary["liveness_failures"].get<std::uint64_t>();
    messages += summary["messages"].get<std::uint64_t>();
    if (options.progress) {
      options.progress(fmt::format(
          "{:<28} {} seeds: {} violations, {} liveness failures, {} "
          "blocks, {:.1f} s{}",
          c.name(), results.size(), summary["violations"].get<int>(),
          summary["liveness_failures"].get<int>(), summary["blocks"].get<std::uint64_t>(),
          static_cast<double>(ms) / 1000.0,
          summary["failing_seeds"].empty() ? "" : " failing " + summary["failing_seeds"].dump()));
    }
    consortia.push_back(std::move(summary));
  }
  const auto wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  const double core_seconds = static_cast<double>(wall_ms) / 1000.0 * jobs;
  return {{"seeds", seeds},
          {"blocks", blocks},
          {"messages", messages},
          {"violations", violations},
          {"liveness_failures", liveness},
          {"jobs", jobs},
          {"wall_ms", wall_ms},
          {"blocks_per_core_second",
           core_seconds > 0 ? static_cast<double>(blocks) / core_seconds : 0.0},
          {"consortia", std::move(consortia)}};
}

}  // namespace kmchain::sim
