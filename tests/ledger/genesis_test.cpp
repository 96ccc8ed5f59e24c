// The genesis (ledger/genesis.h): the canonical encoding and chain id (known_values.py), round
// trips, every truncation and extension, every single-byte change refused with its typed error
// or giving another chain id, and each validity rule on its own.
#include "ledger/genesis.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger_fixture.h"

namespace kmchain::ledger {
namespace {

using fixture::make_genesis;

// The sample genesis' name is "kmchain-test" (12 bytes).
constexpr std::size_t kNameLengthAt = 1;
constexpr std::size_t kTimeAt = 14;
constexpr std::size_t kCountAt = 22;
constexpr std::size_t kValidatorsAt = 24;

GenesisError error(GenesisErrorCode code, std::uint16_t position = 0) {
  return GenesisError{code, position};
}

TEST(Genesis, EncodingAndChainIdAreTheDocumentedOnes) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  // known_values.py: the Ed25519 public keys of the seeds 32 * (i + 1), power 1 each.
  EXPECT_EQ(to_hex(encode(g)),
            "01"  // version
            "0c"
            "6b6d636861696e2d74657374"  // "kmchain-test"
            "0000018bcfe56800"          // genesis time
            "0004"                      // validators
            "0000"
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
            "0000000000000001"
            "0001"
            "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
            "0000000000000001"
            "0002"
            "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
            "0000000000000001"
            "0003"
            "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c"
            "0000000000000001");
  // Python 3: hashlib.sha256(b"kmchain/v1/genesis" + encoding).hexdigest()
  EXPECT_EQ(to_hex(g.chain_id()),
            "def69efd8a612a35d477bf5ea73ab51a360559dfb0557549618e749139b54fd8");
  EXPECT_EQ(g.total_power(), 4u);
}

TEST(Genesis, RoundTrips) {
  for (const Genesis& g :
       {make_genesis({1}), make_genesis({1, 1, 1, 1}), make_genesis({5, 1, 7}, ""),
        make_genesis(std::vector<std::uint64_t>(limits::kValidatorsMax, 3),
                     std::string(limits::kGenesisNameBytesMax, 'n'))}) {
    ASSERT_TRUE(validate_genesis(g).ok());
    const Bytes wire = encode(g);
    auto decoded = decode_genesis(wire);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, g);
    EXPECT_EQ(decoded->chain_id(), g.chain_id());
  }
}

TEST(Genesis, FindAndTotalPower) {
  const Genesis g = make_genesis({5, 1, 7});
  EXPECT_EQ(g.total_power(), 13u);
  for (std::uint16_t i = 0; i < 3; ++i) {
    const Validator* v = g.find(GatewayId{i});
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->index, GatewayId{i});
    EXPECT_EQ(v->public_key, fixture::validator_key(i).public_key());
  }
  EXPECT_EQ(g.find(GatewayId{3}), nullptr);
  EXPECT_EQ(g.find(GatewayId{0xffff}), nullptr);
}

TEST(Genesis, EveryRuleOnItsOwn) {
  auto check = [](const Genesis& g, GenesisError expected) {
    auto status = validate_genesis(g);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error(), expected) << to_string(status.error());
  };
  Genesis g = make_genesis({1, 1, 1});
  g.name = std::string(limits::kGenesisNameBytesMax + 1, 'x');
  check(g, error(GenesisErrorCode::kNameTooLong));
  check(make_genesis({}), error(GenesisErrorCode::kNoValidators));
  check(make_genesis(std::vector<std::uint64_t>(limits::kValidatorsMax + 1, 1)),
        error(GenesisErrorCode::kTooManyValidators));
  g = make_genesis({1, 1, 1});
  g.validators[2].index = GatewayId{1};
  check(g, error(GenesisErrorCode::kDuplicateIndex, 2));
  g = make_genesis({1, 1, 1});
  g.validators[1].index = GatewayId{2};
  check(g, error(GenesisErrorCode::kNonConsecutiveIndex, 1));
  g = make_genesis({1, 1, 1});
  g.validators[0].index = GatewayId{1};  // starts at 1
  check(g, error(GenesisErrorCode::kNonConsecutiveIndex, 0));
  check(make_genesis({1, 0, 1}), error(GenesisErrorCode::kZeroPower, 1));
  check(make_genesis({limits::kTotalVotingPowerMax, 1}),
        error(GenesisErrorCode::kPowerOverflow, 1));
  check(make_genesis({UINT64_MAX}), error(GenesisErrorCode::kPowerOverflow, 0));
  g = make_genesis({1, 1, 1});
  g.validators[2].public_key = g.validators[0].public_key;
  check(g, error(GenesisErrorCode::kDuplicateKey, 2));
  // The bounds themselves are allowed.
  EXPECT_TRUE(validate_genesis(make_genesis({limits::kTotalVotingPowerMax})).ok());
  EXPECT_TRUE(validate_genesis(make_genesis({limits::kTotalVotingPowerMax - 1, 1})).ok());
  EXPECT_EQ(to_string(error(GenesisErrorCode::kZeroPower, 1)), "validator 1: zero power");
}

