#include "keys/key_source.h"

#include <string_view>

#include "base/check.h"
#include "codec/byte_writer.h"
#include "crypto/kdf.h"
#include "keys/key_id.h"

namespace kmchain::keys {

Key128 RngKeySource::set_key(const NewSet&) {
  return rng_->key128();
}

Secret256 RngKeySource::pairwise_seed(const NewSet&) {
  return rng_->secret<32>();
}

Key128 RngKeySource::pairwise_set_key(const NewSet&, SetId, GatewayId) {
  return rng_->key128();
}

namespace {

Bytes label(std::string_view name) {
  return Bytes(name.begin(), name.end());
}

}  // namespace

DerivedKeySource::DerivedKeySource(GatewayId self, const Secret256& master,
                                   PairSecrets pair_secrets)
    : self_(self), master_(master), pair_secrets_(std::move(pair_secrets)) {
  KMCHAIN_CHECK(!pair_secrets_.contains(self_));
  pair_secrets_.emplace(self_, self_pair_secret(master_, self_));
}

Secret256 DerivedKeySource::self_pair_secret(const Secret256& master, GatewayId self) {
  Bytes info = label("kmchain/v1/fresh/self-pair-secret");
  codec::ByteWriter(info).u16(self.value());
  return crypto::hkdf_sha256_secret<32>({}, master.view(), info);
}

Key128 DerivedKeySource::set_key(const NewSet& set) {
  KMCHAIN_CHECK(set.owner == self_);
  Bytes info = label("kmchain/v1/fresh/set-key");
  KeyId::set_key(set.set).encode(info);
  codec::ByteWriter w(info);
  w.u16(set.owner.value());
  w.u64(set.opened_at.value());
  return crypto::hkdf_sha256_key128({}, master_.view(), info);
}

Secret256 DerivedKeySource::pairwise_seed(const NewSet& set) {
  KMCHAIN_CHECK(set.owner == self_);
  Bytes info = label("kmchain/v1/fresh/pairwise-seed");
  codec::ByteWriter w(info);
  w.u32(set.set.value());
  w.u16(set.owner.value());
  w.u64(set.opened_at.value());
  return crypto::hkdf_sha256_secret<32>({}, master_.view(), info);
}

Key128 DerivedKeySource::pairwise_set_key(const NewSet& set, SetId other, GatewayId other_owner) {
  // Custody: this gateway derives a pairwise set key only for a pair one of whose sets it owns.
  KMCHAIN_CHECK(set.owner == self_ || other_owner == self_);
  KMCHAIN_CHECK(set.set != other);
  const GatewayId peer = set.owner == self_ ? other_owner : set.owner;
  auto it = pair_secrets_.find(peer);
  KMCHAIN_CHECK(it != pair_secrets_.end());
  Bytes info = label("kmchain/v1/fresh/pairwise-set-key");
  KeyId::pairwise_set_key(set.set, other).encode(info);
  codec::ByteWriter w(info);
  w.u32(set.set.value());
  w.u16(set.owner.value());
  w.u32(other.value());
  w.u16(other_owner.value());
  w.u64(set.opened_at.value());
  return crypto::hkdf_sha256_key128({}, it->second.view(), info);
}

KeySource& PerGatewayKeySource::of(GatewayId owner) {
  auto it = sources_.find(owner);
  KMCHAIN_CHECK(it != sources_.end() && it->second != nullptr);
  return *it->second;
}

Key128 PerGatewayKeySource::set_key(const NewSet& set) {
  return of(set.owner).set_key(set);
}

Secret256 PerGatewayKeySource::pairwise_seed(const NewSet& set) {
  return of(set.owner).pairwise_seed(set);
}

Key128 PerGatewayKeySource::pairwise_set_key(const NewSet& set, SetId other,
                                             GatewayId other_owner) {
  return of(set.owner).pairwise_set_key(set, other, other_owner);
}

}  // namespace kmchain::keys
