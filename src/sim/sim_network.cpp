#include "sim/sim_network.h"

#include <algorithm>

namespace kmchain::sim {

std::vector<std::uint64_t> link_deliveries(crypto::Rng& rng, const FaultMix& mix, bool cut,
                                           bool faulty) {
  std::vector<std::uint64_t> out;
  if (cut || rng.unit() < (faulty ? mix.loss : 0.0)) return out;
  const int copies = faulty && rng.unit() < mix.duplicate ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    const std::uint64_t max = faulty ? mix.delay_max_ms : 20;
    const std::uint64_t min = std::min(mix.delay_min_ms, max);
    out.push_back(min + rng.uniform(max - min + 1));
  }
  return out;
}

std::vector<std::uint64_t> SimNetwork::deliveries(std::size_t from, std::size_t to, bool faulty) {
  ++sent_;
  auto out = link_deliveries(rng_, mix_, blocked_.contains({from, to}), faulty);
  if (out.empty()) ++dropped_;
  return out;
}

std::uint64_t SimNetwork::isolate(std::size_t gateway) {
  ++partitions_;
  blocked_.clear();
  for (std::size_t o = 0; o < gateways_; ++o) {
    if (o == gateway) continue;
    blocked_.insert({gateway, o});
    blocked_.insert({o, gateway});
  }
  return 1000 + rng_.uniform(3000);
}

std::uint64_t SimNetwork::partition() {
  ++partitions_;
  blocked_.clear();
  const std::size_t p = gateways_;
  switch (rng_.uniform(3)) {
    case 0: {  // random halves
      std::vector<bool> side(p);
      for (std::size_t i = 0; i < p; ++i)
        side[i] = rng_.uniform(2) == 1;
      for (std::size_t a = 0; a < p; ++a)
        for (std::size_t b = 0; b < p; ++b)
          if (side[a] != side[b]) blocked_.insert({a, b});
      break;
    }
    case 1: {  // one gateway isolated
      const std::size_t x = rng_.uniform(p);
      for (std::size_t o = 0; o < p; ++o) {
        if (o == x) continue;
        blocked_.insert({x, o});
        blocked_.insert({o, x});
      }
      break;
    }
    default: {  // one-way: a gateway hears nobody, or nobody hears it
      const std::size_t x = rng_.uniform(p);
      const bool deaf = rng_.uniform(2) == 0;
      for (std::size_t o = 0; o < p; ++o) {
        if (o != x) blocked_.insert(deaf ? std::make_pair(o, x) : std::make_pair(x, o));
      }
      break;
    }
  }
  return 300 + rng_.uniform(4000);
}

}  // namespace kmchain::sim
