// The consensus sweep: every consortium size from 1 to 10 gateways with the largest tolerated
// number of Byzantine ones, and consortia of unequal powers split exactly at two thirds, each
// over its own batch of seeds, with the totals as one JSON object. `make sweep` runs it in the
// release build; `make test` runs a small batch of the same consortia.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kmchain::sim {

struct SweepConsortium {
  std::size_t gateways = 0;
  std::size_t byzantine = 0;
  std::vector<std::uint64_t> powers;  // empty: power 1 each
  std::uint64_t seeds = 0;            // its share of the release sweep
  std::string name() const;           // "P7F2", "powers 3,3,2,1 F1"
};

// G = 1..10 with F = floor((G-1)/3), then the unequal-power consortia. The release sweep's
// 10,100 seeds are shared out by cost: a seed at P=10 costs about ten at P=4 and a hundred at
// P=2, so small consortia get more seeds and every size gets a few hundred at least.
std::vector<SweepConsortium> sweep_consortia();

struct SweepOptions {
  std::uint64_t seeds_each = 0;  // 0: each consortium's share; else this many each
  std::uint64_t first_seed = 1;
  unsigned jobs = 0;  // threads (0: one per core)
  // A line per consortium as it finishes.
  std::function<void(const std::string&)> progress;
};

// {"seeds":..,"blocks":..,"violations":..,"liveness_failures":..,"wall_ms":..,
//  "blocks_per_core_second":..,"consortia":[{...summary of each...}]}
nlohmann::json run_consensus_sweep(const SweepOptions& options);

}  // namespace kmchain::sim
