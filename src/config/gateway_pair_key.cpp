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

}  // namespace kmchain::config