TEST(Genesis, EveryTruncationAndExtensionIsRefused) {
  Bytes wire = encode(make_genesis({1, 1, 1, 1}));
  const std::size_t size = wire.size();
  for (std::size_t n = 0; n < size; ++n) {
    auto decoded = decode_genesis(ByteView(wire).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error(), error(GenesisErrorCode::kTruncated)) << n;
  }
  for (std::size_t extra = 1; extra <= 50; ++extra) {
    wire.push_back(1);
    auto decoded = decode_genesis(wire);
    ASSERT_FALSE(decoded.ok()) << extra;
    EXPECT_EQ(decoded.error(), error(GenesisErrorCode::kTrailingBytes)) << extra;
  }
}

TEST(Genesis, DecodingRefusesWhatValidationRefuses) {
  Genesis g = make_genesis({1, 2});
  Bytes wire = encode(g);
  wire[kValidatorsAt + 42 + 41] = 0;  // validator 1's power
  EXPECT_EQ(decode_genesis(wire).error(), error(GenesisErrorCode::kZeroPower, 1));
  wire = encode(g);
  wire[kCountAt + 1] = 0;  // no validators
  EXPECT_EQ(decode_genesis(ByteView(wire).first(kValidatorsAt)).error(),
            error(GenesisErrorCode::kNoValidators));
  wire[kCountAt] = 0x01;  // 257 validators
  wire[kCountAt + 1] = 0x01;
  EXPECT_EQ(decode_genesis(wire).error(), error(GenesisErrorCode::kTooManyValidators));
  wire = encode(g);
  wire[kNameLengthAt] = limits::kGenesisNameBytesMax + 1;
  EXPECT_EQ(decode_genesis(wire).error(), error(GenesisErrorCode::kNameTooLong));
}

// What decoding the sample genesis (name of 12 bytes, four validators of power 1) with byte
// `at` set to `value` must give; nullopt if it must decode. The name length byte shifts every
// later field and is checked separately.
std::optional<GenesisError> expected_error(const Bytes& changed, std::size_t at) {
  if (at == 0) return error(GenesisErrorCode::kBadVersion);
  if (at < kCountAt) return std::nullopt;  // name, time
  if (at < kValidatorsAt) {
    const auto count = fixture::be_at(changed, kCountAt, 2);
    if (count == 0) return error(GenesisErrorCode::kNoValidators);
    if (count > limits::kValidatorsMax) return error(GenesisErrorCode::kTooManyValidators);
    return error(count > 4 ? GenesisErrorCode::kTruncated : GenesisErrorCode::kTrailingBytes);
  }
  const std::size_t i = (at - kValidatorsAt) / kValidatorBytes;
  const std::size_t field = (at - kValidatorsAt) % kValidatorBytes;
  const auto position = static_cast<std::uint16_t>(i);
  if (field < 2) {
    const auto index = fixture::be_at(changed, at - field, 2);
    return error(
        index < i ? GenesisErrorCode::kDuplicateIndex : GenesisErrorCode::kNonConsecutiveIndex,
        position);
  }
  if (field < 34) return std::nullopt;  // another key (the four differ in more than one byte)
  const auto power = fixture::be_at(changed, at - field + 34, 8);
  if (power == 0) return error(GenesisErrorCode::kZeroPower, position);
  if (power > limits::kTotalVotingPowerMax - i) {  // the ones before hold 1 each
    return error(GenesisErrorCode::kPowerOverflow, position);
  }
  return std::nullopt;
}

TEST(Genesis, EverySingleByteChangeIsRefusedOrChangesTheChainId) {
  const Genesis g = make_genesis({1, 1, 1, 1});
  const Bytes wire = encode(g);
  const Hash256 chain_id = g.chain_id();
  fixture::for_each_byte_change(wire, [&](std::size_t at, int, const Bytes& changed) {
    auto decoded = decode_genesis(changed);
    if (at == kNameLengthAt) {
      // Every later field moves; no such change leaves a valid genesis here.
      ASSERT_FALSE(decoded.ok()) << int{changed[at]};
      return;
    }
    ASSERT_TRUE(fixture::as_expected(decoded, expected_error(changed, at)))
        << at << " = " << int{changed[at]};
    if (!decoded) return;
    ASSERT_EQ(encode(*decoded), changed);
    ASSERT_NE(decoded->chain_id(), chain_id);
  });
}

TEST(Genesis, ChainIdSeparatesNameTimeKeysAndPowers) {
  const Hash256 base = make_genesis({1, 1, 1, 1}).chain_id();
  EXPECT_NE(make_genesis({1, 1, 1, 1}, "other").chain_id(), base);
  EXPECT_NE(make_genesis({1, 1, 1, 2}).chain_id(), base);
  EXPECT_NE(make_genesis({1, 1, 1}).chain_id(), base);
  Genesis g = make_genesis({1, 1, 1, 1});
  g.genesis_time_ms += 1;
  EXPECT_NE(g.chain_id(), base);
  g = make_genesis({1, 1, 1, 1});
  g.validators[3].public_key = fixture::validator_key(9).public_key();
  EXPECT_NE(g.chain_id(), base);
}

}  // namespace
}  // namespace kmchain::ledger
