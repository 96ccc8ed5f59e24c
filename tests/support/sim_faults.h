// What the tests of both simulators (sim/consensus_sim.h, sim/system_sim.h) ask of their faults
// injected on purpose (base/fault_injection.h).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "base/fault_injection.h"

namespace kmchain::testing {

// Each fault name is accepted exactly when the build injects faults, "none" always, an unknown
// name never.
template <class Config, class Names, class Inject>
void expect_fault_names(const Names& names, Inject inject) {
  for (const auto& name : names) {
    Config c;
    EXPECT_EQ(inject(name, c), KMCHAIN_FAULTS_ENABLED != 0) << name;
  }
  Config c;
  EXPECT_TRUE(inject("none", c));
  EXPECT_FALSE(inject("lose-everything", c));
}

// The first seed of 1..max_seeds whose run (`run(seed)`, a result with `violations`) breaks
// `invariant`; 0 if none does.
template <class Run>
std::uint64_t first_seed_breaking(std::uint64_t max_seeds, const std::string& invariant, Run run) {
  for (std::uint64_t seed = 1; seed <= max_seeds; ++seed) {
    for (const auto& v : run(seed).violations) {
      if (v.invariant == invariant) return seed;
    }
  }
  return 0;
}

}  // namespace kmchain::testing
