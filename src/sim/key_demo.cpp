#include "sim/key_demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "codec/byte_writer.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "keys/key_manager.h"
#include "keys/keyring.h"

namespace kmchain::sim {

namespace {

using crypto::Key128;
using keys::Keyring;

// A sealed D2D message as the demo sends it: AES-128-CCM under the pair's DEK, the nonce made
// of the sender id and its own message counter (never repeated), the AAD binding sender and
// receiver. The full D2D channel (replay window, rekey grace period) belongs to the device
// agent; this shows the DEKs work and whom they exclude.
struct D2dMessage {
  NodeId sender;
  NodeId receiver;
  crypto::CcmNonce nonce{};
  Bytes aad;
  Bytes sealed;
};

class Demo {
 public:
  explicit Demo(const DemoConfig& config)
      : cfg_(config), rng_(config.seed), km_(config.gateways, rng_) {}

  DemoReport run() {
    phase("join");
    for (std::size_t i = 0; i < cfg_.devices && report_.failure.empty(); ++i)
      join();
    close_phase();

    phase("d2d");
    talk();
    close_phase();

    phase("leave");
    for (std::size_t i = 0; i < cfg_.leaves && report_.failure.empty(); ++i) {
      remove(keys::Cause::kLeave);
    }
    close_phase();

    phase("evict");
    for (std::size_t i = 0; i < cfg_.evictions && report_.failure.empty(); ++i) {
      remove(keys::Cause::kEvict);
    }
    close_phase();

    phase("join after evict");
    for (std::size_t i = 0; i < cfg_.late_joins && report_.failure.empty(); ++i)
      join();
    close_phase();

    phase("d2d after evict");
    talk();
    close_phase();

    report_.ok = report_.failure.empty() && report_.rekey_decrypted_by_evicted == 0 &&
                 report_.d2d_decrypted_by_evicted == 0;
    for (const auto& p : report_.phases) {
      if (p.d2d_delivered != p.d2d_sent) report_.ok = false;
    }
    if (!report_.ok && report_.failure.empty()) {
      report_.failure = "a D2D message was lost or an evicted device read traffic";
    }
    return report_;
  }

 private:
  void phase(const char* name) {
    report_.phases.push_back(DemoPhase{});
    report_.phases.back().name = name;
  }

  void close_phase() {
    DemoPhase& p = report_.phases.back();
    p.devices = km_.table().member_count();
    p.sets = km_.table().set_count();
    p.keys_min = SIZE_MAX;
    for (const auto& [node, ring] : devices_) {
      p.keys_min = std::min(p.keys_min, ring.key_count());
      p.keys_max = std::max(p.keys_max, ring.key_count());
    }
    if (devices_.empty()) p.keys_min = 0;
  }

  NodeId random_member() {
    auto it = devices_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng_.uniform(devices_.size())));
    return it->first;
  }

  void join() {
    const GatewayId origin{static_cast<std::uint16_t>(rng_.uniform(cfg_.gateways))};
    const NodeId node{++next_node_};
    const Key128 node_key = rng_.key128();
    devices_.emplace(node, Keyring(node, node_key));
    auto plan = km_.join(node, origin, node_key, rng_.key128());
    if (!plan) {
      report_.failure = fmt::format("join refused: {}", keys::to_string(plan.error()));
      return;
    }
    deliver(*plan);
  }

  void remove(keys::Cause cause) {
    const NodeId node = random_member();
    if (cause == keys::Cause::kEvict) evicted_.push_back(devices_.at(node));
    devices_.erase(node);
    auto plan = km_.remove(node, cause, rng_.key128());
    if (!plan) {
      report_.failure = fmt::format("removal refused: {}", keys::to_string(plan.error()));
      return;
    }
    deliver(*plan);
  }

