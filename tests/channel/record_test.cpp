// Records (channel/record.h): the header, nonce and associated data against their documented
// layouts written out by hand, a record rebuilt by hand from those layouts with the AEAD itself,
// and the header parser's refusals by size, version, purpose and key class.
#include "channel/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "channel/sender.h"
#include "channel_fixture.h"
#include "crypto/aead.h"

namespace kmchain::channel {
namespace {

using namespace fixture;

void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void append(Bytes& out, ByteView bytes) {
  for (std::uint8_t b : bytes)
    out.push_back(b);
}

RecordHeader sample_header() {
  RecordHeader h;
  h.key_class = KeyClass::kPairwiseSetKey;
  h.sender = NodeId{0x01020304};
  h.receiver = NodeId{0x05060708};
  h.epoch = 0x1112131415161718;
  h.counter = 0x2122232425262728;
  return h;
}
const RecordHeader kHeader = sample_header();

TEST(RecordLayout, HeaderIsTheDocumentedOne) {
  Bytes out;
  encode_header(kHeader, out);
  ASSERT_EQ(out.size(), kRecordHeaderBytes);
  EXPECT_EQ(to_hex(out),
            "010104"              // version, purpose, key class
            "01020304"            // sender
            "05060708"            // receiver
            "1112131415161718"    // epoch
            "2122232425262728");  // counter
}

TEST(RecordLayout, NonceIsSenderCounterAndAZeroByte) {
  EXPECT_EQ(to_hex(record_nonce(NodeId{0x01020304}, 0x2122232425262728)),
            "01020304212223242526272800");
  EXPECT_EQ(to_hex(record_nonce(NodeId{0}, 0)), "00000000000000000000000000");
}

TEST(RecordLayout, AssociatedDataIsDomainContextHeader) {
  Bytes header;
  encode_header(kHeader, header);
  const Bytes aad = associated_data(context(), header);
  Bytes expected;
  append(expected, as_bytes("kmchain/v1/d2d"));
  append(expected, context());
  append(expected, header);
  EXPECT_EQ(aad, expected);
  EXPECT_EQ(aad.size(), 14u + 32u + 27u);
}

TEST(RecordLayout, ASealedRecordIsTheHandBuiltOne) {
  MemoryCounterStore store(0x2122232425262728);
  ChannelSender sender(NodeId{0x01020304}, context(), store);
  const Bytes plaintext = text(21);
  auto record = sender.seal(NodeId{0x05060708}, KeyClass::kPairwiseSetKey, 0x1112131415161718,
                            kSetDek, plaintext);
  ASSERT_TRUE(record.ok()) << to_string(record.error());

  Bytes header;
  put_be(header, 1, 1);
  put_be(header, 1, 1);
  put_be(header, 4, 1);
  put_be(header, 0x01020304, 4);
  put_be(header, 0x05060708, 4);
  put_be(header, 0x1112131415161718, 8);
  put_be(header, 0x2122232425262728, 8);
  Bytes aad;
  append(aad, as_bytes("kmchain/v1/d2d"));
  append(aad, context());
  append(aad, header);
  const crypto::CcmNonce nonce{0x01, 0x02, 0x03, 0x04, 0x21, 0x22, 0x23,
                               0x24, 0x25, 0x26, 0x27, 0x28, 0x00};
  Bytes expected = header;
  crypto::aes128_ccm_seal(kSetDek, nonce, aad, plaintext, crypto::CcmTag::k8, expected);
  EXPECT_EQ(*record, expected);
  EXPECT_EQ(record->size(), 27u + 21u + 8u);
}

Bytes valid_record() {
  MemoryCounterStore store;
  ChannelSender sender(kAlice, context(), store);
  auto r = sender.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, kNodeDek, text(10));
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(RecordHeaderParse, ReadsEveryField) {
  Bytes record;
  encode_header(kHeader, record);
  record.resize(record.size() + kRecordTagBytes);
  auto h = parse_header(record);
  ASSERT_TRUE(h.ok()) << to_string(h.error());
  EXPECT_EQ(h->purpose, kHeader.purpose);
  EXPECT_EQ(h->key_class, kHeader.key_class);
  EXPECT_EQ(h->sender, kHeader.sender);
  EXPECT_EQ(h->receiver, kHeader.receiver);
  EXPECT_EQ(h->epoch, kHeader.epoch);
  EXPECT_EQ(h->counter, kHeader.counter);
}

TEST(RecordHeaderParse, ShorterThanHeaderPlusTagIsTruncated) {
  const Bytes record = valid_record();
  for (std::size_t len = 0; len < kRecordBytesMin; ++len) {
    auto h = parse_header(ByteView(record).first(len));
    ASSERT_FALSE(h.ok()) << len;
    EXPECT_EQ(h.error(), ChannelError::kTruncated) << len;
  }
  // A header and a bare tag parse (an empty plaintext).
  EXPECT_TRUE(parse_header(ByteView(record).first(kRecordBytesMin)).ok());
}

TEST(RecordHeaderParse, LongerThanTheMaximumIsTooLarge) {
  Bytes record = valid_record();
  record.resize(kRecordBytesMax);
  EXPECT_TRUE(parse_header(record).ok());
  record.push_back(0);
  auto h = parse_header(record);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error(), ChannelError::kTooLarge);
}

TEST(RecordHeaderParse, VersionOtherThanOneIsRefused) {
  for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{0xff}}) {
    Bytes record = valid_record();
    record[0] = v;
    auto h = parse_header(record);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error(), ChannelError::kBadVersion) << int{v};
  }
}

TEST(RecordHeaderParse, UnknownPurposeIsRefused) {
  for (std::uint8_t p : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{0xff}}) {
    Bytes record = valid_record();
    record[1] = p;
    auto h = parse_header(record);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error(), ChannelError::kUnknownPurpose) << int{p};
  }
}

TEST(RecordHeaderParse, OnlyDekClassesAreAccepted) {
  for (int c = 0; c <= 0xff; ++c) {
    Bytes record = valid_record();
    record[2] = static_cast<std::uint8_t>(c);
    auto h = parse_header(record);
    if (c == 3 || c == 4) {
      EXPECT_TRUE(h.ok()) << c;
    } else {
      ASSERT_FALSE(h.ok()) << c;
      EXPECT_EQ(h.error(), ChannelError::kBadKeyClass) << c;
    }
  }
}

TEST(ChannelErrorNames, EveryErrorHasADistinctName) {
  std::vector<std::string> names;
  for (std::uint8_t e = 1; e <= 11; ++e) {
    names.emplace_back(to_string(static_cast<ChannelError>(e)));
    EXPECT_NE(names.back(), "unknown channel error") << int{e};
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace kmchain::channel
