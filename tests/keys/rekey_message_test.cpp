// Rekey messages (keys/rekey_message.h): every body kind round-trips; the header is rejected
// by length, version, kind and audience; any change to a sealed message fails authentication;
// and authentic plaintexts that do not parse, carry trailing bytes, break the bundle's order
// or exceed its bounds are refused as malformed.
#include "keys/rekey_message.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/aead.h"
#include "network_fixture.h"

namespace kmchain::keys {
namespace {

using fixture::counting_key;
using fixture::flipped;

const Key128 kKek = counting_key(0x40);

crypto::CcmNonce nonce(std::uint8_t first) {
  crypto::CcmNonce n{};
  for (std::size_t i = 0; i < n.size(); ++i)
    n[i] = static_cast<std::uint8_t>(first + i);
  return n;
}

Header header(MessageKind kind, Audience audience = Audience::kDevice,
              std::uint32_t target = 0x01020304, std::uint64_t position = 0x1112131415161718) {
  return Header{kind, audience, target, Position{position}, nonce(0xa0)};
}

void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
// Byte by byte: GCC 12 reports false stringop-overread errors on vector::insert at -O2.
void append(Bytes& out, ByteView bytes) {
  for (std::uint8_t b : bytes)
    out.push_back(b);
}
void put_key(Bytes& out, const Key128& k) {
  append(out, k.view());
}

// The 28-byte header, written out by hand from the documented layout.
Bytes header_bytes(const Header& h, std::uint8_t version = kRekeyVersion) {
  Bytes out;
  put_be(out, version, 1);
  put_be(out, static_cast<std::uint8_t>(h.kind), 1);
  put_be(out, static_cast<std::uint8_t>(h.audience), 1);
  put_be(out, h.target, 4);
  put_be(out, h.position.value(), 8);
  append(out, h.nonce);
  return out;
}

// Seals an arbitrary plaintext as a rekey message: header as associated data, 16-byte tag.
Bytes seal_raw(const Header& h, const Bytes& plaintext, const Key128& kek = kKek) {
  Bytes wire = header_bytes(h);
  Bytes sealed;
  crypto::aes128_ccm_seal(kek, h.nonce, wire, plaintext, kRekeyTag, sealed);
  append(wire, sealed);
  return wire;
}

// Parses and opens under kKek.
Result<Body, RekeyError> open_wire(const Bytes& wire, const Key128& kek = kKek) {
  auto h = parse_header(wire);
  if (!h) return Err{h.error()};
  return open_body(*h, wire, kek);
}

template <class T>
const T& body_as(const Result<Body, RekeyError>& r) {
  EXPECT_TRUE(std::holds_alternative<T>(*r));
  return std::get<T>(*r);
}

void expect_same_header(const Header& a, const Header& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.audience, b.audience);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.nonce, b.nonce);
}

