// KeySource: where the fresh keys of a new set come from (docs/protocol.md section 4, key custody).
//
// When a set opens, its owner needs a set key, a pairwise seed and a pairwise set key with every
// existing set; the key manager asks a KeySource for each. Every other key follows from these by
// the rules of derivation.h and the ledger's refresh keys.
//
// RngKeySource draws them from an Rng: the composition of all gateways in one object (the
// simulator, the demo, the tests) uses it, and its seeded runs replay exactly.
//
// DerivedKeySource is a gateway's own source. With M_g the gateway's 32-byte master secret,
// P_AB the 32-byte pair secret that only gateways A and B know, and S a set opened by its owner A
// at refresh position pos, HKDF-SHA-256 (empty salt) gives:
//
//   SK(S)      = HKDF(ikm = M_A,  info = "kmchain/v1/fresh/set-key" | id(SK(S)) | A | pos)
//   seed(S)    = HKDF(ikm = M_A,  info = "kmchain/v1/fresh/pairwise-seed" | S | A | pos)   [32 B]
//   PSK(S, T)  = HKDF(ikm = P_AB, info = "kmchain/v1/fresh/pairwise-set-key" | id(PSK(S, T))
//                                        | S | A | T | B | pos)      for T an existing set of B
//   P_AA       = HKDF(ikm = M_A,  info = "kmchain/v1/fresh/self-pair-secret" | A)          [32 B]
//
// id(K) is the 9-byte KeyId (class, ids); gateway ids are 2 bytes, set ids 4, positions 8, all
// big-endian. The label strings differ within their common length, and every field after them
// has a fixed width, so no two infos are equal: no two keys collide, whatever the ids. Set ids are
// never reused and a position opens at most one set, so every fresh key has an info of its own.
//
// Why the pairwise set key needs no message between A and B: both hold P_AB (the daemon obtains
// it as the X25519 static-static shared secret of A's and B's link keys) and both execute the
// same committed transaction, which gives S, T, their owners and pos. A's view and B's view
// derive the same PSK(S, T); no other gateway can.
//
// Durability for free: with a DerivedKeySource every key a gateway holds is a function of its
// master, its pair secrets, the committed transactions (their order, ids and refresh keys) and
// the node keys of its own devices. A restarted gateway rebuilds its store by constructing the
// same source and replaying the committed transactions from genesis; it needs to persist only
// the node keys (which come from each device's key agreement and cannot be derived), besides the
// master and the link keys it already keeps. The flip side: whoever learns M_A learns every key
// A's sets will ever get, so a captured gateway must be given a new master and new link keys
// before it serves again (the captured gateway leaks everything it ever held in any case).
#pragma once

#include <map>
#include <utility>

#include "base/ids.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace kmchain::keys {

using crypto::Key128;
using crypto::Secret256;

// A set at the step that opens it.
struct NewSet {
  SetId set;
  GatewayId owner;
  Position opened_at;
};

class KeySource {
 public:
  virtual ~KeySource() = default;

  virtual Key128 set_key(const NewSet& set) = 0;
  virtual Secret256 pairwise_seed(const NewSet& set) = 0;
  // The pairwise set key of the new `set` with `other`, an existing set owned by `other_owner`.
  // The sources of the two owners must give the same value.
  virtual Key128 pairwise_set_key(const NewSet& set, SetId other, GatewayId other_owner) = 0;
};

// Fresh keys drawn from `rng`, in the order they are asked for.
class RngKeySource final : public KeySource {
 public:
  explicit RngKeySource(crypto::Rng& rng) : rng_(&rng) {}

  Key128 set_key(const NewSet& set) override;
  Secret256 pairwise_seed(const NewSet& set) override;
  Key128 pairwise_set_key(const NewSet& set, SetId other, GatewayId other_owner) override;

 private:
  crypto::Rng* rng_;
};

// The keys of one gateway, `self`, derived as above. It serves only what `self` holds: the set
// key and seed of its own sets, and pairwise set keys of pairs involving one of its sets, with a
// peer it has a pair secret for. Asking for anything else breaks a custody invariant and stops
// the process.
class DerivedKeySource final : public KeySource {
 public:
  using PairSecrets = std::map<GatewayId, Secret256>;

  // `pair_secrets` holds P_{self,B} for every other gateway B this gateway pairs with (in a
  // consortium, every other gateway of the genesis). It must not name `self`: P_{self,self} is
  // derived from the master.
  DerivedKeySource(GatewayId self, const Secret256& master, PairSecrets pair_secrets);

  GatewayId self() const { return self_; }
  bool pairs_with(GatewayId peer) const { return pair_secrets_.contains(peer); }

  Key128 set_key(const NewSet& set) override;
  Secret256 pairwise_seed(const NewSet& set) override;
  Key128 pairwise_set_key(const NewSet& set, SetId other, GatewayId other_owner) override;

  // P_AA for gateway `self` with master `master`.
  static Secret256 self_pair_secret(const Secret256& master, GatewayId self);

 private:
  GatewayId self_;
  Secret256 master_;
  PairSecrets pair_secrets_;  // includes self
};

// Each gateway's own source in one, for a composition whose gateways derive their keys: the
// source of a new set's owner answers for it (the other owner's source would give the same
// pairwise set keys).
class PerGatewayKeySource final : public KeySource {
 public:
  // `sources[g]` serves gateway g; the sources outlive this object.
  explicit PerGatewayKeySource(std::map<GatewayId, KeySource*> sources)
      : sources_(std::move(sources)) {}

  Key128 set_key(const NewSet& set) override;
  Secret256 pairwise_seed(const NewSet& set) override;
  Key128 pairwise_set_key(const NewSet& set, SetId other, GatewayId other_owner) override;

 private:
  KeySource& of(GatewayId owner);
  std::map<GatewayId, KeySource*> sources_;
};

}  // namespace kmchain::keys
