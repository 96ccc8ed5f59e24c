#include "sim/broken_rule_census.h"

#include <fmt/format.h>

#include <algorithm>

#include "consensus/broken_rules.h"
#include "sim/consensus_sim.h"

namespace kmchain::sim {

std::vector<RuleCensus> census_broken_rules(const CensusOptions& options) {
  std::vector<RuleCensus> out;
  for (const consensus::RuleInfo& rule : consensus::kRules) {
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), rule.name) == options.only.end())
      continue;
    RuleCensus c;
    c.name = rule.name;
    c.label = rule.label;
    c.broken = rule.broken;
    const auto results = run_seeds(options.seeds, options.jobs, [&](std::uint64_t seed) {
      ConsensusSimConfig config;
      config.gateways = options.gateways;
      config.byzantine = options.byzantine;
      config.seed = seed;
      if (!inject_fault(rule.name, config)) return ConsensusSimResult{};
      return run_consensus_sim(config);
    });
    for (const ConsensusSimResult& r : results) {
      ++c.seeds;
      if (r.ok()) continue;
      ++c.caught;
      ++c.by_check[r.violations.empty() ? "liveness" : r.violations.front().invariant];
      if (c.first_caught.size() < 5) c.first_caught.push_back(r.seed);
    }
    if (options.progress) options.progress(c);
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json to_json(const RuleCensus& c) {
  return {{"rule", c.name},     {"label", c.label}, {"seeds", c.seeds},
          {"caught", c.caught}, {"by", c.by_check}, {"first_caught", c.first_caught}};
}

std::string markdown_table(const std::vector<RuleCensus>& census, const CensusOptions& options) {
  std::string out = fmt::format(
      "| rule broken | where | what | caught in (of {} seeds, P={} F={}) | by | first seeds "
      "|\n|---|---|---|---|---|---|\n",
      options.seeds.count(), options.gateways, options.byzantine);
  for (const RuleCensus& c : census) {
    std::string by;
    for (const auto& [check, seeds] : c.by_check)
      by += fmt::format("{}{} {}", by.empty() ? "" : ", ", check, seeds);
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", c.name, c.label, c.broken, c.caught,
                       by.empty() ? "-" : by, fmt::join(c.first_caught, ", "));
  }
  return out;
}

}  // namespace kmchain::sim
