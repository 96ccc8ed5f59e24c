// One-line descriptions of consensus messages and engine states, for the simulators' traces and
// their liveness reports.
#pragma once

#include <string>

#include "base/bytes.h"
#include "consensus/engine.h"

namespace kmchain::sim {

// "proposal h3 r0 vr-1 by 2 block 1a2b3c", "prevote h3 r0 by 1 for nil", "commit h3", ...
std::string describe_message(const Bytes& bytes);
// "h3 r1 prevote lock r0:1a2b3c valid - decided"
std::string describe_engine(const consensus::Engine& engine);

}  // namespace kmchain::sim
