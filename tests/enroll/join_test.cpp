// The join handshake (enroll/join.h): both sides reach the same node key, equal to the one
// known_values.py and a from-scratch recomputation derive from the documented schedule; a wrong
// PSK is refused by the gateway and by the device; every single-byte corruption and every
// truncation of either message is refused; an accept answers one hello only; small-order
// ephemeral keys are refused on both sides; another context gives another node key and fails
// every MAC; the device ignores forged accepts and finishes once.
#include "enroll/join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "codec/byte_writer.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/mac.h"
#include "crypto/random.h"
#include "enroll_fixture.h"
#include "support/hex.h"

namespace kmchain::enroll {
namespace {

using fixture::counting;
using kmchain::testing::unhex;
using kmchain::testing::unhex_array;

// The values known_values.py prints for the fixture's inputs.
constexpr std::string_view kKnownHello =
    "01101112131415161718191a1b1c1d1e1f8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa"
    "9b4e6a303132333435363738393a3b3c3d3e3f96b4e71bdf086285eee77c1844bc5e535b63958b2b4d09f10aaa0d"
    "5f967aa796163313a3d7b10a4454b305abf5e4a8f4f9b1bdf8ccf0e3360d7b16285a07deb7e5c7";
constexpr std::string_view kKnownAccept =
    "01000303000007de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f984ba3ad07c252"
    "0657924cfb398e208c121b89dcb922b8cfa2ea9bf9c5e5a478";
constexpr std::string_view kKnownNodeKey = "1e0c14bfa5fa530fba5bdfea2504c819";
constexpr std::string_view kKnownRequestKey =
    "2ca421a9527fe027a671221a9c28d68e73787e4bab35e7cda1c6b0d6b29304b1";

// Small-order points of Curve25519 and their non-canonical encodings (u >= p, or the top bit
// set, which X25519 masks): each makes the shared secret zero.
constexpr std::string_view kSmallOrderPoints[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",  // 0
    "0100000000000000000000000000000000000000000000000000000000000000",  // 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1 (order 2)
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p = 0
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 = 1
    "0000000000000000000000000000000000000000000000000000000000000080",  // 0, top bit set
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",  // order 8, top bit set
};

// The changes tried at every byte: the lowest bit, the highest, all of them.
constexpr std::uint8_t kMasks[] = {0x01, 0x80, 0xff};

Commitment commitment() {
  return commitment_of(fixture::code());
}

// The device of the known-answer vectors: Alice's key, the fixture's nonce.
JoinInitiator known_device(const ContextId& context = fixture::context(),
                           const DeviceNonce& nonce = fixture::nonce()) {
  return JoinInitiator(fixture::credential(), commitment(), fixture::kReplyPort, context,
                       fixture::alice(), nonce);
}

JoinHello parsed(const Bytes& wire) {
  auto hello = parse_hello(wire);
  EXPECT_TRUE(hello.ok());
  return hello.ok() ? *hello : JoinHello{};
}

// The gateway's answer with Bob's key.
JoinAccepted known_accept(const Bytes& hello, const ContextId& context = fixture::context()) {
  auto accepted = JoinResponder(context).accept(parsed(hello), fixture::credential().psk,
                                                fixture::kGateway, fixture::kNode, fixture::bob());
  EXPECT_TRUE(accepted.ok()) << to_string(accepted.error());
  return accepted.ok() ? std::move(*accepted) : JoinAccepted{};
}

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  codec::ByteWriter w(out);
  for (ByteView p : parts)
    w.raw(p);
  return out;
}

// An accept and its node key computed straight from the formulas of key_schedule.h and the
// layout of join.h with the crypto primitives, sharing no code with join.cpp. With another `psk`
// it is what a gateway that does not hold the device's PSK could send at best.
struct FormulaAccept {
  Bytes wire;
  crypto::Key128 node_key;
};
FormulaAccept formula_accept(const Bytes& hello, const crypto::Secret256& psk,
                             const ContextId& context, GatewayId gateway, NodeId node,
                             const crypto::X25519KeyPair& ephemeral) {
  crypto::X25519PublicKey device_key{};
  std::copy_n(hello.begin() + 17, 32, device_key.begin());
  crypto::Secret256 shared;
  EXPECT_TRUE(ephemeral.derive(device_key, shared));
  Bytes body;
  codec::ByteWriter w(body);
  w.u8(1);
  w.u16(gateway.value());
  w.u32(node.value());
  w.raw(ephemeral.public_key());
  const crypto::Digest256 hello_hash = crypto::sha256(hello);
  const auto k_accept = crypto::hkdf_sha256_secret<32>(
      psk.view(), shared.view(), concat({as_bytes("kmchain/v1/join/accept"), context, hello_hash}));
  const crypto::HmacTag mac = crypto::hmac_sha256(k_accept.view(), concat({hello, body}));
  const crypto::Digest256 transcript = crypto::sha256(concat({hello, body}));
  FormulaAccept out{concat({body, mac}), {}};
  out.node_key = crypto::hkdf_sha256_key128(
      psk.view(), shared.view(),
      concat({as_bytes("kmchain/v1/join/node-key"), context, transcript}));
  return out;
}

Bytes accept_with_gateway_key(std::string_view key_hex) {
  Bytes wire;
  codec::ByteWriter w(wire);
  w.u8(kJoinVersion);
  w.u16(fixture::kGateway.value());
  w.u32(fixture::kNode.value());
  w.raw(unhex(key_hex));
  w.raw(Bytes(crypto::kHmacSha256Bytes, 0x5a));
  return wire;
}

// ---------------------------------------------------------------------------------------------
// Known answers and round trips

TEST(JoinKnownAnswer, HelloMatchesKnownValues) {
  EXPECT_EQ(to_hex(known_device().hello()), kKnownHello);
}

TEST(JoinKnownAnswer, AcceptAndNodeKeyMatchKnownValues) {
  JoinInitiator device = known_device();
  const JoinAccepted accepted = known_accept(device.hello());
  EXPECT_EQ(to_hex(accepted.accept), kKnownAccept);
  EXPECT_EQ(to_hex(accepted.node_key.view()), kKnownNodeKey);
  auto result = device.on_accept(accepted.accept);
  ASSERT_TRUE(result.ok()) << to_string(result.error());
  EXPECT_EQ(to_hex(result->node_key.view()), kKnownNodeKey);
}

TEST(JoinKnownAnswer, RequestKeyMatchesKnownValues) {
  const crypto::Key128 node_key = crypto::Key128(unhex_array<16>(kKnownNodeKey));
  EXPECT_EQ(to_hex(request_key(node_key, fixture::context(), fixture::kNode).view()),
            kKnownRequestKey);
}

TEST(JoinKnownAnswer, MessageSizesAreTheDocumentedOnes) {
  EXPECT_EQ(known_device().hello().size(), 131u);
  EXPECT_EQ(known_accept(known_device().hello()).accept.size(), 71u);
}

TEST(JoinRoundTrip, BothSidesHoldTheSameNodeKey) {
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    crypto::DeterministicRng rng(seed);
    const DeviceCredential credential = DeviceCredential::generate(rng);
    const Commitment c = commitment_of(draw_secret_code(rng));
    JoinInitiator device(credential, c, 40000, fixture::context(), rng);

    auto hello = parse_hello(device.hello());
    ASSERT_TRUE(hello.ok()) << seed;
    EXPECT_EQ(hello->credential, credential.id);
    EXPECT_EQ(hello->commitment, c);
    EXPECT_EQ(hello->reply_port, 40000);
    const JoinResponder gateway(fixture::context());
    ASSERT_TRUE(gateway.verify_hello(*hello, credential.psk).ok()) << seed;
    const NodeId node{0x02000000u + static_cast<std::uint32_t>(seed)};
    auto accepted = gateway.accept(*hello, credential.psk, GatewayId{2}, node, rng);
    ASSERT_TRUE(accepted.ok()) << seed;

    auto result = device.on_accept(accepted->accept);
    ASSERT_TRUE(result.ok()) << seed << ": " << to_string(result.error());
    EXPECT_EQ(result->gateway, GatewayId{2});
    EXPECT_EQ(result->node, node);
    EXPECT_TRUE(result->node_key == accepted->node_key) << seed;
    EXPECT_TRUE(device.finished());
  }
}

