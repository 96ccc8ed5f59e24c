// Commit certificates (ledger/certificate.h): the quorum rule at its boundary (exactly 2/3 of the
// power is refused, more is accepted) for equal and unequal powers and against an independent
// formulation; signatures that are not this validator's precommit for this (height, round,
// block) in this chain are refused, as are unknown validators and unsorted lists; the codec
// round-trips and refuses every wrong length and every corruption.
#include "ledger/certificate.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ledger/vote.h"
#include "ledger_fixture.h"

namespace kmchain::ledger {
namespace {

using fixture::certify;
using fixture::make_genesis;
using fixture::validator_key;
using Code = CertificateErrorCode;

constexpr std::size_t kCountAt = 45;
constexpr std::size_t kPrecommitsAt = 47;

const Height kHeight{7};
const Round kRound{2};

Hash256 sample_block_hash() {
  return block_hash(fixture::sample_block());
}

CertificateError error(Code code, std::uint16_t validator = 0) {
  return CertificateError{code, GatewayId{validator}};
}

// The signers as a certificate of the sample block under `genesis`.
CommitCertificate certificate_of(const Genesis& genesis,
                                 const std::vector<std::uint16_t>& signers) {
  return certify(genesis.chain_id(), kHeight, kRound, sample_block_hash(), signers);
}

Status<CertificateError> verify(const Genesis& genesis, const CommitCertificate& c) {
  return verify_certificate(genesis, c);
}

void expect_error(const Status<CertificateError>& status, CertificateError expected) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error(), expected) << to_string(status.error());
}

// ---------------------------------------------------------------------------------------------
// The quorum rule

TEST(Quorum, MoreThanTwoThirdsInIntegers) {
  EXPECT_FALSE(has_quorum(0, 0));
  EXPECT_FALSE(has_quorum(2, 3));  // exactly 2/3
  EXPECT_TRUE(has_quorum(3, 3));
  EXPECT_FALSE(has_quorum(2, 4));
  EXPECT_TRUE(has_quorum(3, 4));  // Tendermint's 2f+1 of 3f+1, f = 1
  EXPECT_FALSE(has_quorum(4, 6));
  EXPECT_TRUE(has_quorum(5, 6));
  EXPECT_FALSE(has_quorum(6, 9));
  EXPECT_TRUE(has_quorum(7, 9));
  EXPECT_FALSE(has_quorum(2 * (limits::kTotalVotingPowerMax / 3),
                          limits::kTotalVotingPowerMax - limits::kTotalVotingPowerMax % 3));
  EXPECT_TRUE(has_quorum(limits::kTotalVotingPowerMax, limits::kTotalVotingPowerMax));
  EXPECT_FALSE(has_quorum(0, limits::kTotalVotingPowerMax));
}

// 3p > 2t  <=>  p > floor(2t / 3): with 2t = 3q + r (r < 3), p >= q + 1 gives 3p >= 3q + 3 > 2t.
TEST(Quorum, AgreesWithFloorFormulationForSmallTotals) {
  for (std::uint64_t total = 0; total <= 300; ++total) {
    for (std::uint64_t power = 0; power <= total; ++power) {
      ASSERT_EQ(has_quorum(power, total), power > 2 * total / 3) << power << "/" << total;
    }
  }
}

RC_GTEST_PROP(QuorumProperty, AgreesWithFloorFormulation, ()) {
  const auto total = *rc::gen::inRange<std::uint64_t>(0, limits::kTotalVotingPowerMax + 1);
  const auto power = *rc::gen::inRange<std::uint64_t>(0, total + 1);
  // 2 * total <= 2^63 does not overflow.
  RC_ASSERT(has_quorum(power, total) == (power > 2 * total / 3));
}

// ---------------------------------------------------------------------------------------------
// Verification

TEST(Certificate, FourEqualValidatorsTwoAreNotEnoughThreeAre) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  for (std::uint16_t a = 0; a < 4; ++a) {
    expect_error(verify(g, certificate_of(g, {a})), error(Code::kInsufficientPower));
    for (std::uint16_t b = a + 1; b < 4; ++b) {
      expect_error(verify(g, certificate_of(g, {a, b})), error(Code::kInsufficientPower));
      for (std::uint16_t c = b + 1; c < 4; ++c) {
        EXPECT_TRUE(verify(g, certificate_of(g, {a, b, c})).ok()) << a << b << c;
      }
    }
  }
  EXPECT_TRUE(verify(g, certificate_of(g, {0, 1, 2, 3})).ok());
  expect_error(verify(g, certificate_of(g, {})), error(Code::kInsufficientPower));
}

