// Proposals (ledger/proposal.h): the documented layout and signed bytes (known_values.py),
// round trips with and without a valid round, every truncation and extension, every single-byte
// change refused with its typed error or no longer verifying, and a signature that never
// verifies for another chain, height, round, valid round, block or proposer.
#include "ledger/proposal.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ledger/vote.h"
#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using fixture::validator_key;
using kmchain::testing::unhex_array;

const char* const kChainIdHex = "def69efd8a612a35d477bf5ea73ab51a360559dfb0557549618e749139b54fd8";
const char* const kBlockHashHex =
    "1e70c450f7c851d70fa0d042080601393dc03f974473acd01f96166d956c11ed";

constexpr std::size_t kRoundAt = 9;
constexpr std::size_t kValidRoundAt = 13;
constexpr std::size_t kProposerAt = 17;
constexpr std::size_t kBlockAt = 83;

Hash256 chain_id() {
  return unhex_array<32>(kChainIdHex);
}

Proposal sample_proposal(std::optional<Round> valid_round = Round{1}, std::size_t txs = 3,
                         Round round = Round{2}) {
  return sign_proposal(validator_key(3), chain_id(), Height{7}, round, valid_round,
                       fixture::sample_block(txs), GatewayId{3});
}

bool verifies(const Proposal& p) {
  return verify_proposal(validator_key(3).public_key(), chain_id(), p);
}

TEST(Proposal, SignBytesAndSignatureAreTheDocumentedOnes) {
  const Hash256 block = unhex_array<32>(kBlockHashHex);
  const std::string tag = to_hex(as_bytes("kmchain/v1/proposal"));
  EXPECT_EQ(
      to_hex(proposal_sign_bytes(chain_id(), Height{7}, Round{2}, Round{1}, block, GatewayId{3})),
      tag + kChainIdHex + "0000000000000007" + "00000002" + "00000001" + kBlockHashHex + "0003");
  EXPECT_EQ(
      to_hex(
          proposal_sign_bytes(chain_id(), Height{7}, Round{0}, std::nullopt, block, GatewayId{3})),
      tag + kChainIdHex + "0000000000000007" + "00000000" + "ffffffff" + kBlockHashHex + "0003");
  // Python 3 `cryptography`: Ed25519PrivateKey.from_private_bytes(b"\x04" * 32).sign(sign_bytes)
  EXPECT_EQ(to_hex(sample_proposal().signature),
            "71259980cbf0098b206faddf2c3c0cf4be9da869ddd7a8a185b234f3596738b6"
            "f75da71a13967c6c3eb47c86a45b1e5c01384d8a9f1a6f476373cb0865e20509");
}

TEST(Proposal, WireLayoutIsTheDocumentedOne) {
  const Proposal p = sample_proposal();
  const Bytes wire = encode(p);
  const Bytes block = encode(p.block);
  ASSERT_EQ(wire.size(), kProposalFixedBytes + block.size());
  EXPECT_EQ(to_hex(ByteView(wire).first(kProposalFixedBytes)),
            std::string("01"                // version
                        "0000000000000007"  // height
                        "00000002"          // round
                        "00000001"          // valid round
                        "0003") +           // proposer
                to_hex(p.signature));
  EXPECT_EQ(Bytes(wire.begin() + kBlockAt, wire.end()), block);
  EXPECT_EQ(fixture::be_at(encode(sample_proposal(std::nullopt)), kValidRoundAt, 4), 0xffffffffu);
}

TEST(Proposal, RoundTripsWithAndWithoutAValidRound) {
  for (const std::optional<Round>& vr :
       {std::optional<Round>{}, std::optional<Round>{Round{0}}, std::optional<Round>{Round{1}}}) {
    for (std::size_t txs : {std::size_t{0}, std::size_t{3}}) {
      const Proposal p = sample_proposal(vr, txs);
      const Bytes wire = encode(p);
      auto decoded = decode_proposal(wire);
      ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
      EXPECT_EQ(*decoded, p);
      EXPECT_EQ(encode(*decoded), wire);
      EXPECT_TRUE(verifies(*decoded));
    }
  }
  // The largest round with the largest valid round below it.
  const Proposal p = sample_proposal(Round{UINT32_MAX - 1}, 1, Round{UINT32_MAX});
  auto decoded = decode_proposal(encode(p));
  ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
  EXPECT_EQ(decoded->valid_round, Round{UINT32_MAX - 1});
}

TEST(Proposal, EveryTruncationAndExtensionIsRefused) {
  Bytes wire = encode(sample_proposal());
  const std::size_t size = wire.size();
  for (std::size_t n = 0; n < size; ++n) {
    auto decoded = decode_proposal(ByteView(wire).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    const ProposalError expected =
        n < kProposalFixedBytes
            ? ProposalError{ProposalErrorCode::kTruncated, {}}
            : ProposalError{ProposalErrorCode::kBadBlock, {BlockErrorCode::kTruncated, 0, {}}};
    EXPECT_EQ(decoded.error(), expected) << n;
  }
  for (std::size_t extra = 1; extra <= 60; ++extra) {
    wire.push_back(0);
    auto decoded = decode_proposal(wire);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), (ProposalError{ProposalErrorCode::kBadBlock,
                                              {BlockErrorCode::kTrailingBytes, 0, {}}}));
  }
}