KeyBundleBody sample_bundle(std::size_t node_keys, std::size_t set_keys) {
  KeyBundleBody b{SetId{0x01000005}, counting_key(0x50), {}, {}};
  for (std::size_t i = 0; i < node_keys; ++i) {
    b.pairwise_node_keys.emplace_back(NodeId{static_cast<std::uint32_t>(10 + 3 * i)},
                                      counting_key(static_cast<std::uint8_t>(i)));
  }
  for (std::size_t i = 0; i < set_keys; ++i) {
    b.pairwise_set_keys.emplace_back(SetId{static_cast<std::uint32_t>(0x02000000 + i)},
                                     counting_key(static_cast<std::uint8_t>(0x80 + i)));
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(RekeyMessageRoundTrip, HeaderLayoutIsTheDocumentedOne) {
  const Header h = header(MessageKind::kPairwiseNodeKey);
  const Bytes wire = seal_message(h, PairwiseNodeKeyBody{NodeId{7}, counting_key(1)}, kKek);
  ASSERT_GE(wire.size(), kRekeyHeaderBytes);
  EXPECT_EQ(Bytes(wire.begin(), wire.begin() + kRekeyHeaderBytes), header_bytes(h));
  EXPECT_EQ(to_hex(ByteView(wire).first(15)), "010401010203041112131415161718");
}

TEST(RekeyMessageRoundTrip, Refresh) {
  for (StepKind change : {StepKind::kPlace, StepKind::kRemove}) {
    for (Cause cause : {Cause::kJoin, Cause::kLeave, Cause::kEvict, Cause::kReorder}) {
      const Header h = header(MessageKind::kRefresh, Audience::kSet);
      const RefreshBody body{change, cause, NodeId{0x0a0b0c0d}, SetId{0x01000002},
                             counting_key(0x33)};
      const Bytes wire = seal_message(h, body, kKek);
      EXPECT_EQ(wire.size(), kRekeyHeaderBytes + 26 + 16);
      auto parsed = parse_header(wire);
      ASSERT_TRUE(parsed.ok());
      expect_same_header(*parsed, h);
      auto opened = open_body(*parsed, wire, kKek);
      ASSERT_TRUE(opened.ok()) << to_string(opened.error());
      const auto& b = body_as<RefreshBody>(opened);
      EXPECT_EQ(b.change, change);
      EXPECT_EQ(b.cause, cause);
      EXPECT_EQ(b.node, body.node);
      EXPECT_EQ(b.set, body.set);
      EXPECT_TRUE(b.refresh_key == body.refresh_key);
    }
  }
}

TEST(RekeyMessageRoundTrip, SetAdded) {
  const Header h = header(MessageKind::kSetAdded, Audience::kSet);
  const Bytes wire = seal_message(h, SetAddedBody{SetId{9}, NodeId{8}, counting_key(7)}, kKek);
  EXPECT_EQ(wire.size(), kRekeyHeaderBytes + 24 + 16);
  auto opened = open_wire(wire);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  const auto& b = body_as<SetAddedBody>(opened);
  EXPECT_EQ(b.set, SetId{9});
  EXPECT_EQ(b.node, NodeId{8});
  EXPECT_TRUE(b.pairwise_set_key == counting_key(7));
}

TEST(RekeyMessageRoundTrip, SetRemoved) {
  for (Cause cause : {Cause::kLeave, Cause::kReorder}) {
    const Header h = header(MessageKind::kSetRemoved, Audience::kSet);
    const Bytes wire = seal_message(h, SetRemovedBody{SetId{0x03000001}, cause, NodeId{4}}, kKek);
    EXPECT_EQ(wire.size(), kRekeyHeaderBytes + 9 + 16);
    auto opened = open_wire(wire);
    ASSERT_TRUE(opened.ok()) << to_string(opened.error());
    const auto& b = body_as<SetRemovedBody>(opened);
    EXPECT_EQ(b.set, SetId{0x03000001});
    EXPECT_EQ(b.cause, cause);
    EXPECT_EQ(b.node, NodeId{4});
  }
}

TEST(RekeyMessageRoundTrip, PairwiseNodeKey) {
  const Header h = header(MessageKind::kPairwiseNodeKey);
  const Bytes wire = seal_message(h, PairwiseNodeKeyBody{NodeId{77}, counting_key(0x9)}, kKek);
  EXPECT_EQ(wire.size(), kRekeyHeaderBytes + 20 + 16);
  auto opened = open_wire(wire);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  const auto& b = body_as<PairwiseNodeKeyBody>(opened);
  EXPECT_EQ(b.peer, NodeId{77});
  EXPECT_TRUE(b.key == counting_key(0x9));
}

TEST(RekeyMessageRoundTrip, KeyBundle) {
  for (auto [nodes, sets] : {std::pair<std::size_t, std::size_t>{0, 0}, {3, 0}, {0, 4}, {5, 6}}) {
    const KeyBundleBody body = sample_bundle(nodes, sets);
    const Header h = header(MessageKind::kKeyBundle);
    const Bytes wire = seal_message(h, body, kKek);
    EXPECT_EQ(wire.size(), kRekeyHeaderBytes + 4 + 16 + 2 + 20 * nodes + 2 + 20 * sets + 16);
    auto opened = open_wire(wire);
    ASSERT_TRUE(opened.ok()) << to_string(opened.error());
    const auto& b = body_as<KeyBundleBody>(opened);
    EXPECT_EQ(b.set, body.set);
    EXPECT_TRUE(b.set_key == body.set_key);
    EXPECT_TRUE(b.pairwise_node_keys == body.pairwise_node_keys);
    EXPECT_TRUE(b.pairwise_set_keys == body.pairwise_set_keys);
  }
}

TEST(RekeyMessageRoundTrip, TheLargestBundleOfANetworkWithinTheLimitsFits) {
  // cap = ceil(sqrt(kDevicesMax)): a set of cap + slack members, cap + gateways + 1 sets.
  const std::size_t cap = SetTable::capacity(limits::kDevicesMax);
  const KeyBundleBody body = sample_bundle(cap + limits::kSetSlack - 1, cap + limits::kGatewaysMax);
  const Bytes wire = seal_message(header(MessageKind::kKeyBundle), body, kKek);
  EXPECT_EQ(wire.size(), kRekeyHeaderBytes + detail::kLargestBundleBytes + 16);
  EXPECT_LE(wire.size() - kRekeyHeaderBytes - 16, kRekeyPlaintextMax);
  auto opened = open_wire(wire);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_TRUE(body_as<KeyBundleBody>(opened).pairwise_node_keys == body.pairwise_node_keys);
  EXPECT_TRUE(body_as<KeyBundleBody>(opened).pairwise_set_keys == body.pairwise_set_keys);
}

TEST(RekeyMessageRoundTrip, KindOfMatchesTheWireKind) {
  EXPECT_EQ(kind_of(RefreshBody{}), MessageKind::kRefresh);
  EXPECT_EQ(kind_of(SetAddedBody{}), MessageKind::kSetAdded);
  EXPECT_EQ(kind_of(SetRemovedBody{}), MessageKind::kSetRemoved);
  EXPECT_EQ(kind_of(PairwiseNodeKeyBody{}), MessageKind::kPairwiseNodeKey);
  EXPECT_EQ(kind_of(KeyBundleBody{}), MessageKind::kKeyBundle);
}

// ---------------------------------------------------------------------------------------------
// Header rejections

Bytes valid_wire() {
  return seal_message(
      header(MessageKind::kRefresh, Audience::kSet),
      RefreshBody{StepKind::kPlace, Cause::kJoin, NodeId{1}, SetId{2}, counting_key(3)}, kKek);
}

TEST(RekeyMessageHeader, ShorterThanHeaderPlusTagIsTruncated) {
  const Bytes wire = valid_wire();
  const std::size_t minimum = kRekeyHeaderBytes + 16;
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, kRekeyHeaderBytes, minimum - 1}) {
    auto h = parse_header(ByteView(wire).first(len));
    ASSERT_FALSE(h.ok()) << len;
    EXPECT_EQ(h.error(), RekeyError::kTruncated) << len;
  }
  // A header and a bare tag parse (an empty body is the opener's business).
  EXPECT_TRUE(parse_header(ByteView(wire).first(minimum)).ok());
}