TEST(Certificate, UnequalPowersExactlyTwoThirdsIsRefused) {
  // Total 6: 4 is exactly 2/3.
  const Genesis six = make_genesis({1, 1, 1, 3});
  expect_error(verify(six, certificate_of(six, {3})), error(Code::kInsufficientPower));        // 3
  expect_error(verify(six, certificate_of(six, {0, 3})), error(Code::kInsufficientPower));     // 4
  expect_error(verify(six, certificate_of(six, {0, 1, 2})), error(Code::kInsufficientPower));  // 3
  EXPECT_TRUE(verify(six, certificate_of(six, {0, 1, 3})).ok());                               // 5
  // Total 9: 6 is exactly 2/3, 7 is enough.
  const Genesis nine = make_genesis({2, 2, 2, 3});
  expect_error(verify(nine, certificate_of(nine, {0, 1, 2})),
               error(Code::kInsufficientPower));                                              // 6
  expect_error(verify(nine, certificate_of(nine, {0, 3})), error(Code::kInsufficientPower));  // 5
  EXPECT_TRUE(verify(nine, certificate_of(nine, {0, 1, 3})).ok());                            // 7
  // One heavy validator alone: 7 of 10 is a quorum, 3 of 10 plus... is not.
  const Genesis heavy = make_genesis({7, 1, 1, 1});
  EXPECT_TRUE(verify(heavy, certificate_of(heavy, {0})).ok());
  expect_error(verify(heavy, certificate_of(heavy, {1, 2, 3})), error(Code::kInsufficientPower));
}

// Every subset of signers of a few genesis shapes: accepted exactly when its power is a quorum.
TEST(Certificate, EverySubsetIsAcceptedExactlyWhenItsPowerIsMoreThanTwoThirds) {
  for (const std::vector<std::uint64_t>& powers :
       {std::vector<std::uint64_t>{1, 1, 1, 1, 1, 1, 1}, {1, 2, 3, 4, 5}, {10, 10, 10, 1, 1}}) {
    const Genesis g = make_genesis(powers);
    const std::uint64_t total = g.total_power();
    const Hash256 chain_id = g.chain_id();
    const CommitCertificate all = certificate_of(g, [&] {
      std::vector<std::uint16_t> everyone;
      for (std::size_t i = 0; i < powers.size(); ++i)
        everyone.push_back(static_cast<std::uint16_t>(i));
      return everyone;
    }());
    for (std::uint32_t mask = 0; mask < (1u << powers.size()); ++mask) {
      CommitCertificate c{all.height, all.round, all.block, {}};
      std::uint64_t power = 0;
      for (std::size_t i = 0; i < powers.size(); ++i) {
        if (mask & (1u << i)) {
          c.precommits.push_back(all.precommits[i]);
          power += powers[i];
        }
      }
      const bool expected = 3 * power > 2 * total;
      auto status = verify_certificate(g, chain_id, c);
      ASSERT_EQ(status.ok(), expected) << "mask " << mask;
      if (!expected) {
        ASSERT_EQ(status.error(), error(Code::kInsufficientPower));
      }
    }
  }
}

TEST(Certificate, APrevoteSignatureIsNotAPrecommit) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  CommitCertificate c = certificate_of(g, {0, 1, 2});
  const Vote prevote = sign_vote(validator_key(1), g.chain_id(), VoteType::kPrevote, kHeight,
                                 kRound, c.block, GatewayId{1});
  c.precommits[1].second = prevote.signature;
  expect_error(verify(g, c), error(Code::kBadSignature, 1));
}

TEST(Certificate, PrecommitsOfAnotherChainAreRefused) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const Genesis other = make_genesis({1, 1, 1, 1}, "another consortium");  // same keys
  const CommitCertificate c = certificate_of(other, {0, 1, 2});
  EXPECT_TRUE(verify(other, c).ok());
  expect_error(verify(g, c), error(Code::kBadSignature, 0));
}

TEST(Certificate, PrecommitsForAnotherHeightRoundOrBlockAreRefused) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const CommitCertificate good = certificate_of(g, {0, 1, 3});
  ASSERT_TRUE(verify(g, good).ok());
  CommitCertificate c = good;
  c.height = Height{8};
  expect_error(verify(g, c), error(Code::kBadSignature, 0));
  c = good;
  c.round = Round{3};
  expect_error(verify(g, c), error(Code::kBadSignature, 0));
  c = good;
  c.block[0] ^= 1;
  expect_error(verify(g, c), error(Code::kBadSignature, 0));
  // Precommits for nil do not certify a block.
  c = good;
  for (auto& [validator, signature] : c.precommits) {
    signature = sign_vote(validator_key(validator.value()), g.chain_id(), VoteType::kPrecommit,
                          kHeight, kRound, std::nullopt, validator)
                    .signature;
  }
  expect_error(verify(g, c), error(Code::kBadSignature, 0));
}

