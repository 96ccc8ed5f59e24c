// The broken-rule census: every rule of consensus/broken_rules.h broken in turn on every
// correct gateway, over a batch of seeds, and what the consensus simulator's checks made of it:
// how many seeds caught it, by which check, and the first seeds that did. Only in builds with
// fault injection (base/fault_injection.h); docs/consensus.md keeps its table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/seed_batch.h"

namespace kmchain::sim {

struct RuleCensus {
  std::string name;
  std::string label;
  std::string broken;
  std::uint64_t seeds = 0;
  std::uint64_t caught = 0;                       // seeds with a violation or a stall
  std::map<std::string, std::uint64_t> by_check;  // seeds per first check that failed
  std::vector<std::uint64_t> first_caught;        // up to five
};

struct CensusOptions {
  std::size_t gateways = 4;
  std::size_t byzantine = 1;
  SeedRange seeds{1, 50};
  unsigned jobs = 0;
  std::vector<std::string> only;  // rule names; empty: every rule
  std::function<void(const RuleCensus&)> progress;
};

std::vector<RuleCensus> census_broken_rules(const CensusOptions& options);

nlohmann::json to_json(const RuleCensus& c);
// A Markdown table: rule, where, what is broken, caught in, by, first seeds.
std::string markdown_table(const std::vector<RuleCensus>& census, const CensusOptions& options);

}  // namespace kmchain::sim
