// Votes (ledger/vote.h): the documented layout and the signed bytes (known_values.py), round
// trips, every truncation and extension, every single-byte change refused with its typed error
// or, if it decodes, no longer verifying; and a signature never verifies for another chain,
// type, height, round, block, validator or key.
#include "ledger/vote.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using fixture::counting_hash;
using fixture::validator_key;
using kmchain::testing::unhex_array;

// known_values.py: the chain id of fixture::make_genesis({1, 1, 1, 1}) and the sample block's hash.
const char* const kChainIdHex = "def69efd8a612a35d477bf5ea73ab51a360559dfb0557549618e749139b54fd8";
const char* const kBlockHashHex =
    "1e70c450f7c851d70fa0d042080601393dc03f974473acd01f96166d956c11ed";

Hash256 chain_id() {
  return unhex_array<32>(kChainIdHex);
}

Vote sample_vote(VoteType type, std::optional<Hash256> block, std::uint16_t validator = 1) {
  return sign_vote(validator_key(validator), chain_id(), type, Height{7}, Round{2}, block,
                   GatewayId{validator});
}

TEST(Vote, TheChainIdOfTheSampleGenesis) {
  EXPECT_EQ(to_hex(fixture::make_genesis({1, 1, 1, 1}).chain_id()), kChainIdHex);
  EXPECT_EQ(to_hex(block_hash(fixture::sample_block())), kBlockHashHex);
}

TEST(Vote, SignBytesAndSignatureAreTheDocumentedOnes) {
  const Hash256 block = unhex_array<32>(kBlockHashHex);
  EXPECT_EQ(to_hex(vote_sign_bytes(chain_id(), VoteType::kPrecommit, Height{7}, Round{2}, block,
                                   GatewayId{1})),
            std::string(to_hex(as_bytes("kmchain/v1/vote"))) + kChainIdHex +
                "02"                // precommit
                "0000000000000007"  // height
                "00000002"          // round
                "01" +              // a block follows
                kBlockHashHex +
                "0001");  // validator
  EXPECT_EQ(to_hex(vote_sign_bytes(chain_id(), VoteType::kPrevote, Height{7}, Round{2},
                                   std::nullopt, GatewayId{1})),
            std::string(to_hex(as_bytes("kmchain/v1/vote"))) + kChainIdHex +
                "01"
                "0000000000000007"
                "00000002"
                "00"
                "0001");
  // Python 3 `cryptography`: Ed25519PrivateKey.from_private_bytes(b"\x02" * 32).sign(sign_bytes)
  const Vote vote = sample_vote(VoteType::kPrecommit, block);
  EXPECT_EQ(to_hex(vote.signature),
            "38b1de1be96abfad5ae81bcfd64ec339c22f581b85d292a6032448d6473c3246"
            "86ca43d27b549a8c25eed6cb7fd95b236772685f82e42ffa1206e6bd1f35d90e");
}

TEST(Vote, WireLayoutIsTheDocumentedOne) {
  const Vote vote = sample_vote(VoteType::kPrecommit, counting_hash(0x20), 0x0102);
  EXPECT_EQ(to_hex(encode(vote)),
            std::string("01"                // version
                        "02"                // precommit
                        "0000000000000007"  // height
                        "00000002"          // round
                        "01"                // a block follows
                        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                        "0102") +  // validator
                to_hex(vote.signature));
  const Vote nil = sample_vote(VoteType::kPrevote, std::nullopt);
  EXPECT_EQ(to_hex(encode(nil)), std::string("01"
                                             "01"
                                             "0000000000000007"
                                             "00000002"
                                             "00"
                                             "0001") +
                                     to_hex(nil.signature));
}

TEST(Vote, RoundTripsBothTypesForABlockAndForNil) {
  for (VoteType type : {VoteType::kPrevote, VoteType::kPrecommit}) {
    for (const std::optional<Hash256>& block :
         {std::optional<Hash256>{}, std::optional<Hash256>{counting_hash(9)}}) {
      const Vote vote = sample_vote(type, block);
      const Bytes wire = encode(vote);
      EXPECT_EQ(wire.size(), block ? kVoteBlockBytes : kVoteNilBytes);
      auto decoded = decode_vote(wire);
      ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
      EXPECT_EQ(*decoded, vote);
      EXPECT_EQ(encode(*decoded), wire);
      EXPECT_TRUE(verify_vote(validator_key(1).public_key(), chain_id(), *decoded));
    }
  }
}

