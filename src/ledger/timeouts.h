// The consortium's consensus timing (Tendermint's timeouts), given by every gateway's config and
// used by its engine (consensus/engine.h). A value type of the chain's parameters: it lives here
// so that configuration parsers need no engine.
//
// Timeouts grow linearly with the round (the paper's timeoutX(r) = base + r * delta), so that
// after the network stabilises some round is long enough for every correct validator. Growth
// stops after `growth_rounds_max` rounds: a height that went through many rounds during a long
// partition must not keep the consortium slow after it heals (the cap must stay above the
// real message delay, which it does by a wide margin with the defaults).
#pragma once

#include <cstdint>

#include "base/ids.h"

namespace kmchain::ledger {

struct Timeouts {
  std::uint32_t growth_rounds_max = 60;
  std::uint64_t propose(Round r) const { return propose_ms + propose_delta_ms * grown(r); }
  std::uint64_t prevote(Round r) const { return prevote_ms + prevote_delta_ms * grown(r); }
  std::uint64_t precommit(Round r) const { return precommit_ms + precommit_delta_ms * grown(r); }
  std::uint64_t grown(Round r) const {
    return r.value() < growth_rounds_max ? r.value() : growth_rounds_max;
  }

  std::uint64_t propose_ms = 1000;
  std::uint64_t propose_delta_ms = 500;
  std::uint64_t prevote_ms = 500;
  std::uint64_t prevote_delta_ms = 250;
  std::uint64_t precommit_ms = 500;
  std::uint64_t precommit_delta_ms = 250;
  // Own messages of the current round are sent again this often: the network may lose them.
  std::uint64_t rebroadcast_ms = 1000;
  // After a decision, the next height starts this much later (Tendermint's timeout_commit):
  // it paces empty blocks and lets late precommits and transactions arrive.
  std::uint64_t commit_ms = 1000;
};

}  // namespace kmchain::ledger
