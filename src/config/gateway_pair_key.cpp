#include "config/gateway_pair_key.h"

#include <algorithm>
#include <string_view>

#include "crypto/kdf.h"

namespace kmchain::config {

namespace {
constexpr std::string_view kPairKeyLabel = "kmchain/v1/gateway/pair-key";
constexpr std::string_view kPairSecretLabel = "kmchain/v1/gateway/pair-secret";

ByteView text(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

crypto::X25519KeyPair gateway_pair_key(const crypto::Ed25519KeyPair& identity) {
  return crypto::X25519KeyPair::from_private(
      crypto::hkdf_sha256_secret<32>({}, identity.seed().view(), text(kPairKeyLabel)));
}

bool gateway_pair_secret(const crypto::X25519KeyPair& own, GatewayId self,
                         const crypto::X25519PublicKey& peer_key, GatewayId peer,
                         const ledger::Hash256& chain_id, crypto::Secret256& out) {
  crypto::Secret256 shared;
  if (!own.derive(peer_key, shared)) return false;
  Bytes info(kPairSecretLabel.begin(), kPairSecretLabel.end());
  const std::uint16_t lo = std::min(self, peer).value();
  const std::uint16_t hi = std::max(self, peer).value();
  for (std::uint16_t v : {lo, hi}) {
    info.push_back(static_cast<std::uint8_t>(v >> 8));
    info.push_back(static_cast<std::uint8_t>(v));
  }
  out = crypto::hkdf_sha256_secret<32>(chain_id, shared.view(), info);
  return true;
}

Result<std::unique_ptr<keys::DerivedKeySource>, std::string> gateway_key_source(
    const crypto::Ed25519KeyPair& identity, GatewayId self, const GenesisFile& genesis) {
  static constexpr std::string_view kMasterLabel = "kmchain/v1/gateway/key-master";
  const crypto::Secret256 master = crypto::hkdf_sha256_secret<32>(
      {}, identity.seed().view(),
      ByteView(reinterpret_cast<const std::uint8_t*>(kMasterLabel.data()), kMasterLabel.size()));
  const crypto::X25519KeyPair own = gateway_pair_key(identity);
  keys::DerivedKeySource::PairSecrets secrets;
  for (std::size_t i = 0; i < genesis.pair_keys.size(); ++i) {
    const GatewayId peer{static_cast<std::uint16_t>(i)};
    if (peer == self) continue;
    crypto::Secret256 secret;
    if (!gateway_pair_secret(own, self, genesis.pair_keys[i], peer, genesis.genesis.chain_id(),
                             secret)) {
      return Err{"genesis: validators[" + std::to_string(i) + "].pair_public_key is a weak key"};
    }
    secrets.emplace(peer, secret);
  }
  return std::make_unique<keys::DerivedKeySource>(self, master, std::move(secrets));
}

}  // namespace kmchain::config