TEST(Vote, EveryTruncationAndExtensionIsRefused) {
  for (const std::optional<Hash256>& block :
       {std::optional<Hash256>{}, std::optional<Hash256>{counting_hash(9)}}) {
    Bytes wire = encode(sample_vote(VoteType::kPrecommit, block));
    const std::size_t size = wire.size();
    for (std::size_t n = 0; n < size; ++n) {
      auto decoded = decode_vote(ByteView(wire).first(n));
      ASSERT_FALSE(decoded.ok()) << n;
      EXPECT_EQ(decoded.error(), VoteError::kTruncated) << n;
    }
    for (std::size_t extra = 1; extra <= 40; ++extra) {
      wire.push_back(0);
      auto decoded = decode_vote(wire);
      ASSERT_FALSE(decoded.ok()) << extra;
      EXPECT_EQ(decoded.error(), VoteError::kTrailingBytes) << extra;
    }
  }
}

// What decoding a vote with byte `at` set to `value` must give: nullopt if it must decode.
std::optional<VoteError> expected_error(bool has_block, std::size_t at, std::uint8_t value) {
  if (at == 0) return VoteError::kBadVersion;
  if (at == 1)
    return value == 1 || value == 2 ? std::nullopt : std::optional(VoteError::kUnknownType);
  if (at == 14) {
    if (value > 1) return VoteError::kBadBlockFlag;
    // The flag now announces the other length.
    return has_block ? VoteError::kTrailingBytes : VoteError::kTruncated;
  }
  return std::nullopt;
}

TEST(Vote, EverySingleByteChangeIsRefusedOrNoLongerVerifies) {
  for (const std::optional<Hash256>& block :
       {std::optional<Hash256>{}, std::optional<Hash256>{counting_hash(9)}}) {
    const Bytes wire = encode(sample_vote(VoteType::kPrecommit, block));
    fixture::for_each_byte_change(wire, [&](std::size_t at, int delta, const Bytes& changed) {
      auto decoded = decode_vote(changed);
      ASSERT_TRUE(fixture::as_expected(decoded, expected_error(block.has_value(), at, changed[at])))
          << at << " = " << int{changed[at]};
      if (!decoded) return;
      // A changed validator index is checked under the original key: the signature binds the
      // index too. (Three values per byte: signature checks are the slow part.)
      if (delta == 1 || delta == 0x80 || delta == 0xff) {
        ASSERT_FALSE(verify_vote(validator_key(1).public_key(), chain_id(), *decoded)) << at;
      }
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Vote, ASignatureDoesNotVerifyForAnythingElse) {
  const Hash256 block = counting_hash(9);
  const auto key = validator_key(1).public_key();
  const Vote vote = sample_vote(VoteType::kPrecommit, block);
  ASSERT_TRUE(verify_vote(key, chain_id(), vote));

  Vote other = vote;
  other.type = VoteType::kPrevote;  // a precommit replayed as a prevote
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  EXPECT_FALSE(verify_vote(key, fixture::make_genesis({1, 1, 1, 1}, "other").chain_id(), vote));
  other = vote;
  other.height = Height{8};
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  other = vote;
  other.round = Round{3};
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  other = vote;
  other.block = counting_hash(10);
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  other = vote;
  other.block = std::nullopt;  // a vote for a block replayed as nil
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  other = vote;
  other.validator = GatewayId{2};
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
  EXPECT_FALSE(verify_vote(validator_key(2).public_key(), chain_id(), vote));
  // And a nil vote is not a vote for the all-zero hash.
  const Vote nil = sample_vote(VoteType::kPrevote, std::nullopt);
  other = nil;
  other.block = Hash256{};
  EXPECT_FALSE(verify_vote(key, chain_id(), other));
}

TEST(Vote, ErrorsAndTypesHaveNames) {
  EXPECT_STREQ(to_string(VoteType::kPrevote), "prevote");
  EXPECT_STREQ(to_string(VoteType::kPrecommit), "precommit");
  EXPECT_STREQ(to_string(VoteError::kTruncated), "truncated");
  EXPECT_STREQ(to_string(VoteError::kBadVersion), "bad version");
  EXPECT_STREQ(to_string(VoteError::kUnknownType), "unknown vote type");
  EXPECT_STREQ(to_string(VoteError::kBadBlockFlag), "bad block flag");
  EXPECT_STREQ(to_string(VoteError::kTrailingBytes), "trailing bytes");
}

}  // namespace
}  // namespace kmchain::ledger