TEST(Certificate, ABadSignatureIsReportedWithItsValidatorEvenBeyondAQuorum) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  for (std::size_t bad = 0; bad < 4; ++bad) {
    CommitCertificate c = certificate_of(g, {0, 1, 2, 3});
    c.precommits[bad].second[10] ^= 0x40;
    expect_error(verify(g, c), error(Code::kBadSignature, static_cast<std::uint16_t>(bad)));
  }
}

TEST(Certificate, ValidatorsOutsideTheGenesisAreRefused) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  // Validator 4 of a five-gateway consortium with the same first four keys: a real precommit,
  // but 4 is not in this genesis.
  CommitCertificate c = certificate_of(g, {0, 1, 2});
  const Vote outsider = sign_vote(validator_key(4), g.chain_id(), VoteType::kPrecommit, kHeight,
                                  kRound, c.block, GatewayId{4});
  c.precommits.emplace_back(GatewayId{4}, outsider.signature);
  expect_error(verify(g, c), error(Code::kUnknownValidator, 4));
  // The outsider's key claiming a known index.
  c = certificate_of(g, {0, 1});
  const Vote impostor = sign_vote(validator_key(4), g.chain_id(), VoteType::kPrecommit, kHeight,
                                  kRound, c.block, GatewayId{2});
  c.precommits.emplace_back(GatewayId{2}, impostor.signature);
  expect_error(verify(g, c), error(Code::kBadSignature, 2));
  // A known validator's key under another index.
  c = certificate_of(g, {0, 1});
  const Vote moved = sign_vote(validator_key(3), g.chain_id(), VoteType::kPrecommit, kHeight,
                               kRound, c.block, GatewayId{2});
  c.precommits.emplace_back(GatewayId{2}, moved.signature);
  expect_error(verify(g, c), error(Code::kBadSignature, 2));
}

TEST(Certificate, DuplicatesAndDisorderAreRefusedBeforeCounting) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  // The same two validators twice would be four votes if counted.
  CommitCertificate c = certificate_of(g, {0, 1});
  c.precommits.push_back(c.precommits[0]);
  c.precommits.push_back(c.precommits[1]);
  expect_error(verify(g, c), error(Code::kUnsorted, 0));
  c = certificate_of(g, {0, 1, 1});
  expect_error(verify(g, c), error(Code::kUnsorted, 1));
  c = certificate_of(g, {0, 2, 1});
  expect_error(verify(g, c), error(Code::kUnsorted, 1));
}

TEST(Certificate, PowerIsCheckedBeforeSignatures) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  CommitCertificate c = certificate_of(g, {0, 1});
  c.precommits[0].second.fill(0);
  expect_error(verify(g, c), error(Code::kInsufficientPower));
}

TEST(Certificate, VerifyCommitBindsTheBlock) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const Block block = fixture::sample_block();
  const CommitCertificate c = certificate_of(g, {0, 1, 2});
  EXPECT_TRUE(verify_commit(g, block, c).ok());
  Block other = block;
  other.header.timestamp_ms += 1;
  expect_error(verify_commit(g, other, c), error(Code::kWrongBlock));
  other = block;
  other.header.height = Height{8};
  expect_error(verify_commit(g, other, c), error(Code::kWrongBlock));
}

TEST(Certificate, TheLargestConsortium) {
  const Genesis g = make_genesis(std::vector<std::uint64_t>(limits::kValidatorsMax, 1));
  std::vector<std::uint16_t> signers;
  for (std::uint16_t i = 0; i < 171; ++i)  // 171 of 256: 3 * 171 = 513 > 512
    signers.push_back(i);
  CommitCertificate c = certificate_of(g, signers);
  const Bytes wire = encode(c);
  auto decoded = decode_certificate(wire);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(verify(g, *decoded).ok());
  c.precommits.pop_back();  // 170: 510 <= 512
  expect_error(verify(g, c), error(Code::kInsufficientPower));
}

// ---------------------------------------------------------------------------------------------
// The codec

