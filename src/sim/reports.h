// What the simulators print: a line per run, and the summary of a batch of seeds as one JSON
// object (the batch form's --json) or as prose.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/consensus_sim.h"
#include "sim/system_sim.h"

namespace kmchain::sim {

std::string describe(const ConsensusSimResult& r);
std::string describe(const SystemSimResult& r);

// {"seeds":N,"violations":V,"liveness_failures":L,"failing_seeds":[...],...}
nlohmann::json summarize(const std::vector<ConsensusSimResult>& results);
nlohmann::json summarize(const std::vector<SystemSimResult>& results);

// The summary in a sentence.
std::string summary_line(const nlohmann::json& summary);

}  // namespace kmchain::sim
