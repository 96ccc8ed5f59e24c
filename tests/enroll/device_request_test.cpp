// Device requests (enroll/device_request.h): the documented layout and MAC (known_values.py),
// round trips of every kind, every single-byte change and truncation refused with the error its
// public structure explains, other keys refused, and the gateway's counter check refusing stale
// and replayed counters. The last test runs a join and then a request under the keys it made.
#include "enroll/device_request.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/random.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"
#include "enroll_fixture.h"
#include "support/hex.h"

namespace kmchain::enroll {
namespace {

using kmchain::testing::unhex_array;

constexpr std::string_view kKnownRequestKey =
    "2ca421a9527fe027a671221a9c28d68e73787e4bab35e7cda1c6b0d6b29304b1";
constexpr std::string_view kKnownCatchUp =
    "01020300000700000000000000090008010203040506070831b3f7599abfd0791ccd429481e76c38";
constexpr Position kPosition{0x0102030405060708};
constexpr std::uint8_t kMasks[] = {0x01, 0x80, 0xff};

crypto::Secret256 known_key() {
  return crypto::Secret256(unhex_array<32>(kKnownRequestKey));
}

DeviceRequest catch_up(std::uint64_t counter = 9, const crypto::Secret256& key = known_key()) {
  return make_request(RequestKind::kCatchUp, fixture::kNode, counter, catch_up_body(kPosition),
                      key);
}

TEST(DeviceRequestKnownAnswer, CatchUpMatchesKnownValues) {
  EXPECT_EQ(to_hex(encode(catch_up())), kKnownCatchUp);
}

TEST(DeviceRequestRoundTrip, EveryKindParsesVerifiesAndEncodesBack) {
  crypto::DeterministicRng rng(1);
  const crypto::Secret256 key = rng.secret<32>();
  for (RequestKind kind : {RequestKind::kLeave, RequestKind::kCatchUp, RequestKind::kStatus}) {
    const Bytes body = kind == RequestKind::kCatchUp ? catch_up_body(Position{77})
                       : kind == RequestKind::kLeave ? Bytes(64, 0x5a)  // a consent's size
                                                     : Bytes{};
    const DeviceRequest sent = make_request(kind, NodeId{0x01000002}, 42, body, key);
    const Bytes wire = encode(sent);
    EXPECT_EQ(wire.size(), kRequestBytesMin + body_bytes(kind)) << to_string(kind);
    auto received = parse_request(wire);
    ASSERT_TRUE(received.ok()) << to_string(kind);
    EXPECT_TRUE(*received == sent) << to_string(kind);
    EXPECT_TRUE(verify_request(*received, key).ok()) << to_string(kind);
    EXPECT_EQ(encode(*received), wire) << to_string(kind);
  }
}

TEST(DeviceRequestRoundTrip, CatchUpCarriesItsPosition) {
  auto parsed = parse_request(encode(catch_up()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(catch_up_position(*parsed), kPosition);
}

// Which error a changed byte earns depends on what the byte is: version, kind, body length are
// public structure; every other change is caught by the MAC.
TEST(DeviceRequestTamper, EverySingleByteChangeIsRefused) {
  const Bytes good = encode(catch_up());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t mask : kMasks) {
      Bytes bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
      auto parsed = parse_request(bad);
      RequestError e{};
      if (!parsed) {
        e = parsed.error();
      } else {
        auto verified = verify_request(*parsed, known_key());
        ASSERT_FALSE(verified.ok()) << "byte " << i << " mask " << int{mask};
        e = verified.error();
      }
      if (i == 0) {
        EXPECT_EQ(e, RequestError::kBadVersion);
      } else if (i == 1) {
        // 2 ^ 1 = 3 (status, no body), 2 ^ 0x80 and 2 ^ 0xff are no kind.
        EXPECT_EQ(e, mask == 0x01 ? RequestError::kMalformedBody : RequestError::kUnknownKind);
      } else if (i == 14 || i == 15) {
        EXPECT_EQ(e, RequestError::kMalformedBody) << "byte " << i;
      } else if (i == 6 && mask != 0x01) {
        // The counter's top bit set: above kRequestCounterMax.
        EXPECT_EQ(e, RequestError::kBadCounter);
      } else {
        EXPECT_EQ(e, RequestError::kAuthFailed) << "byte " << i << " mask " << int{mask};
      }
    }
  }
}

TEST(DeviceRequestTamper, EveryTruncationAndExtensionIsRefused) {
  const Bytes good = encode(catch_up());
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto parsed = parse_request(ByteView(good).first(n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.error(), RequestError::kWrongLength) << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(parse_request(longer).error(), RequestError::kWrongLength);
}

TEST(DeviceRequestTamper, UnknownKindsAreRefused) {
  for (std::uint8_t kind : {std::uint8_t{0}, std::uint8_t{4}, std::uint8_t{255}}) {
    Bytes wire = encode(make_request(RequestKind::kStatus, fixture::kNode, 1, {}, known_key()));
    wire[1] = kind;
    EXPECT_EQ(parse_request(wire).error(), RequestError::kUnknownKind) << int{kind};
  }
}

// A body length the kind does not have is refused before the length of the whole is compared,
// so no length a peer writes makes the parser look past the input.
TEST(DeviceRequestTamper, BodyLengthMustBeTheKinds) {
  Bytes wire =
      encode(make_request(RequestKind::kLeave, fixture::kNode, 1, Bytes(64, 1), known_key()));
  for (std::uint16_t length : {std::uint16_t{0}, std::uint16_t{8}, std::uint16_t{63},
                               std::uint16_t{65}, std::uint16_t{0xffff}}) {
    wire[14] = static_cast<std::uint8_t>(length >> 8);
    wire[15] = static_cast<std::uint8_t>(length);
    EXPECT_EQ(parse_request(wire).error(), RequestError::kMalformedBody) << length;
  }
}

// Counter 0 is never sent, and one above INT64_MAX could not be stored: both refused before the
// MAC is looked at; the bounds themselves pass.
TEST(DeviceRequestTamper, CounterOutOfRangeIsRefused) {
  for (std::uint64_t counter : {std::uint64_t{0}, kRequestCounterMax + 1, UINT64_MAX}) {
    const Bytes wire =
        encode(make_request(RequestKind::kStatus, fixture::kNode, counter, {}, known_key()));
    EXPECT_EQ(parse_request(wire).error(), RequestError::kBadCounter) << counter;
  }
  for (std::uint64_t counter : {std::uint64_t{1}, kRequestCounterMax}) {
    const Bytes wire =
        encode(make_request(RequestKind::kStatus, fixture::kNode, counter, {}, known_key()));
    EXPECT_TRUE(parse_request(wire).ok()) << counter;
  }
}

TEST(DeviceRequestKeys, AnotherKeyIsRefused) {
  crypto::DeterministicRng rng(2);
  auto parsed = parse_request(encode(catch_up()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(verify_request(*parsed, rng.secret<32>()).error(), RequestError::kAuthFailed);
}

// The request key depends on the node key, the context and the node id.
TEST(DeviceRequestKeys, RequestKeyBindsNodeKeyContextAndNode) {
  const crypto::Key128 node_key(fixture::counting<16>(0x70));
  const crypto::Secret256 base = request_key(node_key, fixture::context(), fixture::kNode);
  EXPECT_FALSE(base == request_key(crypto::Key128(fixture::counting<16>(0x71)), fixture::context(),
                                   fixture::kNode));
  EXPECT_FALSE(base == request_key(node_key, fixture::counting<32>(0x41), fixture::kNode));
  EXPECT_FALSE(base == request_key(node_key, fixture::context(), NodeId{0x03000008}));
  EXPECT_TRUE(base == request_key(node_key, fixture::context(), fixture::kNode));
}

TEST(RequestCounterCheck, CountersMustIncrease) {
  RequestCounterCheck check;
  EXPECT_EQ(check.last(fixture::kNode), 0u);
  EXPECT_EQ(check.admit(fixture::kNode, 0).error(), RequestError::kStaleCounter);
  EXPECT_EQ(check.size(), 0u);  // a refused first counter leaves no record behind
  EXPECT_TRUE(check.admit(fixture::kNode, 1).ok());
  EXPECT_EQ(check.admit(fixture::kNode, 1).error(), RequestError::kStaleCounter);
  EXPECT_TRUE(check.admit(fixture::kNode, 5).ok());  // gaps are fine: lost requests
  EXPECT_EQ(check.admit(fixture::kNode, 3).error(), RequestError::kStaleCounter);
  EXPECT_EQ(check.last(fixture::kNode), 5u);
  EXPECT_TRUE(check.admit(fixture::kNode, UINT64_MAX).ok());
  EXPECT_EQ(check.admit(fixture::kNode, UINT64_MAX).error(), RequestError::kStaleCounter);
}

TEST(RequestCounterCheck, DevicesAreIndependent) {
  RequestCounterCheck check;
  const NodeId other{0x03000009};
  EXPECT_TRUE(check.admit(fixture::kNode, 10).ok());
  EXPECT_TRUE(check.admit(other, 1).ok());
  EXPECT_EQ(check.last(fixture::kNode), 10u);
  EXPECT_EQ(check.last(other), 1u);
  EXPECT_EQ(check.size(), 2u);
}

TEST(RequestCounterCheck, RestoreAndForget) {
  RequestCounterCheck check;
  check.restore(fixture::kNode, 20);
  EXPECT_EQ(check.admit(fixture::kNode, 20).error(), RequestError::kStaleCounter);
  EXPECT_TRUE(check.admit(fixture::kNode, 21).ok());
  check.forget(fixture::kNode);
  EXPECT_EQ(check.last(fixture::kNode), 0u);
  EXPECT_EQ(check.size(), 0u);
}

// A device joins, derives its request key, and asks for catch-up; the gateway verifies and
// admits it once. The same bytes again still authenticate, but their counter is stale.
TEST(DeviceRequestFlow, RequestAfterJoinIsAdmittedOnceAndReplayRefused) {
  crypto::DeterministicRng rng(3);
  const DeviceCredential credential = DeviceCredential::generate(rng);
  const ContextId context = fixture::context();
  JoinInitiator device(credential, commitment_of(draw_secret_code(rng)), 5683, context, rng);
  auto hello = parse_hello(device.hello());
  ASSERT_TRUE(hello.ok());
  auto accepted =
      JoinResponder(context).accept(*hello, credential.psk, fixture::kGateway, fixture::kNode, rng);
  ASSERT_TRUE(accepted.ok());
  auto joined = device.on_accept(accepted->accept);
  ASSERT_TRUE(joined.ok());

  const crypto::Secret256 device_key = request_key(joined->node_key, context, joined->node);
  const crypto::Secret256 gateway_key = request_key(accepted->node_key, context, fixture::kNode);
  const Bytes wire = encode(
      make_request(RequestKind::kCatchUp, joined->node, 1, catch_up_body(Position{4}), device_key));

  RequestCounterCheck counters;
  for (int delivery = 0; delivery < 2; ++delivery) {
    auto request = parse_request(wire);
    ASSERT_TRUE(request.ok());
    ASSERT_TRUE(verify_request(*request, gateway_key).ok());
    auto admitted = counters.admit(request->node, request->counter);
    if (delivery == 0) {
      EXPECT_TRUE(admitted.ok());
      EXPECT_EQ(catch_up_position(*request), Position{4});
    } else {
      EXPECT_EQ(admitted.error(), RequestError::kStaleCounter);
    }
  }
}

TEST(DeviceRequestErrors, EveryErrorAndKindHasAName) {
  for (std::uint8_t e = 1; e <= 6; ++e) {
    EXPECT_STRNE(to_string(static_cast<RequestError>(e)), "unknown request error") << int{e};
  }
  EXPECT_STREQ(to_string(RequestKind::kLeave), "leave");
  EXPECT_STREQ(to_string(RequestKind::kCatchUp), "catch-up");
  EXPECT_STREQ(to_string(RequestKind::kStatus), "status");
}

}  // namespace
}  // namespace kmchain::enroll
