// AES-128-CCM against RFC 3610 section 8 (packet vectors #1-#12) and NIST SP 800-38C Appendix C
// (examples 1-3), then the behaviour the AEAD contract promises: round trips at both tag
// lengths, empty plaintext and AAD, and rejection of any tampering with `out` left as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "crypto/aead.h"
#include "crypto/secret.h"
#include "support/hex.h"
#include "test_util.h"

namespace kmchain::crypto {
namespace {

using kmchain::testing::unhex;
using kmchain::testing::unhex_array;
using testutil::flip_bit;

// ---------------------------------------------------------------------------------------------
// RFC 3610 section 8. Packet vectors #1-#12 share one key and a 13-octet nonce (L = 2). The
// first `header_len` octets of each packet are cleartext header (the AAD), the rest payload.
// #1-#6 use M = 8; #7-#12 use M = 10, which only the detail functions accept.

constexpr std::string_view kRfc3610Key = "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF";

struct Rfc3610Packet {
  std::string_view name;
  std::string_view nonce;
  std::size_t header_len;   // cleartext header octets
  std::size_t tag_len;      // M
  std::size_t input_len;    // "Total packet length" of the input, as stated
  std::string_view input;   // header || payload
  std::size_t output_len;   // "Total packet length" of the output, as stated
  std::string_view output;  // header || ciphertext || tag
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const Rfc3610Packet& v, std::ostream* os) {
  *os << v.name;
}

constexpr Rfc3610Packet kRfc3610M8[] = {
    {"Packet1", "00000003020100A0A1A2A3A4A5", 8, 8, 31,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 39,
     "0001020304050607588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0"},
    {"Packet2", "00000004030201A0A1A2A3A4A5", 8, 8, 32,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 40,
     "000102030405060772C91A36E135F8CF291CA894085C87E3CC15C439C9E43A3BA091D56E10400916"},
    {"Packet3", "00000005040302A0A1A2A3A4A5", 8, 8, 33,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", 41,
     "000102030405060751B1E5F44A197D1DA46B0F8E2D282AE871E838BB64DA8596574ADAA76FBD9FB0C5"},
    {"Packet4", "00000006050403A0A1A2A3A4A5", 12, 8, 31,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 39,
     "000102030405060708090A0BA28C6865939A9A79FAAA5C4C2A9D4A91CDAC8C96C861B9C9E61EF1"},
    {"Packet5", "00000007060504A0A1A2A3A4A5", 12, 8, 32,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 40,
     "000102030405060708090A0BDCF1FB7B5D9E23FB9D4E131253658AD86EBDCA3E51E83F077D9C2D93"},
    {"Packet6", "00000008070605A0A1A2A3A4A5", 12, 8, 33,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", 41,
     "000102030405060708090A0B6FC1B011F006568B5171A42D953D469B2570A4BD87405A0443AC91CB94"},
};

constexpr Rfc3610Packet kRfc3610M10[] = {
    {"Packet7", "00000009080706A0A1A2A3A4A5", 8, 10, 31,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 41,
     "00010203040506070135D1B2C95F41D5D1D4FEC185D166B8094E999DFED96C048C56602C97ACBB7490"},
    {"Packet8", "0000000A090807A0A1A2A3A4A5", 8, 10, 32,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 42,
     "00010203040506077B75399AC0831DD2F0BBD75879A2FD8F6CAE6B6CD9B7DB24C17B4433F434963F34B4"},
    {"Packet9", "0000000B0A0908A0A1A2A3A4A5", 8, 10, 33,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", 43,
     "000102030405060782531A60CC24945A4B8279181AB5C84DF21CE7F9B73F42E197EA9C07E56B5EB17E5F4E"},
    {"Packet10", "0000000C0B0A09A0A1A2A3A4A5", 12, 10, 31,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 41,
     "000102030405060708090A0B07342594157785152B074098330ABB141B947B566AA9406B4D999988DD"},
    {"Packet11", "0000000D0C0B0AA0A1A2A3A4A5", 12, 10, 32,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 42,
     "000102030405060708090A0B676BB20380B0E301E8AB79590A396DA78B834934F53AA2E9107A8B6C022C"},
    {"Packet12", "0000000E0D0C0BA0A1A2A3A4A5", 12, 10, 33,
     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", 43,
     "000102030405060708090A0BC0FFA0D6F05BDB67F24D43A4338D2AA4BED7B20E43CD1AA31662E7AD65D6DB"},
};

// A packet split into the pieces the AEAD calls take.
struct Packet {
  Bytes key;
  Bytes nonce;
  Bytes aad;      // the cleartext header
  Bytes payload;  // the plaintext
  Bytes sealed;   // ciphertext || tag, the output after its header
  Bytes input;
  Bytes output;
};

Packet split(const Rfc3610Packet& p) {
  Packet out;
  out.key = unhex(kRfc3610Key);
  out.nonce = unhex(p.nonce);
  out.input = unhex(p.input);
  out.output = unhex(p.output);
  const std::size_t header = std::min(p.header_len, out.input.size());
  out.aad.assign(out.input.begin(), out.input.begin() + static_cast<std::ptrdiff_t>(header));
  out.payload.assign(out.input.begin() + static_cast<std::ptrdiff_t>(header), out.input.end());
  if (out.output.size() >= header) {
    out.sealed.assign(out.output.begin() + static_cast<std::ptrdiff_t>(header), out.output.end());
  }
  return out;
}

class Rfc3610Test : public ::testing::TestWithParam<Rfc3610Packet> {};

TEST_P(Rfc3610Test, LengthsMatchTheRfc) {
  const Rfc3610Packet& p = GetParam();
  const Packet packet = split(p);
  EXPECT_EQ(packet.key.size(), 16u);
  EXPECT_EQ(packet.nonce.size(), 13u);
  EXPECT_EQ(packet.input.size(), p.input_len);
  EXPECT_EQ(packet.output.size(), p.output_len);
  EXPECT_EQ(p.output_len - p.input_len, p.tag_len);
  // The cleartext header passes through unchanged.
  ASSERT_GE(packet.output.size(), p.header_len);
  EXPECT_EQ(to_hex(ByteView(packet.output).first(p.header_len)), to_hex(packet.aad));
}

TEST_P(Rfc3610Test, SealProducesTheOutputPacket) {
  const Rfc3610Packet& p = GetParam();
  const Packet packet = split(p);
  // Seal appends: starting from the header reproduces the whole output packet.
  Bytes out = packet.aad;
  detail::ccm_seal(packet.key, packet.nonce, packet.aad, packet.payload, p.tag_len, out);
  EXPECT_EQ(to_hex(out), to_hex(packet.output));
}

TEST_P(Rfc3610Test, OpenRecoversTheInputPacket) {
  const Rfc3610Packet& p = GetParam();
  const Packet packet = split(p);
  Bytes out = packet.aad;
  ASSERT_TRUE(
      detail::ccm_open(packet.key, packet.nonce, packet.aad, packet.sealed, p.tag_len, out));
  EXPECT_EQ(to_hex(out), to_hex(packet.input));
}

INSTANTIATE_TEST_SUITE_P(TagM8, Rfc3610Test, ::testing::ValuesIn(kRfc3610M8),
                         testutil::VectorName());
INSTANTIATE_TEST_SUITE_P(TagM10, Rfc3610Test, ::testing::ValuesIn(kRfc3610M10),
                         testutil::VectorName());

// The typed production API: 13-octet nonce, 8-octet tag.
class Rfc3610TypedTest : public ::testing::TestWithParam<Rfc3610Packet> {};

TEST_P(Rfc3610TypedTest, SealAndOpen) {
  const Rfc3610Packet& p = GetParam();
  ASSERT_EQ(p.tag_len, tag_bytes(CcmTag::k8));
  const Packet packet = split(p);
  const Key128 key(unhex_array<16>(kRfc3610Key));
  const CcmNonce nonce = unhex_array<kCcmNonceBytes>(p.nonce);

  Bytes sealed;
  aes128_ccm_seal(key, nonce, packet.aad, packet.payload, CcmTag::k8, sealed);
  EXPECT_EQ(to_hex(sealed), to_hex(packet.sealed));

  Bytes opened;
  ASSERT_TRUE(aes128_ccm_open(key, nonce, packet.aad, packet.sealed, CcmTag::k8, opened));
  EXPECT_EQ(to_hex(opened), to_hex(packet.payload));
}

INSTANTIATE_TEST_SUITE_P(TagM8, Rfc3610TypedTest, ::testing::ValuesIn(kRfc3610M8),
                         testutil::VectorName());

// ---------------------------------------------------------------------------------------------
// NIST SP 800-38C Appendix C, examples 1-3. Lengths are stated in bits, as in the document.

constexpr std::string_view kNistKey = "404142434445464748494a4b4c4d4e4f";

struct NistExample {
  std::string_view name;
  std::size_t tlen_bits;
  std::size_t nlen_bits;
  std::size_t alen_bits;
  std::size_t plen_bits;
  std::string_view nonce;
  std::string_view aad;
  std::string_view payload;
  std::string_view sealed;  // C: ciphertext || tag
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const NistExample& v, std::ostream* os) {
  *os << v.name;
}

constexpr NistExample kSp80038c[] = {
    {"Example1", 32, 56, 64, 32, "10111213141516", "0001020304050607", "20212223",
     "7162015b4dac255d"},
    {"Example2", 48, 64, 128, 128, "1011121314151617", "000102030405060708090a0b0c0d0e0f",
     "202122232425262728292a2b2c2d2e2f", "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd"},
    {"Example3", 64, 96, 160, 192, "101112131415161718191a1b",
     "000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951"},
};

class Sp80038cTest : public ::testing::TestWithParam<NistExample> {};

TEST_P(Sp80038cTest, LengthsMatchTheDocument) {
  const NistExample& e = GetParam();
  EXPECT_EQ(unhex(e.nonce).size() * 8, e.nlen_bits);
  EXPECT_EQ(unhex(e.aad).size() * 8, e.alen_bits);
  EXPECT_EQ(unhex(e.payload).size() * 8, e.plen_bits);
  EXPECT_EQ(unhex(e.sealed).size() * 8, e.plen_bits + e.tlen_bits);
}

TEST_P(Sp80038cTest, SealMatches) {
  const NistExample& e = GetParam();
  Bytes out;
  detail::ccm_seal(unhex(kNistKey), unhex(e.nonce), unhex(e.aad), unhex(e.payload), e.tlen_bits / 8,
                   out);
  EXPECT_EQ(to_hex(out), to_hex(unhex(e.sealed)));
}

TEST_P(Sp80038cTest, OpenRecoversPayload) {
  const NistExample& e = GetParam();
  Bytes out;
  ASSERT_TRUE(detail::ccm_open(unhex(kNistKey), unhex(e.nonce), unhex(e.aad), unhex(e.sealed),
                               e.tlen_bits / 8, out));
  EXPECT_EQ(to_hex(out), to_hex(unhex(e.payload)));
}

INSTANTIATE_TEST_SUITE_P(AppendixC, Sp80038cTest, ::testing::ValuesIn(kSp80038c),
                         testutil::VectorName());

// ---------------------------------------------------------------------------------------------
// Behaviour of the typed API. Inputs are RFC 3610 packet #1's, so the fixture starts from a
// message whose sealing is already checked above.

class CcmBehaviourTest : public ::testing::Test {
 protected:
  const Packet packet_ = split(kRfc3610M8[0]);
  const Key128 key_{unhex_array<16>(kRfc3610Key)};
  const CcmNonce nonce_ = unhex_array<kCcmNonceBytes>(kRfc3610M8[0].nonce);
  // Whatever `out` held before a failed open must still be there, byte for byte.
  const Bytes sentinel_{0xde, 0xad, 0xbe, 0xef};