// Fast against naive: the node key from a from-scratch recomputation, for random ephemeral keys.
TEST(JoinRoundTrip, NodeKeyMatchesARecomputationFromTheFormulas) {
  crypto::DeterministicRng rng(99);
  for (int i = 0; i < 8; ++i) {
    const auto device_key = crypto::X25519KeyPair::generate(rng);
    const auto gateway_key = crypto::X25519KeyPair::generate(rng);
    DeviceNonce nonce{};
    rng.fill(nonce);
    JoinInitiator device(fixture::credential(), commitment(), fixture::kReplyPort,
                         fixture::context(), device_key, nonce);
    const FormulaAccept expected =
        formula_accept(device.hello(), fixture::credential().psk, fixture::context(),
                       fixture::kGateway, fixture::kNode, gateway_key);
    auto accepted = JoinResponder(fixture::context())
                        .accept(parsed(device.hello()), fixture::credential().psk,
                                fixture::kGateway, fixture::kNode, gateway_key);
    ASSERT_TRUE(accepted.ok());
    EXPECT_EQ(to_hex(accepted->accept), to_hex(expected.wire)) << i;
    EXPECT_TRUE(accepted->node_key == expected.node_key) << i;
  }
}

TEST(JoinRoundTrip, ParsedMessagesEncodeToTheSameBytes) {
  JoinInitiator device = known_device();
  const Bytes accept = known_accept(device.hello()).accept;
  EXPECT_EQ(encode(parsed(device.hello())), device.hello());
  auto a = parse_accept(accept);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(encode(*a), accept);
  EXPECT_EQ(a->gateway, fixture::kGateway);
  EXPECT_EQ(a->node, fixture::kNode);
  EXPECT_EQ(a->gateway_key, fixture::bob().public_key());
}

