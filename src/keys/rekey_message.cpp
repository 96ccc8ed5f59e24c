#include "keys/rekey_message.h"

#include <openssl/crypto.h>

#include "base/check.h"
#include "base/limits.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::keys {

const char* to_string(RekeyError e) {
  switch (e) {
    case RekeyError::kTruncated:
      return "truncated";
    case RekeyError::kBadVersion:
      return "bad version";
    case RekeyError::kUnknownKind:
      return "unknown kind";
    case RekeyError::kNotForMe:
      return "not for this device";
    case RekeyError::kReplayed:
      return "replayed";
    case RekeyError::kGap:
      return "refresh gap";
    case RekeyError::kAuthFailed:
      return "authentication failed";
    case RekeyError::kMalformed:
      return "malformed body";
    case RekeyError::kInconsistent:
      return "inconsistent with keyring";
  }
  return "unknown rekey error";
}

const char* to_string(MessageKind kind) {
  switch (kind) {
    case MessageKind::kRefresh:
      return "refresh";
    case MessageKind::kSetAdded:
      return "set-added";
    case MessageKind::kSetRemoved:
      return "set-removed";
    case MessageKind::kPairwiseNodeKey:
      return "pairwise-node-key";
    case MessageKind::kKeyBundle:
      return "key-bundle";
    case MessageKind::kEarlyBundle:
      return "early-bundle";
  }
  return "unknown";
}

bool is_bundle(MessageKind kind) {
  return kind == MessageKind::kKeyBundle || kind == MessageKind::kEarlyBundle;
}

MessageKind kind_of(const Body& body) {
  return static_cast<MessageKind>(body.index() + 1);
}

namespace {

// A plaintext buffer that holds keys: wiped when it goes out of scope.
struct WipedBytes {
  Bytes bytes;
  ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

void encode_header(const Header& h, Bytes& out) {
  codec::ByteWriter w(out);
  w.u8(kRekeyVersion);
  w.u8(static_cast<std::uint8_t>(h.kind));
  w.u8(static_cast<std::uint8_t>(h.audience));
  w.u32(h.target);
  w.u64(h.position.value());
  w.raw(h.nonce);
}

void encode_body(const Body& body, Bytes& out) {
  codec::ByteWriter w(out);
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RefreshBody>) {
          w.u8(static_cast<std::uint8_t>(b.change));
          w.u8(static_cast<std::uint8_t>(b.cause));
          w.u32(b.node.value());
          w.u32(b.set.value());
          w.raw(b.refresh_key.view());
        } else if constexpr (std::is_same_v<T, SetAddedBody>) {
          w.u32(b.set.value());
          w.u32(b.node.value());
          w.raw(b.pairwise_set_key.view());
        } else if constexpr (std::is_same_v<T, SetRemovedBody>) {
          w.u32(b.set.value());
          w.u8(static_cast<std::uint8_t>(b.cause));
          w.u32(b.node.value());
        } else if constexpr (std::is_same_v<T, PairwiseNodeKeyBody>) {
          w.u32(b.peer.value());
          w.raw(b.key.view());
        } else {
          KMCHAIN_CHECK(b.pairwise_node_keys.size() <= limits::kSetMembersMax);
          KMCHAIN_CHECK(b.pairwise_set_keys.size() <= limits::kSetsMax);
          w.u32(b.set.value());
          w.raw(b.set_key.view());
          w.u16(static_cast<std::uint16_t>(b.pairwise_node_keys.size()));
          for (const auto& [node, key] : b.pairwise_node_keys) {
            w.u32(node.value());
            w.raw(key.view());
          }
          w.u16(static_cast<std::uint16_t>(b.pairwise_set_keys.size()));
          for (const auto& [set, key] : b.pairwise_set_keys) {
            w.u32(set.value());
            w.raw(key.view());
          }
        }
      },
      body);
}

Key128 read_key(codec::ByteReader& r) {
  Key128 k;
  r.raw(k.mutable_view());
  return k;
}

bool valid_cause(std::uint8_t c) {
  return c >= static_cast<std::uint8_t>(Cause::kJoin) &&
         c <= static_cast<std::uint8_t>(Cause::kMove);
}

template <class Id>
bool strictly_increasing(const std::vector<std::pair<Id, Key128>>& entries) {
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (!(entries[i - 1].first < entries[i].first)) return false;
  }
  return true;
}

