// How Layer-1 keys are made and evolve: the only place that decides it, shared by the gateways
// that generate keys and the devices that follow them (docs/protocol.md section 2). The fresh keys
// a new set starts from come from a KeySource (key_source.h), which gateways derive from their own
// secrets.
//
//   refresh:        K' = HKDF-SHA-256(salt = R, ikm = K, info = "kmchain/v1/refresh" | id | pos)
//   pairwise node:  K  = HKDF-SHA-256(salt = -, ikm = seed(S), info = "kmchain/v1/pairwise-node"
//                                     | id | S | pos)  where pos placed the later of the two
//   step refresh:   R_i = HKDF-SHA-256(salt = -, ikm = R, info = "kmchain/v1/step" | i)
//
// The one-way refresh gives backward secrecy (a joiner holding K' cannot recover K) and, with
// R kept from the leaver, forward secrecy. The pairwise node key is a PRF of the set owner's
// seed, so the owner can serve it again (catch-up, re-attach) without storing n*sqrt(n) keys.
// Reorder steps take refresh keys derived from their operation's R, so every gateway derives
// them from the one refresh key the transaction carries.
#pragma once

#include <cstdint>

#include "base/ids.h"
#include "crypto/secret.h"
#include "keys/key_id.h"

namespace kmchain::keys {

using crypto::Key128;
using crypto::Secret256;

Key128 refresh(const Key128& current, const Key128& refresh_key, const KeyId& id,
               Position position);

Key128 pairwise_node_key(const Secret256& set_seed, SetId set, NodeId x, NodeId y,
                         Position placed_at);

Key128 step_refresh_key(const Key128& operation_refresh_key, std::uint32_t step_index);

}  // namespace kmchain::keys