// A seeded Rng replays the same hello; two draws give two hellos with different keys and nonces.
TEST(JoinRoundTrip, HelloIsAFunctionOfTheRandomness) {
  crypto::DeterministicRng a(5);
  crypto::DeterministicRng b(5);
  const DeviceCredential credential = fixture::credential();
  JoinInitiator first(credential, commitment(), fixture::kReplyPort, fixture::context(), a);
  JoinInitiator again(credential, commitment(), fixture::kReplyPort, fixture::context(), b);
  JoinInitiator next(credential, commitment(), fixture::kReplyPort, fixture::context(), a);
  EXPECT_EQ(first.hello(), again.hello());
  const JoinHello h1 = parsed(first.hello());
  const JoinHello h2 = parsed(next.hello());
  EXPECT_NE(h1.device_key, h2.device_key);
  EXPECT_NE(h1.nonce, h2.nonce);
}

// ---------------------------------------------------------------------------------------------
// Wrong PSK

TEST(JoinWrongPsk, GatewayRefusesTheHello) {
  crypto::DeterministicRng rng(10);
  const JoinHello hello = parsed(known_device().hello());
  const crypto::Secret256 other = rng.secret<32>();
  const JoinResponder gateway(fixture::context());
  EXPECT_EQ(gateway.verify_hello(hello, other).error(), JoinError::kAuthFailed);
  auto accepted = gateway.accept(hello, other, fixture::kGateway, fixture::kNode, rng);
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.error(), JoinError::kAuthFailed);
  EXPECT_TRUE(gateway.verify_hello(hello, fixture::credential().psk).ok());
}

TEST(JoinWrongPsk, DeviceRefusesTheAccept) {
  crypto::DeterministicRng rng(11);
  JoinInitiator device = known_device();
  const FormulaAccept forged = formula_accept(device.hello(), rng.secret<32>(), fixture::context(),
                                              fixture::kGateway, fixture::kNode, fixture::bob());
  auto result = device.on_accept(forged.wire);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), JoinError::kAuthFailed);
  EXPECT_FALSE(device.finished());
  // The formula with the right PSK is the genuine accept.
  const FormulaAccept genuine =
      formula_accept(device.hello(), fixture::credential().psk, fixture::context(),
                     fixture::kGateway, fixture::kNode, fixture::bob());
  EXPECT_TRUE(device.on_accept(genuine.wire).ok());
}

// ---------------------------------------------------------------------------------------------
// Corruption and truncation

// Refused by parse_hello or verify_hello; returns the error.
JoinError hello_refusal(const Bytes& wire) {
  auto hello = parse_hello(wire);
  if (!hello) return hello.error();
  auto verified = JoinResponder(fixture::context()).verify_hello(*hello, fixture::credential().psk);
  EXPECT_FALSE(verified.ok());
  return verified.ok() ? JoinError{} : verified.error();
}

