#include "gateway/key_work.h"

#include <openssl/crypto.h>

#include <functional>

#include "base/check.h"
#include "codec/byte_writer.h"
#include "crypto/hash.h"
#include "keys/rekey_message.h"

namespace kmchain::gateway {

KeyWork::KeyWork(std::size_t gateways, GatewayId self, keys::KeySource& source,
                 crypto::Rng& nonce_rng)
    : self_(self), view_(keys::KeyManager::custody_view(gateways, self, source, nonce_rng)) {}

keys::RekeyPlan KeyWork::apply(const ledger::AppliedTransaction& applied,
                               const std::optional<crypto::Key128>& node_key) {
  auto plan = view_.apply_steps(applied.steps, node_key, applied.transaction.refresh_key);
  // The ledger committed it and the node key of every device homed here is kept: a refusal is a
  // local bug.
  KMCHAIN_CHECK(plan.ok());
  return std::move(plan).value();
}

std::vector<DeviceMessage> KeyWork::messages_for_devices(const keys::RekeyPlan& plan) const {
  std::vector<DeviceMessage> out;
  for (const keys::Envelope& e : plan.messages) {
    if (e.sender != self_) continue;
    for (NodeId recipient : e.recipients)
      out.push_back(DeviceMessage{recipient, e.header.position, e.wire});
  }
  return out;
}

std::optional<keys::Envelope> KeyWork::bundle_for(NodeId node) {
  auto bundle = view_.bundle_for(node);
  if (!bundle) return std::nullopt;
  return std::move(bundle).value();
}

std::optional<keys::Envelope> KeyWork::early_bundle(
    NodeId node, const crypto::Key128& node_key, const std::vector<ledger::Transaction>& pending,
    const std::function<std::optional<crypto::Key128>(NodeId)>& node_key_of,
    crypto::Rng& rng) const {
  keys::KeyManager copy = view_;
  for (const ledger::Transaction& tx : pending) {
    if (tx.op == ledger::Operation::kJoin) {
      const GatewayId origin = ledger::origin_of(tx.node);
      std::optional<crypto::Key128> key;
      if (origin == self_) {
        key = node_key_of(tx.node);
        if (!key) return std::nullopt;
      }
      auto plan = copy.join(tx.node, origin, key, tx.refresh_key);
      if (!plan) return std::nullopt;
      if (tx.node == node) {
        const keys::Envelope* bundle = find_bundle(*plan, node);
        if (bundle == nullptr) return std::nullopt;
        auto body = keys::open_body(bundle->header, bundle->wire, node_key);
        if (!body) return std::nullopt;
        // The same keys, marked provisional: the device replaces them with the committed ones.
        keys::Envelope early = *bundle;
        early.header.kind = keys::MessageKind::kEarlyBundle;
        rng.fill(early.header.nonce);
        early.wire = keys::seal_message(early.header, *body, node_key);
        return early;
      }
    } else {
      const auto cause =
          tx.op == ledger::Operation::kLeave ? keys::Cause::kLeave : keys::Cause::kEvict;
      if (!copy.remove(tx.node, cause, tx.refresh_key)) return std::nullopt;
    }
  }
  return std::nullopt;
}

void KeyWork::remember(const DeviceMessage& m) {
  auto& kept = sent_[m.node];
  kept.emplace_back(m.position, m.wire);
  while (kept.size() > kCatchUpMessagesKept)
    kept.pop_front();
}

std::optional<std::vector<Bytes>> KeyWork::kept_since(NodeId node, Position from) const {
  auto it = sent_.find(node);
  if (it == sent_.end() || it->second.empty()) return std::nullopt;
  const auto& kept = it->second;
  // The device reached `from`, but may lack some messages of that very position (a pairwise
  // node key follows the refresh of its step): everything from `from` on is sent again, so the
  // kept messages must reach back to it, or some it lacks are gone.
  if (kept.front().first > from) return std::nullopt;
  std::vector<Bytes> out;
  for (const auto& [position, wire] : kept) {
    if (position >= from) out.push_back(wire);
  }
  return out;
}

std::optional<crypto::Digest256> bundle_digest(const keys::Envelope& e,
                                               const crypto::Key128& node_key) {
  auto body = keys::open_body(e.header, e.wire, node_key);
  if (!body) return std::nullopt;
  const auto* bundle = std::get_if<keys::KeyBundleBody>(&*body);
  if (bundle == nullptr) return std::nullopt;
  Bytes out;
  codec::ByteWriter w(out);
  w.u32(bundle->set.value());
  w.raw(bundle->set_key.view());
  for (const auto& [node, key] : bundle->pairwise_node_keys) {
    w.u32(node.value());
    w.raw(key.view());
  }
  for (const auto& [set, key] : bundle->pairwise_set_keys) {
    w.u32(set.value());
    w.raw(key.view());
  }
  w.u64(e.header.position.value());
  const crypto::Digest256 digest = crypto::sha256(out);
  OPENSSL_cleanse(out.data(), out.size());
  return digest;
}

const keys::Envelope* find_bundle(const keys::RekeyPlan& plan, NodeId node) {
  for (const keys::Envelope& e : plan.messages) {
    if (keys::is_bundle(e.header.kind) && e.header.audience == keys::Audience::kDevice &&
        e.header.target == node.value()) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace kmchain::gateway