TEST(RekeyMessageHeader, VersionOtherThanOneIsRejected) {
  for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{0xff}}) {
    Bytes wire = valid_wire();
    wire[0] = v;
    auto h = parse_header(wire);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error(), RekeyError::kBadVersion) << int{v};
  }
}

TEST(RekeyMessageHeader, UnknownKindOrAudienceIsRejected) {
  for (std::uint8_t kind : {std::uint8_t{0}, std::uint8_t{7}, std::uint8_t{0xff}}) {
    Bytes wire = valid_wire();
    wire[1] = kind;
    auto h = parse_header(wire);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error(), RekeyError::kUnknownKind) << "kind " << int{kind};
  }
  for (std::uint8_t audience : {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{0xff}}) {
    Bytes wire = valid_wire();
    wire[2] = audience;
    auto h = parse_header(wire);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error(), RekeyError::kUnknownKind) << "audience " << int{audience};
  }
  for (std::uint8_t kind = 1; kind <= 6; ++kind) {
    Bytes wire = valid_wire();
    wire[1] = kind;
    EXPECT_TRUE(parse_header(wire).ok()) << "kind " << int{kind};
  }
}

TEST(RekeyMessageHeader, NamesItsKek) {
  EXPECT_TRUE(header(MessageKind::kRefresh, Audience::kDevice, 5).kek() ==
              KeyId::node_key(NodeId{5}));
  EXPECT_TRUE(header(MessageKind::kRefresh, Audience::kSet, 5).kek() == KeyId::set_key(SetId{5}));
}

// ---------------------------------------------------------------------------------------------
// Authentication

TEST(RekeyMessageAuth, WrongKeyFails) {
  const Bytes wire = valid_wire();
  auto h = parse_header(wire);
  ASSERT_TRUE(h.ok());
  for (std::uint8_t first : {std::uint8_t{0x41}, std::uint8_t{0x00}, std::uint8_t{0xc0}}) {
    auto r = open_body(*h, wire, counting_key(first));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), RekeyError::kAuthFailed);
  }
  Key128 one_bit = kKek;
  one_bit.mutable_view()[15] = static_cast<std::uint8_t>(one_bit.mutable_view()[15] ^ 0x80u);
  auto r = open_body(*h, wire, one_bit);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), RekeyError::kAuthFailed);
}