TEST(JoinCorruption, EverySingleByteChangeOfTheHelloIsRefused) {
  const Bytes good = known_device().hello();
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t mask : kMasks) {
      Bytes bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
      const JoinError e = hello_refusal(bad);
      if (i == 0) {
        EXPECT_EQ(e, JoinError::kBadVersion) << i;
      } else {
        EXPECT_EQ(e, JoinError::kAuthFailed) << "byte " << i << " mask " << int{mask};
      }
    }
  }
}

TEST(JoinCorruption, EveryTruncationAndExtensionOfTheHelloIsRefused) {
  const Bytes good = known_device().hello();
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto hello = parse_hello(ByteView(good).first(n));
    ASSERT_FALSE(hello.ok()) << n;
    EXPECT_EQ(hello.error(), JoinError::kWrongLength) << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(parse_hello(longer).error(), JoinError::kWrongLength);
}

TEST(JoinCorruption, HelloWithReplyPortZeroIsMalformed) {
  Bytes wire = known_device().hello();
  wire[97] = 0;
  wire[98] = 0;
  EXPECT_EQ(parse_hello(wire).error(), JoinError::kMalformed);
}

TEST(JoinCorruption, EverySingleByteChangeOfTheAcceptIsRefused) {
  JoinInitiator device = known_device();
  const Bytes good = known_accept(device.hello()).accept;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t mask : kMasks) {
      Bytes bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
      auto result = device.on_accept(bad);
      ASSERT_FALSE(result.ok()) << "byte " << i << " mask " << int{mask};
      if (i == 0) {
        EXPECT_EQ(result.error(), JoinError::kBadVersion);
      } else if (i >= 7 && i < 39) {
        // A changed gateway key is another point (a weak one with luck): never the right MAC.
        EXPECT_TRUE(result.error() == JoinError::kAuthFailed ||
                    result.error() == JoinError::kWeakKey)
            << "byte " << i;
      } else {
        EXPECT_EQ(result.error(), JoinError::kAuthFailed) << "byte " << i << " mask " << int{mask};
      }
    }
  }
  // None of that ended the handshake.
  EXPECT_FALSE(device.finished());
  EXPECT_TRUE(device.on_accept(good).ok());
}

TEST(JoinCorruption, EveryTruncationAndExtensionOfTheAcceptIsRefused) {
  JoinInitiator device = known_device();
  const Bytes good = known_accept(device.hello()).accept;
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(parse_accept(ByteView(good).first(n)).error(), JoinError::kWrongLength) << n;
    auto result = device.on_accept(ByteView(good).first(n));
    ASSERT_FALSE(result.ok()) << n;
    EXPECT_EQ(result.error(), JoinError::kWrongLength) << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(device.on_accept(longer).error(), JoinError::kWrongLength);
  EXPECT_TRUE(device.on_accept(good).ok());
}

// ---------------------------------------------------------------------------------------------
// Binding

// Two hellos with the same ephemeral key that differ in the nonce only: the accept of one is
// refused by the other, so the MAC covers the hello itself, not just the key exchange.
TEST(JoinBinding, AnAcceptForAnotherHelloIsRefused) {
  JoinInitiator first = known_device();
  JoinInitiator second = known_device(fixture::context(), counting<16>(0x31));
  ASSERT_NE(first.hello(), second.hello());
  const Bytes accept_for_first = known_accept(first.hello()).accept;
  auto result = second.on_accept(accept_for_first);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), JoinError::kAuthFailed);
  EXPECT_TRUE(first.on_accept(accept_for_first).ok());
}

TEST(JoinBinding, AnAcceptForAnotherDeviceIsRefused) {
  crypto::DeterministicRng rng(12);
  const DeviceCredential credential = fixture::credential();
  JoinInitiator a(credential, commitment(), fixture::kReplyPort, fixture::context(), rng);
  JoinInitiator b(credential, commitment(), fixture::kReplyPort, fixture::context(), rng);
  auto accepted =
      JoinResponder(fixture::context())
          .accept(parsed(a.hello()), credential.psk, fixture::kGateway, fixture::kNode, rng);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(b.on_accept(accepted->accept).error(), JoinError::kAuthFailed);
  EXPECT_TRUE(a.on_accept(accepted->accept).ok());
}

