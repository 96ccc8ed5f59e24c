#include "ledger/genesis.h"

#include <algorithm>

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::ledger {

const char* to_string(GenesisErrorCode code) {
  switch (code) {
    case GenesisErrorCode::kTruncated:
      return "truncated";
    case GenesisErrorCode::kBadVersion:
      return "bad version";
    case GenesisErrorCode::kNameTooLong:
      return "name too long";
    case GenesisErrorCode::kNoValidators:
      return "no validators";
    case GenesisErrorCode::kTooManyValidators:
      return "too many validators";
    case GenesisErrorCode::kDuplicateIndex:
      return "duplicate index";
    case GenesisErrorCode::kNonConsecutiveIndex:
      return "non-consecutive index";
    case GenesisErrorCode::kZeroPower:
      return "zero power";
    case GenesisErrorCode::kPowerOverflow:
      return "total power overflow";
    case GenesisErrorCode::kDuplicateKey:
      return "duplicate public key";
    case GenesisErrorCode::kTrailingBytes:
      return "trailing bytes";
  }
  return "unknown genesis error";
}

std::string to_string(const GenesisError& e) {
  switch (e.code) {
    case GenesisErrorCode::kDuplicateIndex:
    case GenesisErrorCode::kNonConsecutiveIndex:
    case GenesisErrorCode::kZeroPower:
    case GenesisErrorCode::kPowerOverflow:
    case GenesisErrorCode::kDuplicateKey:
      return "validator " + std::to_string(e.position) + ": " + to_string(e.code);
    default:
      return to_string(e.code);
  }
}

Status<GenesisError> validate_genesis(const Genesis& g) {
  if (g.name.size() > limits::kGenesisNameBytesMax) {
    return Err{GenesisError{GenesisErrorCode::kNameTooLong}};
  }
  if (g.validators.empty()) return Err{GenesisError{GenesisErrorCode::kNoValidators}};
  if (g.validators.size() > limits::kValidatorsMax) {
    return Err{GenesisError{GenesisErrorCode::kTooManyValidators}};
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < g.validators.size(); ++i) {
    const Validator& v = g.validators[i];
    const auto at = static_cast<std::uint16_t>(i);  // i < kValidatorsMax <= 2^16
    // Indexes 0..i-1 are taken by the validators before this one, so a smaller index repeats
    // one of them and a larger one leaves a gap.
    if (v.index.value() < i) return Err{GenesisError{GenesisErrorCode::kDuplicateIndex, at}};
    if (v.index.value() > i) return Err{GenesisError{GenesisErrorCode::kNonConsecutiveIndex, at}};
    if (v.power == 0) return Err{GenesisError{GenesisErrorCode::kZeroPower, at}};
    if (v.power > limits::kTotalVotingPowerMax - total) {
      return Err{GenesisError{GenesisErrorCode::kPowerOverflow, at}};
    }
    total += v.power;
    for (std::size_t j = 0; j < i; ++j) {  // p <= 256: at most 32640 comparisons
      if (g.validators[j].public_key == v.public_key) {
        return Err{GenesisError{GenesisErrorCode::kDuplicateKey, at}};
      }
    }
  }
  return {};
}

Hash256 Genesis::chain_id() const {
  return tagged_hash(domain::kGenesis, encode(*this));
}

std::uint64_t Genesis::total_power() const {
  std::uint64_t total = 0;
  for (const Validator& v : validators) {
    KMCHAIN_CHECK(v.power <= limits::kTotalVotingPowerMax - total);
    total += v.power;
  }
  return total;
}

const Validator* Genesis::find(GatewayId index) const {
  // Validators sit at their index in a valid genesis; the comparison guards a hand-built one.
  const std::size_t i = index.value();
  if (i < validators.size() && validators[i].index == index) return &validators[i];
  return nullptr;
}

Bytes encode(const Genesis& g) {
  KMCHAIN_CHECK(validate_genesis(g).ok());
  Bytes out;
  out.reserve(kGenesisFixedBytes + g.name.size() + g.validators.size() * kValidatorBytes);
  codec::ByteWriter w(out);
  w.u8(kGenesisVersion);
  w.u8(static_cast<std::uint8_t>(g.name.size()));
  w.raw(as_bytes(g.name));
  w.u64(g.genesis_time_ms);
  w.u16(static_cast<std::uint16_t>(g.validators.size()));
  for (const Validator& v : g.validators) {
    w.u16(v.index.value());
    w.raw(v.public_key);
    w.u64(v.power);
  }
  return out;
}

Result<Genesis, GenesisError> decode_genesis(ByteView bytes) {
  if (bytes.size() < kGenesisFixedBytes) return Err{GenesisError{GenesisErrorCode::kTruncated}};
  codec::ByteReader r(bytes);
  if (r.u8() != kGenesisVersion) return Err{GenesisError{GenesisErrorCode::kBadVersion}};
  const std::size_t name_bytes = r.u8();
  if (name_bytes > limits::kGenesisNameBytesMax) {
    return Err{GenesisError{GenesisErrorCode::kNameTooLong}};
  }
  if (r.remaining() < name_bytes + 8 + 2) return Err{GenesisError{GenesisErrorCode::kTruncated}};
  Genesis g;
  const ByteView name = r.view(name_bytes);
  g.name.assign(name.begin(), name.end());
  g.genesis_time_ms = r.u64();
  const std::size_t count = r.u16();
  KMCHAIN_CHECK(r.ok());
  // Lengths before contents: nothing is allocated for a count the bytes cannot hold.
  if (count == 0) return Err{GenesisError{GenesisErrorCode::kNoValidators}};
  if (count > limits::kValidatorsMax) {
    return Err{GenesisError{GenesisErrorCode::kTooManyValidators}};
  }
  if (r.remaining() < count * kValidatorBytes) {
    return Err{GenesisError{GenesisErrorCode::kTruncated}};
  }
  if (r.remaining() > count * kValidatorBytes) {
    return Err{GenesisError{GenesisErrorCode::kTrailingBytes}};
  }
  g.validators.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Validator v{GatewayId{r.u16()}, {}, 0};
    r.raw(v.public_key);
    v.power = r.u64();
    g.validators.push_back(v);
  }
  KMCHAIN_CHECK(r.at_end());
  KMCHAIN_TRY(validate_genesis(g));
  return g;
}

}  // namespace kmchain::ledger