TEST(Proposal, AValidRoundNotBelowTheRoundIsRefused) {
  Bytes wire = encode(sample_proposal(Round{1}));  // round 2
  for (std::uint32_t vr : {2u, 3u, 0xfffffffeu}) {
    for (std::size_t i = 0; i < 4; ++i)
      wire[kValidRoundAt + i] = static_cast<std::uint8_t>(vr >> (24 - 8 * i));
    auto decoded = decode_proposal(wire);
    ASSERT_FALSE(decoded.ok()) << vr;
    EXPECT_EQ(decoded.error().code, ProposalErrorCode::kBadValidRound);
  }
  // At round 0 no valid round is possible at all.
  wire = encode(sample_proposal(std::nullopt, 3, Round{0}));
  for (std::size_t i = 0; i < 4; ++i)
    wire[kValidRoundAt + i] = 0;
  EXPECT_EQ(decode_proposal(wire).error().code, ProposalErrorCode::kBadValidRound);
}

TEST(Proposal, TheBlockMustBeAtTheProposalsHeight) {
  Proposal p = sample_proposal();
  p.height = Height{8};  // encodes as given
  auto decoded = decode_proposal(encode(p));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ProposalErrorCode::kHeightMismatch);
}

// A valid value re-proposed in a later round keeps its original header, proposer included.
TEST(Proposal, AReproposedBlockMayNameItsOriginalProposer) {
  Block block = fixture::sample_block();
  block.header.proposer = GatewayId{0};
  const Proposal p = sign_proposal(validator_key(3), chain_id(), Height{7}, Round{2}, Round{1},
                                   block, GatewayId{3});
  auto decoded = decode_proposal(encode(p));
  ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
  EXPECT_TRUE(verifies(*decoded));
}

// What decoding the sample proposal (round 2, valid round 1, two transactions) with byte `at`
// set to `value` must give; nullopt if it must decode.
std::optional<ProposalError> expected_error(const Bytes& changed, std::size_t at) {
  using Code = ProposalErrorCode;
  if (at == 0) return ProposalError{Code::kBadVersion, {}};
  if (at < kRoundAt) return ProposalError{Code::kHeightMismatch, {}};  // the block is at 7
  if (at < kProposerAt) {
    const auto round = fixture::be_at(changed, kRoundAt, 4);
    const auto valid_round = fixture::be_at(changed, kValidRoundAt, 4);
    if (valid_round != 0xffffffff && valid_round >= round) {
      return ProposalError{Code::kBadValidRound, {}};
    }
    return std::nullopt;
  }
  if (at < kBlockAt) return std::nullopt;  // proposer, signature
  auto block = decode_block(ByteView(changed).subspan(kBlockAt));
  if (!block) return ProposalError{Code::kBadBlock, block.error()};  // block_test's oracle
  if (block->header.height != Height{7}) return ProposalError{Code::kHeightMismatch, {}};
  return std::nullopt;
}

TEST(Proposal, EverySingleByteChangeIsRefusedOrNoLongerVerifies) {
  const Bytes wire = encode(sample_proposal(Round{1}, 2));
  std::size_t decoded_ok = 0;
  fixture::for_each_byte_change(wire, [&](std::size_t at, int delta, const Bytes& changed) {
    auto decoded = decode_proposal(changed);
    ASSERT_TRUE(fixture::as_expected(decoded, expected_error(changed, at)))
        << at << " = " << int{changed[at]};
    if (!decoded) return;
    ++decoded_ok;
    if (delta == 1 || delta == 0x80 || delta == 0xff) {  // signature checks are the slow part
      ASSERT_FALSE(verifies(*decoded)) << at << " = " << int{changed[at]};
    }
  });
  EXPECT_GT(decoded_ok, 0u);
}

TEST(Proposal, ASignatureDoesNotVerifyForAnythingElse) {
  const Proposal p = sample_proposal();
  ASSERT_TRUE(verifies(p));
  EXPECT_FALSE(verify_proposal(validator_key(3).public_key(),
                               fixture::make_genesis({1, 1, 1, 1}, "other").chain_id(), p));
  EXPECT_FALSE(verify_proposal(validator_key(2).public_key(), chain_id(), p));
  Proposal other = p;
  other.height = Height{8};
  other.block.header.height = Height{8};
  EXPECT_FALSE(verifies(other));
  other = p;
  other.round = Round{3};
  EXPECT_FALSE(verifies(other));
  other = p;
  other.valid_round = std::nullopt;
  EXPECT_FALSE(verifies(other));
  other = p;
  other.valid_round = Round{0};
  EXPECT_FALSE(verifies(other));
  other = p;
  other.proposer = GatewayId{2};
  EXPECT_FALSE(verifies(other));
  other = p;
  other.block.header.timestamp_ms += 1;
  EXPECT_FALSE(verifies(other));
  other = p;
  other.valid_round = Round{2};  // not below the round: refused without a signature check
  EXPECT_FALSE(verifies(other));
  // Neither a vote's signature over the same fields nor the block hash signed as a precommit.
  const Vote precommit = sign_vote(validator_key(3), chain_id(), VoteType::kPrecommit, Height{7},
                                   Round{2}, block_hash(p.block), GatewayId{3});
  other = p;
  other.signature = precommit.signature;
  EXPECT_FALSE(verifies(other));
}

TEST(Proposal, ErrorsHaveNames) {
  EXPECT_EQ(to_string(ProposalError{ProposalErrorCode::kTruncated, {}}), "truncated");
  EXPECT_EQ(to_string(ProposalError{ProposalErrorCode::kBadValidRound, {}}),
            "valid round not below round");
  EXPECT_EQ(to_string(ProposalError{
                ProposalErrorCode::kBadBlock,
                {BlockErrorCode::kBadTransaction, 2, SignedTxError::kBadConsentFlag}}),
            "bad block: bad transaction 2: bad consent flag");
}

}  // namespace
}  // namespace kmchain::ledger