TEST(JoinBinding, FinishedInitiatorRefusesEverything) {
  JoinInitiator device = known_device();
  const Bytes accept = known_accept(device.hello()).accept;
  ASSERT_TRUE(device.on_accept(accept).ok());
  EXPECT_TRUE(device.finished());
  EXPECT_EQ(device.on_accept(accept).error(), JoinError::kFinished);
  EXPECT_EQ(device.on_accept({}).error(), JoinError::kFinished);
}

// ---------------------------------------------------------------------------------------------
// Weak keys

TEST(JoinWeakKey, SmallOrderGatewayKeyIsRefusedByTheDevice) {
  JoinInitiator device = known_device();
  for (std::string_view point : kSmallOrderPoints) {
    auto result = device.on_accept(accept_with_gateway_key(point));
    ASSERT_FALSE(result.ok()) << point;
    EXPECT_EQ(result.error(), JoinError::kWeakKey) << point;
  }
  EXPECT_FALSE(device.finished());
}

// The hello authenticates (the device holds the PSK) but its key is weak: the gateway refuses to
// derive a node key from it.
TEST(JoinWeakKey, SmallOrderDeviceKeyIsRefusedByTheGateway) {
  crypto::DeterministicRng rng(13);
  const JoinResponder gateway(fixture::context());
  for (std::string_view point : kSmallOrderPoints) {
    JoinHello hello = parsed(known_device().hello());
    hello.device_key = unhex_array<32>(point);
    hello.mac = hello_mac(hello, fixture::credential().psk, fixture::context());
    ASSERT_TRUE(gateway.verify_hello(hello, fixture::credential().psk).ok());
    auto accepted =
        gateway.accept(hello, fixture::credential().psk, fixture::kGateway, fixture::kNode, rng);
    ASSERT_FALSE(accepted.ok()) << point;
    EXPECT_EQ(accepted.error(), JoinError::kWeakKey) << point;
  }
}

// ---------------------------------------------------------------------------------------------
// Context

const ContextId kOtherContext = counting<32>(0x41);

TEST(JoinContext, AnotherContextGivesAnotherNodeKey) {
  JoinInitiator here = known_device();
  JoinInitiator there = known_device(kOtherContext);
  const JoinAccepted accepted_here = known_accept(here.hello());
  const JoinAccepted accepted_there = known_accept(there.hello(), kOtherContext);
  auto result_there = there.on_accept(accepted_there.accept);
  ASSERT_TRUE(result_there.ok());
  EXPECT_TRUE(result_there->node_key == accepted_there.node_key);
  EXPECT_FALSE(accepted_there.node_key == accepted_here.node_key);
  EXPECT_NE(to_hex(accepted_there.node_key.view()), kKnownNodeKey);
}

TEST(JoinContext, AGatewayOfAnotherContextRefusesTheHello) {
  const JoinHello hello = parsed(known_device().hello());
  const JoinResponder other(kOtherContext);
  EXPECT_EQ(other.verify_hello(hello, fixture::credential().psk).error(), JoinError::kAuthFailed);
  crypto::DeterministicRng rng(14);
  EXPECT_EQ(other.accept(hello, fixture::credential().psk, fixture::kGateway, fixture::kNode, rng)
                .error(),
            JoinError::kAuthFailed);
}

// Same keys, same nonce, same PSK: only the context differs, and the accept made for one context
// is refused in the other.
TEST(JoinContext, ADeviceOfAnotherContextRefusesTheAccept) {
  JoinInitiator here = known_device();
  JoinInitiator there = known_device(kOtherContext);
  const Bytes accept_here = known_accept(here.hello()).accept;
  EXPECT_EQ(there.on_accept(accept_here).error(), JoinError::kAuthFailed);
  // Even an accept computed in the other context over this context's hello.
  const FormulaAccept crossed =
      formula_accept(here.hello(), fixture::credential().psk, kOtherContext, fixture::kGateway,
                     fixture::kNode, fixture::bob());
  EXPECT_EQ(here.on_accept(crossed.wire).error(), JoinError::kAuthFailed);
  EXPECT_TRUE(here.on_accept(accept_here).ok());
}

TEST(JoinErrors, EveryErrorHasAName) {
  for (std::uint8_t e = 1; e <= 6; ++e) {
    EXPECT_STRNE(to_string(static_cast<JoinError>(e)), "unknown join error") << int{e};
  }
}

}  // namespace
}  // namespace kmchain::enroll