  Bytes seal(ByteView aad, ByteView plaintext, CcmTag tag) const {
    Bytes sealed;
    aes128_ccm_seal(key_, nonce_, aad, plaintext, tag, sealed);
    return sealed;
  }

  // Expects `open` to fail for these inputs through both the typed and the detail functions,
  // and `out` to keep its previous contents.
  void expect_rejected(const CcmNonce& nonce, ByteView aad, ByteView sealed, CcmTag tag) const {
    Bytes out = sentinel_;
    EXPECT_FALSE(aes128_ccm_open(key_, nonce, aad, sealed, tag, out));
    EXPECT_EQ(to_hex(out), to_hex(sentinel_));
    out = sentinel_;
    EXPECT_FALSE(detail::ccm_open(key_.view(), nonce, aad, sealed, tag_bytes(tag), out));
    EXPECT_EQ(to_hex(out), to_hex(sentinel_));
  }
};

TEST_F(CcmBehaviourTest, SixteenByteTagRoundTrip) {
  const Bytes sealed = seal(packet_.aad, packet_.payload, CcmTag::k16);
  ASSERT_EQ(sealed.size(), packet_.payload.size() + 16);
  // The tag length does not enter the counter blocks, so the ciphertext equals the M = 8 one.
  EXPECT_EQ(to_hex(ByteView(sealed).first(packet_.payload.size())),
            to_hex(ByteView(packet_.sealed).first(packet_.payload.size())));

  Bytes out = sentinel_;
  ASSERT_TRUE(aes128_ccm_open(key_, nonce_, packet_.aad, sealed, CcmTag::k16, out));
  Bytes expected = sentinel_;
  expected.insert(expected.end(), packet_.payload.begin(), packet_.payload.end());
  EXPECT_EQ(to_hex(out), to_hex(expected));

  // A 16-octet-tag message does not open as an 8-octet-tag one.
  expect_rejected(nonce_, packet_.aad, sealed, CcmTag::k8);
}

TEST_F(CcmBehaviourTest, EmptyPlaintextSealAndOpen) {
  for (CcmTag tag : {CcmTag::k8, CcmTag::k16}) {
    const Bytes sealed = seal(packet_.aad, {}, tag);
    ASSERT_EQ(sealed.size(), tag_bytes(tag));
    Bytes out = sentinel_;
    ASSERT_TRUE(aes128_ccm_open(key_, nonce_, packet_.aad, sealed, tag, out));
    EXPECT_EQ(to_hex(out), to_hex(sentinel_));
    // The tag still authenticates the header.
    Bytes aad = packet_.aad;
    flip_bit(aad, 0);
    expect_rejected(nonce_, aad, sealed, tag);
  }
}

TEST_F(CcmBehaviourTest, EmptyPlaintextAndEmptyAad) {
  const Bytes sealed = seal({}, {}, CcmTag::k8);
  ASSERT_EQ(sealed.size(), 8u);
  Bytes out;
  EXPECT_TRUE(aes128_ccm_open(key_, nonce_, {}, sealed, CcmTag::k8, out));
  EXPECT_TRUE(out.empty());
  const Bytes one_octet_aad{0x00};
  expect_rejected(nonce_, one_octet_aad, sealed, CcmTag::k8);
}

TEST_F(CcmBehaviourTest, EmptyAadRoundTrip) {
  const Bytes sealed = seal({}, packet_.payload, CcmTag::k8);
  ASSERT_EQ(sealed.size(), packet_.payload.size() + 8);
  Bytes out;
  ASSERT_TRUE(aes128_ccm_open(key_, nonce_, {}, sealed, CcmTag::k8, out));
  EXPECT_EQ(to_hex(out), to_hex(packet_.payload));
  // Empty AAD is not the same as some AAD: the header the vector used must not open it.
  expect_rejected(nonce_, packet_.aad, sealed, CcmTag::k8);
}

TEST_F(CcmBehaviourTest, FlippedCiphertextBitIsRejected) {
  const std::size_t ct_len = packet_.sealed.size() - 8;
  for (std::size_t index : {std::size_t{0}, ct_len / 2, ct_len - 1}) {
    for (unsigned bit : {0u, 7u}) {
      Bytes sealed = packet_.sealed;
      flip_bit(sealed, index, bit);
      SCOPED_TRACE(::testing::Message() << "byte " << index << " bit " << bit);
      expect_rejected(nonce_, packet_.aad, sealed, CcmTag::k8);
    }
  }
}

TEST_F(CcmBehaviourTest, FlippedTagBitIsRejected) {
  const std::size_t ct_len = packet_.sealed.size() - 8;
  for (std::size_t index = ct_len; index < packet_.sealed.size(); ++index) {
    Bytes sealed = packet_.sealed;
    flip_bit(sealed, index, 3);
    SCOPED_TRACE(::testing::Message() << "byte " << index);
    expect_rejected(nonce_, packet_.aad, sealed, CcmTag::k8);
  }
}

TEST_F(CcmBehaviourTest, FlippedAadBitIsRejected) {
  for (std::size_t index = 0; index < packet_.aad.size(); ++index) {
    Bytes aad = packet_.aad;
    flip_bit(aad, index, 5);
    SCOPED_TRACE(::testing::Message() << "byte " << index);
    expect_rejected(nonce_, aad, packet_.sealed, CcmTag::k8);
  }
  // Dropping or adding an AAD octet is rejected too.
  expect_rejected(nonce_, ByteView(packet_.aad).first(packet_.aad.size() - 1), packet_.sealed,
                  CcmTag::k8);
  Bytes longer = packet_.aad;
  longer.push_back(0x08);
  expect_rejected(nonce_, longer, packet_.sealed, CcmTag::k8);
}

TEST_F(CcmBehaviourTest, FlippedNonceBitIsRejected) {
  for (std::size_t index = 0; index < nonce_.size(); ++index) {
    CcmNonce nonce = nonce_;
    flip_bit(nonce, index, 1);
    SCOPED_TRACE(::testing::Message() << "byte " << index);
    expect_rejected(nonce, packet_.aad, packet_.sealed, CcmTag::k8);
  }
}

TEST_F(CcmBehaviourTest, InputShorterThanTagIsRejected) {
  for (CcmTag tag : {CcmTag::k8, CcmTag::k16}) {
    for (std::size_t len = 0; len < tag_bytes(tag); ++len) {
      SCOPED_TRACE(::testing::Message() << "tag " << tag_bytes(tag) << " length " << len);
      expect_rejected(nonce_, packet_.aad, ByteView(packet_.sealed).first(len), tag);
    }
  }
}

TEST_F(CcmBehaviourTest, TruncatedCiphertextIsRejected) {
  // Long enough to hold a tag, but one octet short of the real message.
  expect_rejected(nonce_, packet_.aad, ByteView(packet_.sealed).first(packet_.sealed.size() - 1),
                  CcmTag::k8);
  expect_rejected(nonce_, packet_.aad, ByteView(packet_.sealed).last(packet_.sealed.size() - 1),
                  CcmTag::k8);
}

TEST_F(CcmBehaviourTest, FailedOpenDoesNotDisturbLaterCalls) {
  // A rejected open leaves the per-thread context in a failed state; the next calls must still
  // produce the published packet.
  Bytes sealed = packet_.sealed;
  flip_bit(sealed, 0);
  expect_rejected(nonce_, packet_.aad, sealed, CcmTag::k8);
  EXPECT_EQ(to_hex(seal(packet_.aad, packet_.payload, CcmTag::k8)), to_hex(packet_.sealed));
  Bytes out;
  ASSERT_TRUE(aes128_ccm_open(key_, nonce_, packet_.aad, packet_.sealed, CcmTag::k8, out));
  EXPECT_EQ(to_hex(out), to_hex(packet_.payload));
}

}  // namespace
}  // namespace kmchain::crypto
