// Pair secrets between gateways: the one input two set owners share, so that both derive the
// pairwise set key of their sets without a message (keys/key_source.h).
//
// Each gateway's X25519 pair key is derived from its Ed25519 identity seed (one secret file per
// gateway, not two); its public half is listed in the genesis file. The pair secret of gateways
// A and B is HKDF over their static-static X25519 shared secret, salted with the chain id and
// labelled with both indexes: only A and B can compute it, and it differs across consortia.
//
// A gateway's key source (gateway_key_source) puts these together with its master secret, also
// derived from its identity seed: every key it will ever hold follows from them and the chain.
#pragma once

#include <memory>
#include <string>

#include "base/ids.h"
#include "base/result.h"
#include "config/genesis_file.h"
#include "crypto/dh.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "keys/key_source.h"
#include "ledger/hashing.h"

namespace kmchain::config {

crypto::X25519KeyPair gateway_pair_key(const crypto::Ed25519KeyPair& identity);

// Fails only on a peer key of small order (its shared secret carries nothing).
[[nodiscard]] bool gateway_pair_secret(const crypto::X25519KeyPair& own, GatewayId self,
                                       const crypto::X25519PublicKey& peer_key, GatewayId peer,
                                       const ledger::Hash256& chain_id, crypto::Secret256& out);

// Gateway `self`'s key source: a master derived from its identity and a pair secret with every
// other gateway of the genesis. An error names the genesis entry of a weak pair key.
Result<std::unique_ptr<keys::DerivedKeySource>, std::string> gateway_key_source(
    const crypto::Ed25519KeyPair& identity, GatewayId self, const GenesisFile& genesis);

}  // namespace kmchain::config
