// The re-attachment handshake (enroll/attach.h): known answers (known_values.py, computed from
// the header's formulas), both ends agreeing; challenges from another gateway key, gateway id
// or hello, and small-order keys refused; proofs relayed to another gateway, answering another
// challenge, of another code, or with a consent for another position refused; a forged done
// leaves the device ready for the real one; retransmissions answered alike; strict parsing.
#include "enroll/attach.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/hash.h"
#include "enroll_fixture.h"
#include "support/hex.h"

namespace kmchain::enroll {
namespace {

using fixture::alice;
using fixture::bob;
using fixture::code;
using fixture::context;
using fixture::kGateway;
using fixture::kNode;
using fixture::kReplyPort;
using fixture::nonce;
using kmchain::testing::counting;
using kmchain::testing::unhex;

constexpr Position kPlacedAt{42};

crypto::Ed25519KeyPair identity(std::uint8_t first = 0x60) {
  return crypto::Ed25519KeyPair::from_seed(crypto::Secret256(counting<32>(first)));
}
Challenge challenge_bytes() {
  return counting<32>(0x50);
}

AttachInitiator initiator(const SecretCode& c = code()) {
  return AttachInitiator(c, kNode, kGateway, identity().public_key(), kReplyPort, context(),
                         alice(), nonce());
}

AttachResponder responder(const Bytes& hello, GatewayId self = kGateway,
                          Position placed_at = kPlacedAt,
                          const Challenge& challenge = challenge_bytes()) {
  auto h = parse_attach_hello(hello);
  EXPECT_TRUE(h.ok());
  return AttachResponder(*h, commitment_of(code()), placed_at, self, identity(), context(), bob(),
                         challenge);
}

Bytes sha256_of(const Bytes& b) {
  const crypto::Digest256 d = crypto::sha256(b);
  return Bytes(d.begin(), d.end());
}

TEST(Attach, KnownAnswers) {
  AttachInitiator device = initiator();
  EXPECT_EQ(device.hello(),
            unhex("01030000078520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a3031"
                  "32333435363738393a3b3c3d3e3f1633"));
  const AttachResponder gateway = responder(device.hello());
  ASSERT_TRUE(gateway.status().ok());
  EXPECT_EQ(sha256_of(gateway.challenge()),
            unhex("d9830c370f9b37ddaee137b64f578883169ded5a7458101d4aad15ea09e85eed"));
  auto proof = device.on_challenge(gateway.challenge());
  ASSERT_TRUE(proof.ok()) << to_string(proof.error());
  EXPECT_EQ(sha256_of(*proof),
            unhex("0a1726603aceef2a410994e5df195f8673c11e130f822f5b037fce9df9d658ff"));
  auto verified = gateway.on_proof(*proof);
  ASSERT_TRUE(verified.ok()) << to_string(verified.error());
  const ByteView key = verified->node_key.view();
  EXPECT_EQ(Bytes(key.begin(), key.end()), unhex("2eaa740f8ef478160e171760b747f82b"));
  EXPECT_EQ(
      verified->done,
      unhex("010003030000074ae01c1075ed1a28637259ccb2d8d85406849ac3e9ef868e64f203b00dd76b25"));
  auto attached = device.on_done(verified->done);
  ASSERT_TRUE(attached.ok()) << to_string(attached.error());
  EXPECT_EQ(attached->gateway, kGateway);
  EXPECT_EQ(attached->node, kNode);
  EXPECT_EQ(attached->node_key, verified->node_key);
  EXPECT_TRUE(device.finished());
  // The consent the gateway submits is the device's for this gateway and position.
  EXPECT_TRUE(ledger::verify_move_consent(commitment_of(code()), context(), kNode, kGateway,
                                          kPlacedAt, verified->consent));
  // One handshake, one node key.
  EXPECT_EQ(device.on_done(verified->done).error(), AttachError::kFinished);
  EXPECT_EQ(device.on_challenge(gateway.challenge()).error(), AttachError::kFinished);
}

TEST(Attach, FreshKeysEachTimeFromARealRng) {
  crypto::OsRng rng;
  crypto::Key128 first;
  for (int i = 0; i < 2; ++i) {
    AttachInitiator device(code(), kNode, kGateway, identity().public_key(), kReplyPort, context(),
                           rng);
    AttachResponder gateway(*parse_attach_hello(device.hello()), commitment_of(code()), kPlacedAt,
                            kGateway, identity(), context(), rng);
    auto verified = gateway.on_proof(*device.on_challenge(gateway.challenge()));
    ASSERT_TRUE(verified.ok());
    auto attached = device.on_done(verified->done);
    ASSERT_TRUE(attached.ok());
    EXPECT_EQ(attached->node_key, verified->node_key);
    if (i == 0)
      first = attached->node_key;
    else
      EXPECT_NE(attached->node_key, first);
  }
}

TEST(Attach, AChallengeNotFromTheChosenGatewayForThisHelloIsRefused) {
  AttachInitiator device = initiator();
  // Signed by another key (a gateway pretending to be gateway 3, or anyone).
  {
    auto h = parse_attach_hello(device.hello());
    const AttachResponder other(*h, commitment_of(code()), kPlacedAt, kGateway, identity(0x61),
                                context(), bob(), challenge_bytes());
    EXPECT_EQ(device.on_challenge(other.challenge()).error(), AttachError::kAuthFailed);
  }
  // From gateway 4 with its own genesis key: not the gateway the device chose.
  EXPECT_EQ(device.on_challenge(responder(device.hello(), GatewayId{4}).challenge()).error(),
            AttachError::kAuthFailed);
  // For another hello (another nonce): the signature covers the hello.
  AttachInitiator other_device(code(), kNode, kGateway, identity().public_key(), kReplyPort,
                               context(), alice(), counting<16>(0x31));
  EXPECT_EQ(device.on_challenge(responder(other_device.hello()).challenge()).error(),
            AttachError::kAuthFailed);
  // Another consortium.
  {
    auto h = parse_attach_hello(device.hello());
    const AttachResponder other(*h, commitment_of(code()), kPlacedAt, kGateway, identity(),
                                counting<32>(0x41), bob(), challenge_bytes());
    EXPECT_EQ(device.on_challenge(other.challenge()).error(), AttachError::kAuthFailed);
  }
  // Any byte changed.
  const Bytes good = responder(device.hello()).challenge();
  for (std::size_t i = 1; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    auto r = device.on_challenge(bad);
    ASSERT_FALSE(r.ok()) << i;
  }
  // Still ready for the real one.
  EXPECT_TRUE(device.on_challenge(good).ok());
  EXPECT_FALSE(device.finished());
}

TEST(Attach, SmallOrderKeysAreRefusedOnBothSides) {
  const crypto::X25519PublicKey zero{};  // the identity point: a shared secret of all zeros
  AttachHello weak{kNode, zero, nonce(), kReplyPort};
  const AttachResponder gateway(weak, commitment_of(code()), kPlacedAt, kGateway, identity(),
                                context(), bob(), challenge_bytes());
  EXPECT_EQ(gateway.status().error(), AttachError::kWeakKey);
  EXPECT_EQ(gateway.on_proof(Bytes(kAttachProofBytes, 1)).error(), AttachError::kWeakKey);

  // A challenge with a small-order gateway key, properly signed by the gateway.
  AttachInitiator device = initiator();
  AttachChallenge m = *parse_attach_challenge(responder(device.hello()).challenge());
  m.gateway_key = zero;
  Bytes body = encode(m);
  body.resize(kAttachChallengeBytes - 64);
  Bytes signed_bytes(label::kAttachChallenge.begin(), label::kAttachChallenge.end());
  const ContextId ctx = context();
  signed_bytes.insert(signed_bytes.end(), ctx.begin(), ctx.end());
  signed_bytes.insert(signed_bytes.end(), device.hello().begin(), device.hello().end());
  signed_bytes.insert(signed_bytes.end(), body.begin(), body.end());
  m.signature = identity().sign(signed_bytes);
  EXPECT_EQ(device.on_challenge(encode(m)).error(), AttachError::kWeakKey);
}

TEST(Attach, ProofsOnlyAnswerTheirOwnChallengeAtTheirOwnGateway) {
  AttachInitiator device = initiator();
  const AttachResponder gateway = responder(device.hello());
  const Bytes proof = *device.on_challenge(gateway.challenge());
  // The same hello answered by gateway 4 (the proof relayed there): its context names gateway 3.
  EXPECT_EQ(responder(device.hello(), GatewayId{4}).on_proof(proof).error(),
            AttachError::kAuthFailed);
  // The same gateway and hello, another attempt with another challenge (a replay).
  EXPECT_EQ(
      responder(device.hello(), kGateway, kPlacedAt, counting<32>(0x51)).on_proof(proof).error(),
      AttachError::kAuthFailed);
  // A consent from another position: the proof is good, the consent is not.
  EXPECT_EQ(responder(device.hello(), kGateway, Position{43}).on_proof(proof).error(),
            AttachError::kAuthFailed);
  // Another device's code for this node.
  AttachInitiator thief = initiator(SecretCode(counting<32>(0x01)));
  const AttachResponder for_thief = responder(thief.hello());
  EXPECT_EQ(for_thief.on_proof(*thief.on_challenge(for_thief.challenge())).error(),
            AttachError::kAuthFailed);
  // Any byte changed.
  for (std::size_t i = 1; i < proof.size(); ++i) {
    Bytes bad = proof;
    bad[i] ^= 0x01;
    EXPECT_FALSE(gateway.on_proof(bad).ok()) << i;
  }
  EXPECT_TRUE(gateway.on_proof(proof).ok());
}

TEST(Attach, AForgedDoneLeavesTheDeviceReadyForTheRealOne) {
  AttachInitiator device = initiator();
  EXPECT_EQ(device.on_done(Bytes(kAttachDoneBytes, 2)).error(), AttachError::kBadVersion);
  EXPECT_EQ(device.on_done(Bytes(kAttachDoneBytes, 1)).error(), AttachError::kAuthFailed);
  const AttachResponder gateway = responder(device.hello());
  // Before any proof: nothing to confirm.
  AttachDone early{kGateway, kNode, {}};
  EXPECT_EQ(device.on_done(encode(early)).error(), AttachError::kAuthFailed);
  const Bytes proof = *device.on_challenge(gateway.challenge());
  // A retransmitted challenge gets the same proof.
  EXPECT_EQ(*device.on_challenge(gateway.challenge()), proof);
  const Bytes done = gateway.on_proof(proof)->done;
  for (std::size_t i = 1; i < done.size(); ++i) {
    Bytes bad = done;
    bad[i] ^= 0x01;
    EXPECT_FALSE(device.on_done(bad).ok()) << i;
  }
  EXPECT_FALSE(device.finished());
  // The gateway answers a retransmitted proof with the same done.
  EXPECT_EQ(gateway.on_proof(proof)->done, done);
  EXPECT_TRUE(device.on_done(done).ok());
}

// Parses `b`; what parses must encode back to the same bytes.
template <typename Parse>
Status<AttachError> round_trip(Parse parse, ByteView b) {
  auto r = parse(b);
  if (!r) return Err{r.error()};
  EXPECT_EQ(encode(*r), Bytes(b.begin(), b.end()));
  return {};
}

TEST(Attach, ParsingIsStrict) {
  AttachInitiator device = initiator();
  const AttachResponder gateway = responder(device.hello());
  const Bytes proof = *device.on_challenge(gateway.challenge());
  const Bytes done = gateway.on_proof(proof)->done;
  const Bytes messages[] = {device.hello(), gateway.challenge(), proof, done};
  auto parse = [](std::size_t kind, ByteView b) -> Status<AttachError> {
    switch (kind) {
      case 0:
        return round_trip(parse_attach_hello, b);
      case 1:
        return round_trip(parse_attach_challenge, b);
      case 2:
        return round_trip(parse_attach_proof, b);
      default:
        return round_trip(parse_attach_done, b);
    }
  };
  for (std::size_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(k);
    const Bytes& m = messages[k];
    EXPECT_TRUE(parse(k, m).ok());
    for (std::size_t n = 0; n < m.size(); ++n) {
      auto st = parse(k, ByteView(m).first(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error(), AttachError::kWrongLength);
    }
    Bytes longer = m;
    longer.push_back(0);
    EXPECT_EQ(parse(k, longer).error(), AttachError::kWrongLength);
    Bytes version = m;
    version[0] = 2;
    EXPECT_EQ(parse(k, version).error(), AttachError::kBadVersion);
    // Node id 0 (bytes 1..4 of the hello and the proof, 3..6 of the challenge and the done).
    Bytes no_node = m;
    const std::size_t at = (k == 0 || k == 2) ? 1 : 3;
    for (std::size_t i = at; i < at + 4; ++i)
      no_node[i] = 0;
    EXPECT_EQ(parse(k, no_node).error(), AttachError::kMalformed);
  }
  Bytes no_port = device.hello();
  no_port[53] = 0;
  no_port[54] = 0;
  EXPECT_EQ(parse_attach_hello(no_port).error(), AttachError::kMalformed);
  for (std::uint8_t e = 1; e <= 6; ++e)
    EXPECT_STRNE(to_string(static_cast<AttachError>(e)), "unknown attach error");
}

}  // namespace
}  // namespace kmchain::enroll
