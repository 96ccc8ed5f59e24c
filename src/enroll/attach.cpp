#include "enroll/attach.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "crypto/kdf.h"
#include "ledger/signed_transaction.h"

namespace kmchain::enroll {

namespace {

constexpr std::string_view kLabels[] = {
    label::kAttachChallenge, label::kAttachNodeKey, label::kAttachDone,  label::kJoinHello,
    label::kJoinAccept,      label::kJoinNodeKey,   label::kJoinRefusal, label::kRequest,
    label::kReply,           label::kSecretCode,    label::kCodeProof};
constexpr bool prefix_free() {
  for (std::string_view a : kLabels) {
    for (std::string_view b : kLabels) {
      if (a != b && b.substr(0, a.size()) == a) return false;
    }
  }
  return true;
}
static_assert(prefix_free(), "an attach label must not be a prefix of another label");

inline constexpr std::size_t kChallengeSignedBytes = kAttachChallengeBytes - 64;
inline constexpr std::size_t kDoneMacOffset = kAttachDoneBytes - crypto::kHmacSha256Bytes;

Status<AttachError> check_frame(ByteView wire, std::size_t size) {
  if (wire.empty()) return Err{AttachError::kWrongLength};
  if (wire[0] != kAttachVersion) return Err{AttachError::kBadVersion};
  if (wire.size() != size) return Err{AttachError::kWrongLength};
  return {};
}

Bytes challenge_without_signature(const AttachChallenge& m) {
  Bytes out;
  out.reserve(kAttachChallengeBytes);
  codec::ByteWriter w(out);
  w.u8(kAttachVersion);
  w.u16(m.gateway.value());
  w.u32(m.node.value());
  w.raw(m.gateway_key);
  w.raw(m.challenge);
  w.u64(m.placed_at.value());
  KMCHAIN_CHECK(out.size() == kChallengeSignedBytes);
  return out;
}

Bytes done_without_mac(const AttachDone& m) {
  Bytes out;
  out.reserve(kAttachDoneBytes);
  codec::ByteWriter w(out);
  w.u8(kAttachVersion);
  w.u16(m.gateway.value());
  w.u32(m.node.value());
  KMCHAIN_CHECK(out.size() == kDoneMacOffset);
  return out;
}

// What the gateway signs: the label, the context, the hello it answers and its own fields.
Bytes challenge_signed_bytes(const ContextId& context, ByteView hello, ByteView body) {
  Bytes out;
  codec::ByteWriter w(out);
  w.raw(as_bytes(label::kAttachChallenge));
  w.raw(context);
  w.raw(hello);
  w.raw(body);
  return out;
}

// The proof's context: chain id || gateway id || SHA-256(hello || challenge).
Bytes proof_context(const ContextId& context, GatewayId gateway, ByteView hello,
                    ByteView challenge) {
  Bytes out;
  codec::ByteWriter w(out);
  w.raw(context);
  w.u16(gateway.value());
  w.raw(crypto::Sha256().update(hello).update(challenge).finish());
  return out;
}

struct DoneKeys {
  crypto::Key128 node_key;
  crypto::Secret256 done_key;
};

DoneKeys done_keys(const Commitment& commitment, const crypto::Secret256& shared,
                   const ContextId& context, ByteView hello, ByteView challenge, ByteView proof) {
  const crypto::Digest256 t2 =
      crypto::Sha256().update(hello).update(challenge).update(proof).finish();
  auto info = [&](std::string_view label) {
    Bytes out;
    codec::ByteWriter w(out);
    w.raw(as_bytes(label));
    w.raw(context);
    w.raw(t2);
    return out;
  };
  return DoneKeys{
      crypto::hkdf_sha256_key128(commitment, shared.view(), info(label::kAttachNodeKey)),
      crypto::hkdf_sha256_secret<32>(commitment, shared.view(), info(label::kAttachDone))};
}

}  // namespace

const char* to_string(AttachError e) {
  switch (e) {
    case AttachError::kWrongLength:
      return "wrong length";
    case AttachError::kBadVersion:
      return "bad version";
    case AttachError::kMalformed:
      return "malformed";
    case AttachError::kAuthFailed:
      return "authentication failed";
    case AttachError::kWeakKey:
      return "weak ephemeral key";
    case AttachError::kFinished:
      return "handshake already finished";
  }
  return "unknown attach error";
}

Bytes encode(const AttachHello& m) {
  Bytes out;
  out.reserve(kAttachHelloBytes);
  codec::ByteWriter w(out);
  w.u8(kAttachVersion);
  w.u32(m.node.value());
  w.raw(m.device_key);
  w.raw(m.nonce);
  w.u16(m.reply_port);
  KMCHAIN_CHECK(out.size() == kAttachHelloBytes);
  return out;
}

Bytes encode(const AttachChallenge& m) {
  Bytes out = challenge_without_signature(m);
  codec::ByteWriter(out).raw(m.signature);
  return out;
}

Bytes encode(const AttachProof& m) {
  Bytes out;
  out.reserve(kAttachProofBytes);
  codec::ByteWriter w(out);
  w.u8(kAttachVersion);
  w.u32(m.node.value());
  w.raw(m.proof);
  w.raw(m.consent);
  KMCHAIN_CHECK(out.size() == kAttachProofBytes);
  return out;
}

Bytes encode(const AttachDone& m) {
  Bytes out = done_without_mac(m);
  codec::ByteWriter(out).raw(m.mac);
  return out;
}

Result<AttachHello, AttachError> parse_attach_hello(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kAttachHelloBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  AttachHello m;
  m.node = NodeId{r.u32()};
  r.raw(m.device_key);
  r.raw(m.nonce);
  m.reply_port = r.u16();
  KMCHAIN_CHECK(r.at_end());
  if (m.node.value() == 0 || m.reply_port == 0) return Err{AttachError::kMalformed};
  return m;
}

Result<AttachChallenge, AttachError> parse_attach_challenge(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kAttachChallengeBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  AttachChallenge m;
  m.gateway = GatewayId{r.u16()};
  m.node = NodeId{r.u32()};
  r.raw(m.gateway_key);
  r.raw(m.challenge);
  m.placed_at = Position{r.u64()};
  r.raw(m.signature);
  KMCHAIN_CHECK(r.at_end());
  if (m.node.value() == 0) return Err{AttachError::kMalformed};
  return m;
}

Result<AttachProof, AttachError> parse_attach_proof(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kAttachProofBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  AttachProof m;
  m.node = NodeId{r.u32()};
  r.raw(m.proof);
  r.raw(m.consent);
  KMCHAIN_CHECK(r.at_end());
  if (m.node.value() == 0) return Err{AttachError::kMalformed};
  return m;
}

Result<AttachDone, AttachError> parse_attach_done(ByteView wire) {
  KMCHAIN_TRY(check_frame(wire, kAttachDoneBytes));
  codec::ByteReader r(wire);
  (void)r.u8();
  AttachDone m;
  m.gateway = GatewayId{r.u16()};
  m.node = NodeId{r.u32()};
  r.raw(m.mac);
  KMCHAIN_CHECK(r.at_end());
  if (m.node.value() == 0) return Err{AttachError::kMalformed};
  return m;
}

// ---------------------------------------------------------------------------------------------
// Device

AttachInitiator::AttachInitiator(const SecretCode& code, NodeId node, GatewayId gateway,
                                 const crypto::Ed25519PublicKey& gateway_identity,
                                 std::uint16_t reply_port, const ContextId& context,
                                 crypto::Rng& rng)
    : AttachInitiator(code, node, gateway, gateway_identity, reply_port, context,
                      crypto::X25519KeyPair::generate(rng), [&rng] {
                        AttachNonce n{};
                        rng.fill(n);
                        return n;
                      }()) {}

AttachInitiator::AttachInitiator(const SecretCode& code, NodeId node, GatewayId gateway,
                                 const crypto::Ed25519PublicKey& gateway_identity,
                                 std::uint16_t reply_port, const ContextId& context,
                                 const crypto::X25519KeyPair& ephemeral, const AttachNonce& nonce)
    : code_(code),
      node_(node),
      gateway_(gateway),
      gateway_identity_(gateway_identity),
      context_(context),
      ephemeral_(ephemeral) {
  KMCHAIN_CHECK(node.value() != 0 && reply_port != 0);
  hello_ = encode(AttachHello{node, ephemeral.public_key(), nonce, reply_port});
}

Result<Bytes, AttachError> AttachInitiator::on_challenge(ByteView wire) {
  if (finished_) return Err{AttachError::kFinished};
  auto m = parse_attach_challenge(wire);
  if (!m) return Err{m.error()};
  // A retransmitted challenge (our proof was lost) gets the same proof again.
  if (challenge_ && ByteView(*challenge_).size() == wire.size() &&
      std::equal(wire.begin(), wire.end(), challenge_->begin()))
    return *proof_;
  if (m->gateway != gateway_ || m->node != node_) return Err{AttachError::kAuthFailed};
  const Bytes body(wire.begin(), wire.begin() + kChallengeSignedBytes);
  if (!crypto::ed25519_verify(gateway_identity_, challenge_signed_bytes(context_, hello_, body),
                              m->signature))
    return Err{AttachError::kAuthFailed};
  crypto::Secret256 shared;
  if (!ephemeral_->derive(m->gateway_key, shared)) return Err{AttachError::kWeakKey};
  // A second authentic challenge (the gateway restarted and drew anew) replaces the first.
  challenge_ = Bytes(wire.begin(), wire.end());
  shared_ = shared;
  AttachProof proof;
  proof.node = node_;
  proof.proof = prove(code_, m->challenge, proof_context(context_, gateway_, hello_, *challenge_));
  proof.consent = consent_to_move(code_, context_, node_, gateway_, m->placed_at);
  proof_ = encode(proof);
  return *proof_;
}

Result<Attached, AttachError> AttachInitiator::on_done(ByteView wire) {
  if (finished_) return Err{AttachError::kFinished};
  auto m = parse_attach_done(wire);
  if (!m) return Err{m.error()};
  if (!proof_ || m->gateway != gateway_ || m->node != node_) return Err{AttachError::kAuthFailed};
  const Commitment commitment = commitment_of(code_);
  const DoneKeys keys = done_keys(commitment, *shared_, context_, hello_, *challenge_, *proof_);
  const crypto::HmacTag expected = crypto::hmac_sha256(keys.done_key.view(), done_without_mac(*m));
  if (!crypto::ct_equal(expected, m->mac)) return Err{AttachError::kAuthFailed};
  finished_ = true;
  ephemeral_.reset();
  shared_.reset();
  return Attached{gateway_, node_, keys.node_key};
}

// ---------------------------------------------------------------------------------------------
// Gateway

AttachResponder::AttachResponder(const AttachHello& hello, const Commitment& commitment,
                                 Position placed_at, GatewayId self,
                                 const crypto::Ed25519KeyPair& identity, const ContextId& context,
                                 crypto::Rng& rng)
    : AttachResponder(hello, commitment, placed_at, self, identity, context,
                      crypto::X25519KeyPair::generate(rng), [&rng] {
                        Challenge c{};
                        rng.fill(c);
                        return c;
                      }()) {}

AttachResponder::AttachResponder(const AttachHello& hello, const Commitment& commitment,
                                 Position placed_at, GatewayId self,
                                 const crypto::Ed25519KeyPair& identity, const ContextId& context,
                                 const crypto::X25519KeyPair& ephemeral, const Challenge& challenge)
    : hello_(hello),
      commitment_(commitment),
      placed_at_(placed_at),
      self_(self),
      context_(context) {
  crypto::Secret256 shared;
  if (!ephemeral.derive(hello.device_key, shared)) {
    status_ = Err{AttachError::kWeakKey};
    return;
  }
  shared_ = shared;
  AttachChallenge m;
  m.gateway = self;
  m.node = hello.node;
  m.gateway_key = ephemeral.public_key();
  m.challenge = challenge;
  m.placed_at = placed_at;
  const Bytes body = challenge_without_signature(m);
  m.signature = identity.sign(challenge_signed_bytes(context, encode(hello), body));
  challenge_ = encode(m);
}

Result<AttachResponder::Verified, AttachError> AttachResponder::on_proof(ByteView wire) const {
  if (!status_) return Err{status_.error()};
  auto m = parse_attach_proof(wire);
  if (!m) return Err{m.error()};
  if (m->node != hello_.node) return Err{AttachError::kAuthFailed};
  const Bytes hello = encode(hello_);
  auto challenge = parse_attach_challenge(challenge_);
  KMCHAIN_CHECK(challenge.ok());
  if (!verify_proof(commitment_, challenge->challenge,
                    proof_context(context_, self_, hello, challenge_), m->proof))
    return Err{AttachError::kAuthFailed};
  if (!ledger::verify_move_consent(commitment_, context_, hello_.node, self_, placed_at_,
                                   m->consent))
    return Err{AttachError::kAuthFailed};
  const DoneKeys keys = done_keys(commitment_, *shared_, context_, hello, challenge_, wire);
  AttachDone done{self_, hello_.node, {}};
  done.mac = crypto::hmac_sha256(keys.done_key.view(), done_without_mac(done));
  return Verified{keys.node_key, encode(done), m->consent};
}

}  // namespace kmchain::enroll