// Every single-bit change of the header (associated data), the ciphertext or the tag.
void expect_every_bit_flip_fails(const Bytes& wire) {
  auto original = parse_header(wire);
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(open_body(*original, wire, kKek).ok());
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      const Bytes tampered = flipped(wire, i, bit);
      // The header the receiver parsed before the flip, and the one it parses after.
      auto r = open_body(*original, tampered, kKek);
      ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
      ASSERT_EQ(r.error(), RekeyError::kAuthFailed) << "byte " << i << " bit " << bit;
      if (auto h = parse_header(tampered)) {
        auto again = open_body(*h, tampered, kKek);
        ASSERT_FALSE(again.ok()) << "byte " << i << " bit " << bit;
        ASSERT_EQ(again.error(), RekeyError::kAuthFailed) << "byte " << i << " bit " << bit;
      }
    }
  }
}

TEST(RekeyMessageAuth, AnyFlippedBitFailsForEveryKind) {
  const std::vector<Bytes> wires = {
      valid_wire(),
      seal_message(header(MessageKind::kSetAdded, Audience::kSet),
                   SetAddedBody{SetId{9}, NodeId{8}, counting_key(7)}, kKek),
      seal_message(header(MessageKind::kSetRemoved, Audience::kSet),
                   SetRemovedBody{SetId{9}, Cause::kLeave, NodeId{8}}, kKek),
      seal_message(header(MessageKind::kPairwiseNodeKey),
                   PairwiseNodeKeyBody{NodeId{8}, counting_key(7)}, kKek),
      seal_message(header(MessageKind::kKeyBundle), sample_bundle(2, 2), kKek),
  };
  for (const Bytes& wire : wires) {
    SCOPED_TRACE("kind " + std::to_string(wire[1]));
    expect_every_bit_flip_fails(wire);
  }
}

TEST(RekeyMessageAuth, MessageMovedToAnotherTargetOrPositionFails) {
  const Bytes wire = valid_wire();
  Header h = *parse_header(wire);
  Header other_target = h;
  other_target.target ^= 1;
  Bytes moved = header_bytes(other_target);
  append(moved, ByteView(wire).subspan(kRekeyHeaderBytes));
  EXPECT_EQ(open_wire(moved).error(), RekeyError::kAuthFailed);

  Header other_position = h;
  other_position.position = next(h.position);
  moved = header_bytes(other_position);
  append(moved, ByteView(wire).subspan(kRekeyHeaderBytes));
  EXPECT_EQ(open_wire(moved).error(), RekeyError::kAuthFailed);
}

TEST(RekeyMessageAuth, BodyShortenedOrExtendedFails) {
  Bytes wire = valid_wire();
  Bytes shorter(wire.begin(), wire.end() - 1);
  EXPECT_EQ(open_wire(shorter).error(), RekeyError::kAuthFailed);
  wire.push_back(0);
  EXPECT_EQ(open_wire(wire).error(), RekeyError::kAuthFailed);
}

// ---------------------------------------------------------------------------------------------
// Authentic but malformed bodies

Bytes refresh_plaintext(std::uint8_t change = 1, std::uint8_t cause = 1) {
  Bytes p;
  put_be(p, change, 1);
  put_be(p, cause, 1);
  put_be(p, 5, 4);
  put_be(p, 6, 4);
  put_key(p, counting_key(1));
  return p;
}

Bytes bundle_plaintext(const std::vector<std::uint32_t>& nodes,
                       const std::vector<std::uint32_t>& sets, std::size_t node_count,
                       std::size_t set_count) {
  Bytes p;
  put_be(p, 0x01000005, 4);
  put_key(p, counting_key(0x50));
  put_be(p, node_count, 2);
  for (std::uint32_t n : nodes) {
    put_be(p, n, 4);
    put_key(p, counting_key(2));
  }
  put_be(p, set_count, 2);
  for (std::uint32_t s : sets) {
    put_be(p, s, 4);
    put_key(p, counting_key(3));
  }
  return p;
}

Bytes bundle_plaintext(const std::vector<std::uint32_t>& nodes,
                       const std::vector<std::uint32_t>& sets) {
  return bundle_plaintext(nodes, sets, nodes.size(), sets.size());
}

RekeyError open_error(MessageKind kind, const Bytes& plaintext) {
  auto r = open_wire(seal_raw(header(kind), plaintext));
  EXPECT_FALSE(r.ok());
  return r ? RekeyError{} : r.error();
}