TEST(CertificateCodec, LayoutIsTheDocumentedOne) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const CommitCertificate c = certificate_of(g, {0, 2});
  const Bytes wire = encode(c);
  EXPECT_EQ(wire.size(), kCertificateFixedBytes + 2 * kPrecommitBytes);
  EXPECT_EQ(to_hex(ByteView(wire).first(kPrecommitsAt)),
            std::string("01"                // version
                        "0000000000000007"  // height
                        "00000002") +       // round
                to_hex(c.block) +
                "0002");  // block, count
  EXPECT_EQ(to_hex(ByteView(wire).subspan(kPrecommitsAt)),
            "0000" + to_hex(c.precommits[0].second) + "0002" + to_hex(c.precommits[1].second));
}

TEST(CertificateCodec, RoundTrips) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  for (const std::vector<std::uint16_t>& signers :
       {std::vector<std::uint16_t>{}, {3}, {0, 1, 2}, {0, 1, 2, 3}}) {
    const CommitCertificate c = certificate_of(g, signers);
    const Bytes wire = encode(c);
    auto decoded = decode_certificate(wire);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, c);
    EXPECT_EQ(encode(*decoded), wire);
  }
}

TEST(CertificateCodec, EveryTruncationAndExtensionIsRefused) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  Bytes wire = encode(certificate_of(g, {0, 1, 2}));
  const std::size_t size = wire.size();
  for (std::size_t n = 0; n < size; ++n) {
    auto decoded = decode_certificate(ByteView(wire).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error(), error(Code::kTruncated)) << n;
  }
  for (std::size_t extra = 1; extra <= 2 * kPrecommitBytes; ++extra) {
    wire.push_back(0xff);
    auto decoded = decode_certificate(wire);
    ASSERT_FALSE(decoded.ok()) << extra;
    EXPECT_EQ(decoded.error(), error(Code::kTrailingBytes)) << extra;
  }
}

TEST(CertificateCodec, UnsortedAndOversizedListsAreRefused) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  CommitCertificate c = certificate_of(g, {0, 1, 2});
  std::swap(c.precommits[0], c.precommits[2]);
  auto decoded = decode_certificate(encode(c));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), error(Code::kUnsorted, 1));
  Bytes wire = encode(certificate_of(g, {}));
  wire[kCountAt] = 0x01;  // 257 precommits
  wire[kCountAt + 1] = 0x01;
  EXPECT_EQ(decode_certificate(wire).error(), error(Code::kTooManyPrecommits));
}

// What decoding the three-signer certificate with byte `at` changed must give: nullopt if it
// must decode (and then must not verify).
std::optional<CertificateError> expected_error(const Bytes& changed, std::size_t at) {
  if (at == 0) return error(Code::kBadVersion);
  if (at < kCountAt) return std::nullopt;  // height, round, block
  if (at < kPrecommitsAt) {
    const auto count = fixture::be_at(changed, kCountAt, 2);
    if (count > limits::kValidatorsMax) return error(Code::kTooManyPrecommits);
    return error(count > 3 ? Code::kTruncated : Code::kTrailingBytes);
  }
  // The first validator not above its predecessor.
  std::optional<std::uint64_t> previous;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = fixture::be_at(changed, kPrecommitsAt + i * kPrecommitBytes, 2);
    if (previous && v <= *previous) return error(Code::kUnsorted, static_cast<std::uint16_t>(v));
    previous = v;
  }
  return std::nullopt;
}

TEST(CertificateCodec, EverySingleByteChangeIsRefusedOrNoLongerVerifies) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const Hash256 chain_id = g.chain_id();
  const Bytes wire = encode(certificate_of(g, {0, 1, 2}));
  fixture::for_each_byte_change(wire, [&](std::size_t at, int delta, const Bytes& changed) {
    auto decoded = decode_certificate(changed);
    ASSERT_TRUE(fixture::as_expected(decoded, expected_error(changed, at)))
        << at << " = " << int{changed[at]};
    if (!decoded) return;
    ASSERT_EQ(encode(*decoded), changed);
    if (delta == 1 || delta == 0x80 || delta == 0xff) {  // signature checks are the slow part
      ASSERT_FALSE(verify_certificate(g, chain_id, *decoded).ok())
          << at << " = " << int{changed[at]};
    }
  });
}

TEST(CertificateCodec, ErrorsHaveNames) {
  EXPECT_EQ(to_string(error(Code::kBadSignature, 2)), "bad signature (validator 2)");
  EXPECT_EQ(to_string(error(Code::kInsufficientPower)), "insufficient power");
  EXPECT_EQ(to_string(error(Code::kUnknownValidator, 9)), "unknown validator (validator 9)");
}

}  // namespace
}  // namespace kmchain::ledger
