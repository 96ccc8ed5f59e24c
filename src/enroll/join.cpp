#include "enroll/join.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::enroll {

namespace {

inline constexpr std::size_t kHelloMacOffset = kJoinHelloBytes - crypto::kHmacSha256Bytes;
inline constexpr std::size_t kAcceptMacOffset = kJoinAcceptBytes - crypto::kHmacSha256Bytes;

// Bytes 0..98 of the hello: everything its MAC covers.
Bytes hello_without_mac(const JoinHello& h) {
  Bytes out;
  out.reserve(kJoinHelloBytes);
  codec::ByteWriter w(out);
  w.u8(kJoinVersion);
  w.raw(h.credential);
  w.raw(h.device_key);
  w.raw(h.nonce);
  w.raw(h.commitment);
  w.u16(h.reply_port);
  KMCHAIN_CHECK(out.size() == kHelloMacOffset);
  return out;
}

// Bytes 0..38 of the accept.
Bytes accept_without_mac(const JoinAccept& a) {
  Bytes out;
  out.reserve(kJoinAcceptBytes);
  codec::ByteWriter w(out);
  w.u8(kJoinVersion);
  w.u16(a.gateway.value());
  w.u32(a.node.value());
  w.raw(a.gateway_key);
  KMCHAIN_CHECK(out.size() == kAcceptMacOffset);
  return out;
}

// The version byte first (a later version may have another length), then the exact length.
Status<JoinError> check_frame(ByteView wire, std::size_t size) {
  if (wire.empty()) return Err{JoinError::kWrongLength};
  if (wire[0] != kJoinVersion) return Err{JoinError::kBadVersion};
  if (wire.size() != size) return Err{JoinError::kWrongLength};
  return {};
}

struct AcceptKeys {
  crypto::HmacTag mac;
  crypto::Key128 node_key;
};

// The accept's MAC and the node key, from the shared secret and the two messages: the one
// computation both sides run.
AcceptKeys accept_keys(const crypto::Secret256& psk, const crypto::Secret256& shared,
                       const ContextId& context, ByteView hello, ByteView accept_body) {
  const crypto::Secret256 k_accept = accept_key(psk, shared, context, crypto::sha256(hello));
  crypto::HmacSha256 mac(k_accept.view());
  mac.update(hello).update(accept_body);
  crypto::Sha256 transcript;
  transcript.update(hello).update(accept_body);
  return AcceptKeys{mac.finish(), node_key(psk, shared, context, transcript.finish())};
}

}  // namespace

const char* to_string(JoinError e) {
  switch (e) {
    case JoinError::kWrongLength:
      return "wrong length";
    case JoinError::kBadVersion:
      return "bad version";
    case JoinError::kMalformed:
      return "malformed";
    case JoinError::kAuthFailed:
      return "authentication failed";
    case JoinError::kWeakKey:
      return "weak ephemeral key";
    case JoinError::kFinished:
      return "handshake already finished";
  }
  return "unknown join error";
}

Bytes encode(const JoinHello& hello) {
  Bytes out = hello_without_mac(hello);
  codec::ByteWriter(out).raw(hello.mac);
  return out;
}

Bytes encode(const JoinAccept& accept) {
  Bytes out = accept_without_mac(accept);
  codec::ByteWriter(out).raw(accept.mac);
  return out;
}

Result<JoinHello, JoinError> parse_hello(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kJoinHelloBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  JoinHello h;
  r.raw(h.credential);
  r.raw(h.device_key);
  r.raw(h.nonce);
  r.raw(h.commitment);
  h.reply_port = r.u16();
  r.raw(h.mac);
  KMCHAIN_CHECK(r.at_end());
  if (h.reply_port == 0) return Err{JoinError::kMalformed};
  return h;
}

Result<JoinAccept, JoinError> parse_accept(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kJoinAcceptBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  JoinAccept a;
  a.gateway = GatewayId{r.u16()};
  a.node = NodeId{r.u32()};
  r.raw(a.gateway_key);
  r.raw(a.mac);
  KMCHAIN_CHECK(r.at_end());
  return a;
}

crypto::HmacTag hello_mac(const JoinHello& hello, const crypto::Secret256& psk,
                          const ContextId& context) {
  return crypto::hmac_sha256(hello_key(psk, context).view(), hello_without_mac(hello));
}