  void deliver(const keys::RekeyPlan& plan) {
    DemoPhase& p = report_.phases.back();
    ++p.operations;
    p.rekey_messages += plan.messages.size();
    for (const auto& e : plan.messages) {
      if (!evicted_.empty()) eavesdrop_rekey(e);
      for (NodeId r : e.recipients) {
        ++p.deliveries;
        auto applied = devices_.at(r).apply(e.wire);
        if (!applied && report_.failure.empty()) {
          report_.failure = fmt::format("node {} rejected a rekey message: {}", r.value(),
                                        keys::to_string(applied.error()));
        }
      }
    }
  }

  // An evicted device tries its node key and old set key on every rekey message.
  void eavesdrop_rekey(const keys::Envelope& e) {
    ++report_.rekey_messages_after_eviction;
    auto header = keys::parse_header(e.wire);
    if (!header) return;
    for (const Keyring& ring : evicted_) {
      for (const Key128* kek : {&ring.node_key(), ring.set_key()}) {
        if (kek != nullptr && keys::open_body(*header, e.wire, *kek).ok()) {
          ++report_.rekey_decrypted_by_evicted;
        }
      }
    }
  }

  void talk() {
    DemoPhase& p = report_.phases.back();
    for (std::size_t i = 0; i < cfg_.d2d_per_round && devices_.size() >= 2; ++i) {
      const NodeId a = random_member();
      NodeId b = random_member();
      while (b == a)
        b = random_member();
      Keyring& ka = devices_.at(a);
      const Keyring& kb = devices_.at(b);
      const auto dek = ka.dek(b, *kb.set());
      ++p.d2d_sent;
      if (!dek) continue;
      D2dMessage m{a, b, {}, {}, {}};
      const std::uint64_t counter = ++counters_[a];
      Bytes nonce;
      codec::ByteWriter nw(nonce);
      nw.u32(a.value());
      nw.u64(counter);
      nw.u8(0);
      std::copy(nonce.begin(), nonce.end(), m.nonce.begin());
      codec::ByteWriter aw(m.aad);
      aw.u32(a.value());
      aw.u32(b.value());
      const std::string text = fmt::format("reading {} from device {}", i, a.value());
      crypto::aes128_ccm_seal(*dek, m.nonce, m.aad, as_bytes(text), crypto::CcmTag::k8, m.sealed);

      const auto dek_b = kb.dek(a, *ka.set());
      Bytes plain;
      if (dek_b &&
          crypto::aes128_ccm_open(*dek_b, m.nonce, m.aad, m.sealed, crypto::CcmTag::k8, plain) &&
          plain == Bytes(text.begin(), text.end())) {
        ++p.d2d_delivered;
      }
      if (!evicted_.empty()) eavesdrop_d2d(m);
    }
  }

  // An evicted device tries every key it ever held on every D2D message.
  void eavesdrop_d2d(const D2dMessage& m) {
    ++report_.d2d_after_eviction;
    for (const Keyring& ring : evicted_) {
      std::vector<Key128> keys{ring.node_key()};
      if (ring.set_key() != nullptr) keys.push_back(*ring.set_key());
      for (const auto& [id, k] : ring.pairwise_node_keys())
        keys.push_back(k);
      for (const auto& [id, k] : ring.pairwise_set_keys())
        keys.push_back(k);
      for (const Key128& k : keys) {
        Bytes plain;
        if (crypto::aes128_ccm_open(k, m.nonce, m.aad, m.sealed, crypto::CcmTag::k8, plain)) {
          ++report_.d2d_decrypted_by_evicted;
        }
      }
    }
  }

  DemoConfig cfg_;
  crypto::DeterministicRng rng_;
  keys::KeyManager km_;
  std::map<NodeId, Keyring> devices_;
  std::vector<Keyring> evicted_;
  std::map<NodeId, std::uint64_t> counters_;
  std::uint32_t next_node_ = 0;
  DemoReport report_;
};

}  // namespace

DemoReport run_key_demo(const DemoConfig& config) {
  Demo demo(config);
  return demo.run();
}

}  // namespace kmchain::sim
