// The genesis: who the consortium's gateways are and how much each one's vote weighs. Gateways
// are the validators, indexed 0..p-1 by their GatewayId. Anyone holding the genesis can verify a
// commit certificate (certificate.h) without trusting the gateway that served it.
//
// Canonical encoding, big-endian:
//
//   offset size field
//   0      1    version           1
//   1      1    name length m     at most limits::kGenesisNameBytesMax
//   2      m    name              bytes, UTF-8 by convention (not checked)
//   2+m    8    genesis time ms   milliseconds since the Unix epoch
//   10+m   2    validator count   1 .. limits::kValidatorsMax
//   12+m   42p  validators        index u16, Ed25519 public key [32], power u64
//
// Validators appear in index order and the index of the i-th is i, so there is exactly one
// encoding per genesis, and the chain id is SHA-256("kmchain/v1/genesis" || that encoding).
// Every vote, proposal and certificate signature includes the chain id, so none is valid in a
// consortium with other members, powers or name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "crypto/sign.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

struct Validator {
  GatewayId index;
  crypto::Ed25519PublicKey public_key{};
  std::uint64_t power = 0;

  friend bool operator==(const Validator&, const Validator&) = default;
};

struct Genesis {
  std::string name;
  std::uint64_t genesis_time_ms = 0;
  std::vector<Validator> validators;  // sorted by index, indexes 0..p-1

  friend bool operator==(const Genesis&, const Genesis&) = default;

  // The hash of the canonical encoding (a valid genesis only; callers keep it, it is recomputed
  // on every call).
  Hash256 chain_id() const;
  // At most limits::kTotalVotingPowerMax on a valid genesis (checked).
  std::uint64_t total_power() const;
  // The validator with this index, or nullptr.
  const Validator* find(GatewayId index) const;
};

inline constexpr std::uint8_t kGenesisVersion = 1;
inline constexpr std::size_t kGenesisFixedBytes = 1 + 1 + 8 + 2;
inline constexpr std::size_t kValidatorBytes = 2 + 32 + 8;

enum class GenesisErrorCode : std::uint8_t {
  kTruncated = 1,            // shorter than its lengths and count announce
  kBadVersion = 2,           // unknown version byte
  kNameTooLong = 3,          // name above limits::kGenesisNameBytesMax
  kNoValidators = 4,         // a consortium needs at least one gateway
  kTooManyValidators = 5,    // above limits::kValidatorsMax
  kDuplicateIndex = 6,       // an index already taken (the i-th validator's index is below i)
  kNonConsecutiveIndex = 7,  // an index skipped (the i-th validator's index is above i)
  kZeroPower = 8,            // a validator whose vote would weigh nothing
  kPowerOverflow = 9,        // total power above limits::kTotalVotingPowerMax
  kDuplicateKey = 10,        // two validators with one public key (one signer, double weight)
  kTrailingBytes = 11,       // bytes after the last validator
};
const char* to_string(GenesisErrorCode code);

struct GenesisError {
  GenesisErrorCode code{};
  // For the per-validator codes (index, power, overflow, duplicate key): the position in the
  // list where the problem was found.
  std::uint16_t position = 0;

  friend bool operator==(const GenesisError&, const GenesisError&) = default;
};
// "validator 3: zero power", or the code's name.
std::string to_string(const GenesisError& e);

// What decode_genesis checks beyond the layout, for a genesis built in code (configuration):
// name length, 1..kValidatorsMax validators indexed 0..p-1, non-zero powers whose total fits
// kTotalVotingPowerMax, distinct public keys. Reports the first problem in list order.
Status<GenesisError> validate_genesis(const Genesis& genesis);

// The canonical encoding of a valid genesis (checked).
Bytes encode(const Genesis& genesis);
Result<Genesis, GenesisError> decode_genesis(ByteView bytes);

}  // namespace kmchain::ledger