// ---------------------------------------------------------------------------------------------
// Device

JoinInitiator::JoinInitiator(const DeviceCredential& credential, const Commitment& commitment,
                             std::uint16_t reply_port, const ContextId& context, crypto::Rng& rng)
    : psk_(credential.psk), context_(context) {
  // Drawn in this order, so a seeded Rng replays the same hello.
  ephemeral_.emplace(crypto::X25519KeyPair::generate(rng));
  DeviceNonce nonce{};
  rng.fill(nonce);
  build_hello(credential.id, commitment, reply_port, nonce);
}

JoinInitiator::JoinInitiator(const DeviceCredential& credential, const Commitment& commitment,
                             std::uint16_t reply_port, const ContextId& context,
                             const crypto::X25519KeyPair& ephemeral, const DeviceNonce& nonce)
    : psk_(credential.psk), context_(context), ephemeral_(ephemeral) {
  build_hello(credential.id, commitment, reply_port, nonce);
}

void JoinInitiator::build_hello(const CredentialId& credential, const Commitment& commitment,
                                std::uint16_t reply_port, const DeviceNonce& nonce) {
  // The device's own configuration: a port it cannot listen on is a local bug, not input.
  KMCHAIN_CHECK(reply_port != 0);
  JoinHello h{credential, ephemeral_->public_key(), nonce, commitment, reply_port, {}};
  h.mac = hello_mac(h, psk_, context_);
  hello_ = encode(h);
}

Result<JoinResult, JoinError> JoinInitiator::on_accept(ByteView wire) {
  if (finished()) return Err{JoinError::kFinished};
  auto accept = parse_accept(wire);
  if (!accept) return Err{accept.error()};
  // The MAC key needs the shared secret, so a small-order key is refused before the MAC.
  crypto::Secret256 shared;
  if (!ephemeral_->derive(accept->gateway_key, shared)) return Err{JoinError::kWeakKey};
  const AcceptKeys keys =
      accept_keys(psk_, shared, context_, hello_, ByteView(wire).first(kAcceptMacOffset));
  if (!crypto::ct_equal(keys.mac, accept->mac)) return Err{JoinError::kAuthFailed};
  // Done: the ephemeral private key and the PSK copy are wiped as they go.
  ephemeral_.reset();
  psk_ = crypto::Secret256{};
  return JoinResult{accept->gateway, accept->node, keys.node_key};
}

// ---------------------------------------------------------------------------------------------
// Gateway

Status<JoinError> JoinResponder::verify_hello(const JoinHello& hello,
                                              const crypto::Secret256& psk) const {
  if (!crypto::ct_equal(hello_mac(hello, psk, context_), hello.mac)) {
    return Err{JoinError::kAuthFailed};
  }
  return {};
}

Result<JoinAccepted, JoinError> JoinResponder::accept(const JoinHello& hello,
                                                      const crypto::Secret256& psk,
                                                      GatewayId gateway, NodeId node,
                                                      crypto::Rng& rng) const {
  // Verified before drawing: a forged hello costs one HMAC, no randomness and no X25519.
  KMCHAIN_TRY(verify_hello(hello, psk));
  return accept_verified(hello, psk, gateway, node, crypto::X25519KeyPair::generate(rng));
}

Result<JoinAccepted, JoinError> JoinResponder::accept(
    const JoinHello& hello, const crypto::Secret256& psk, GatewayId gateway, NodeId node,
    const crypto::X25519KeyPair& ephemeral) const {
  KMCHAIN_TRY(verify_hello(hello, psk));
  return accept_verified(hello, psk, gateway, node, ephemeral);
}

Result<JoinAccepted, JoinError> JoinResponder::accept_verified(
    const JoinHello& hello, const crypto::Secret256& psk, GatewayId gateway, NodeId node,
    const crypto::X25519KeyPair& ephemeral) const {
  crypto::Secret256 shared;
  if (!ephemeral.derive(hello.device_key, shared)) return Err{JoinError::kWeakKey};
  JoinAccept accept{gateway, node, ephemeral.public_key(), {}};
  const Bytes body = accept_without_mac(accept);
  const AcceptKeys keys = accept_keys(psk, shared, context_, encode(hello), body);
  accept.mac = keys.mac;
  return JoinAccepted{encode(accept), keys.node_key};
}

}  // namespace kmchain::enroll