TEST(RekeyMessageMalformed, HandSealedWellFormedBodiesOpen) {
  // The hand-made sealing is right: well-formed plaintexts open.
  EXPECT_TRUE(open_wire(seal_raw(header(MessageKind::kRefresh), refresh_plaintext())).ok());
  EXPECT_TRUE(open_wire(seal_raw(header(MessageKind::kKeyBundle),
                                 bundle_plaintext({1, 2, 3}, {0x10, 0x20})))
                  .ok());
}

TEST(RekeyMessageMalformed, TrailingBytesAfterAnyBody) {
  const std::vector<std::pair<MessageKind, Bytes>> bodies = {
      {MessageKind::kRefresh, refresh_plaintext()},
      {MessageKind::kSetAdded, Bytes(24, 1)},
      {MessageKind::kSetRemoved, Bytes{0, 0, 0, 1, 2, 0, 0, 0, 3}},
      {MessageKind::kPairwiseNodeKey, Bytes(20, 1)},
      {MessageKind::kKeyBundle, bundle_plaintext({1}, {2})},
  };
  for (const auto& [kind, plaintext] : bodies) {
    ASSERT_TRUE(open_wire(seal_raw(header(kind), plaintext)).ok()) << int(kind);
    Bytes longer = plaintext;
    longer.push_back(0);
    EXPECT_EQ(open_error(kind, longer), RekeyError::kMalformed) << int(kind);
    Bytes shorter(plaintext.begin(), plaintext.end() - 1);
    EXPECT_EQ(open_error(kind, shorter), RekeyError::kMalformed) << int(kind);
    EXPECT_EQ(open_error(kind, Bytes{}), RekeyError::kMalformed) << int(kind);
  }
}

TEST(RekeyMessageMalformed, RefreshWithAnUnknownChangeOrCause) {
  for (std::uint8_t change : {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{9}})
    EXPECT_EQ(open_error(MessageKind::kRefresh, refresh_plaintext(change, 1)),
              RekeyError::kMalformed)
        << int{change};
  for (std::uint8_t cause : {std::uint8_t{0}, std::uint8_t{6}})
    EXPECT_EQ(open_error(MessageKind::kRefresh, refresh_plaintext(1, cause)),
              RekeyError::kMalformed)
        << int{cause};
  EXPECT_EQ(open_error(MessageKind::kSetRemoved, Bytes{0, 0, 0, 1, 0, 0, 0, 0, 3}),
            RekeyError::kMalformed);
}

TEST(RekeyMessageMalformed, BundleWithUnsortedOrDuplicateEntries) {
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({1, 3, 2}, {})),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({1, 2, 2}, {})),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({}, {0x20, 0x10})),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({1}, {0x10, 0x10})),
            RekeyError::kMalformed);
}

TEST(RekeyMessageMalformed, BundleCountsThatDisagreeWithTheEntries) {
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({1, 2}, {}, 3, 0)),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({1, 2}, {}, 1, 0)),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({}, {1}, 0, 0xffff)),
            RekeyError::kMalformed);
}

TEST(RekeyMessageMalformed, BundleCountsAboveTheLimits) {
  // A sealed message holds at most 65535 bytes, fewer than kSetMembersMax + 1 entries, so the
  // count field claims more entries than follow; as many sorted entries as fit do follow.
  std::vector<std::uint32_t> ids(3000);
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<std::uint32_t>(i + 1);
  EXPECT_EQ(
      open_error(MessageKind::kKeyBundle, bundle_plaintext(ids, {}, limits::kSetMembersMax + 1, 0)),
      RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({}, ids, 0, limits::kSetsMax + 1)),
            RekeyError::kMalformed);
  EXPECT_EQ(open_error(MessageKind::kKeyBundle, bundle_plaintext({}, {}, 0xffff, 0xffff)),
            RekeyError::kMalformed);
  // The same entries with their true counts open.
  EXPECT_TRUE(open_wire(seal_raw(header(MessageKind::kKeyBundle), bundle_plaintext(ids, {}))).ok());
  EXPECT_TRUE(open_wire(seal_raw(header(MessageKind::kKeyBundle), bundle_plaintext({}, ids))).ok());
}

TEST(RekeyErrorNames, EveryErrorHasADistinctName) {
  std::vector<std::string> names;
  for (std::uint8_t e = 1; e <= 9; ++e)
    names.emplace_back(to_string(static_cast<RekeyError>(e)));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace kmchain::keys