Result<Body, RekeyError> decode_body(MessageKind kind, ByteView plaintext) {
  codec::ByteReader r(plaintext);
  Body body;
  switch (kind) {
    case MessageKind::kRefresh: {
      const std::uint8_t change = r.u8();
      const std::uint8_t cause = r.u8();
      RefreshBody b{StepKind::kPlace, Cause::kJoin, NodeId{r.u32()}, SetId{r.u32()}, read_key(r)};
      if (change != static_cast<std::uint8_t>(StepKind::kPlace) &&
          change != static_cast<std::uint8_t>(StepKind::kRemove)) {
        return Err{RekeyError::kMalformed};
      }
      if (!valid_cause(cause)) return Err{RekeyError::kMalformed};
      b.change = static_cast<StepKind>(change);
      b.cause = static_cast<Cause>(cause);
      body = std::move(b);
      break;
    }
    case MessageKind::kSetAdded:
      body = SetAddedBody{SetId{r.u32()}, NodeId{r.u32()}, read_key(r)};
      break;
    case MessageKind::kSetRemoved: {
      const SetId set{r.u32()};
      const std::uint8_t cause = r.u8();
      const NodeId node{r.u32()};
      if (!valid_cause(cause)) return Err{RekeyError::kMalformed};
      body = SetRemovedBody{set, static_cast<Cause>(cause), node};
      break;
    }
    case MessageKind::kPairwiseNodeKey:
      body = PairwiseNodeKeyBody{NodeId{r.u32()}, read_key(r)};
      break;
    case MessageKind::kKeyBundle:
    case MessageKind::kEarlyBundle: {
      KeyBundleBody b{SetId{r.u32()}, read_key(r), {}, {}};
      const std::size_t node_keys = r.u16();
      if (node_keys > limits::kSetMembersMax || r.remaining() < node_keys * 20) {
        return Err{RekeyError::kMalformed};
      }
      b.pairwise_node_keys.reserve(node_keys);
      for (std::size_t i = 0; i < node_keys; ++i) {
        const NodeId node{r.u32()};
        b.pairwise_node_keys.emplace_back(node, read_key(r));
      }
      const std::size_t set_keys = r.u16();
      if (set_keys > limits::kSetsMax || r.remaining() < set_keys * 20) {
        return Err{RekeyError::kMalformed};
      }
      b.pairwise_set_keys.reserve(set_keys);
      for (std::size_t i = 0; i < set_keys; ++i) {
        const SetId set{r.u32()};
        b.pairwise_set_keys.emplace_back(set, read_key(r));
      }
      if (!strictly_increasing(b.pairwise_node_keys) || !strictly_increasing(b.pairwise_set_keys)) {
        return Err{RekeyError::kMalformed};
      }
      body = std::move(b);
      break;
    }
  }
  if (!r.at_end()) return Err{RekeyError::kMalformed};
  return body;
}

}  // namespace

Bytes seal_message(const Header& header, const Body& body, const Key128& kek) {
  KMCHAIN_CHECK(kind_of(body) == header.kind || (header.kind == MessageKind::kEarlyBundle &&
                                                 kind_of(body) == MessageKind::kKeyBundle));
  Bytes wire;
  encode_header(header, wire);
  WipedBytes plaintext;
  encode_body(body, plaintext.bytes);
  const ByteView aad(wire.data(), kRekeyHeaderBytes);
  Bytes sealed;
  crypto::aes128_ccm_seal(kek, header.nonce, aad, plaintext.bytes, kRekeyTag, sealed);
  wire.insert(wire.end(), sealed.begin(), sealed.end());
  return wire;
}

Result<Header, RekeyError> parse_header(ByteView wire) {
  if (wire.size() < kRekeyHeaderBytes + crypto::tag_bytes(kRekeyTag)) {
    return Err{RekeyError::kTruncated};
  }
  codec::ByteReader r(wire);
  if (r.u8() != kRekeyVersion) return Err{RekeyError::kBadVersion};
  const std::uint8_t kind = r.u8();
  const std::uint8_t audience = r.u8();
  if (kind < 1 || kind > 6 || audience < 1 || audience > 2) return Err{RekeyError::kUnknownKind};
  Header h{static_cast<MessageKind>(kind),
           static_cast<Audience>(audience),
           r.u32(),
           Position{r.u64()},
           {}};
  r.raw(h.nonce);
  KMCHAIN_CHECK(r.ok());
  return h;
}

Result<Body, RekeyError> open_body(const Header& header, ByteView wire, const Key128& kek) {
  KMCHAIN_CHECK(wire.size() >= kRekeyHeaderBytes);
  WipedBytes plaintext;
  if (!crypto::aes128_ccm_open(kek, header.nonce, wire.first(kRekeyHeaderBytes),
                               wire.subspan(kRekeyHeaderBytes), kRekeyTag, plaintext.bytes)) {
    return Err{RekeyError::kAuthFailed};
  }
  return decode_body(header.kind, plaintext.bytes);
}

}  // namespace kmchain::keys
