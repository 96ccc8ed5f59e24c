// SimNetwork: the links between simulated gateways. Each message from one gateway to another is
// dropped, delivered once or twice, after a delay, as the run's fault mix says while faults are
// active (the first part of a run), and delivered once after a short delay once they have healed.
// Partitions cut links: random halves, one gateway isolated, or one way only (a gateway that
// hears nobody, or that nobody hears).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "sim/fault_mix.h"

namespace kmchain::sim {

// The delays after which copies of one message arrive over a link: none if it is cut or the
// message is lost; two copies sometimes (duplication); the mix's loss, duplication and delay
// while faults are active, one copy after at most 20 ms once they have healed.
std::vector<std::uint64_t> link_deliveries(crypto::Rng& rng, const FaultMix& mix, bool cut,
                                           bool faulty);

class SimNetwork {
 public:
  SimNetwork(std::size_t gateways, const FaultMix& mix, crypto::Rng& rng)
      : gateways_(gateways), mix_(mix), rng_(rng) {}

  // The delays after which copies of one message from `from` arrive at `to`; none if it is lost.
  std::vector<std::uint64_t> deliveries(std::size_t from, std::size_t to, bool faulty);

  // Cuts links at random (halves, one isolated, one way); returns how long until it heals.
  std::uint64_t partition();
  // Cuts every link of `gateway`; returns how long until it heals.
  std::uint64_t isolate(std::size_t gateway);
  void heal() { blocked_.clear(); }
  bool partitioned() const { return !blocked_.empty(); }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t partitions() const { return partitions_; }

 private:
  std::size_t gateways_;
  FaultMix mix_;
  crypto::Rng& rng_;
  std::set<std::pair<std::size_t, std::size_t>> blocked_;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t partitions_ = 0;
};

}  // namespace kmchain::sim
