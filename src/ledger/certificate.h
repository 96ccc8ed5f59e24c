// Commit certificates: the proof that a block is final (docs/protocol.md section 3; Tendermint,
// Algorithm 1 line 49: decide v upon 2f+1 PRECOMMIT(h, r, id(v))). It carries the precommit
// signatures of validators holding more than 2/3 of the voting power for one block at one
// height and round; anyone holding the genesis checks it with verify_certificate.
//
// Wire format, big-endian:
//
//   offset size field
//   0      1    version      1
//   1      8    height
//   9      4    round
//   13     32   block        block_hash of the committed block
//   45     2    count        at most limits::kValidatorsMax
//   47     66n  precommits   validator u16, Ed25519 signature [64], by strictly increasing
//                            validator (so one encoding per certificate)
//
// Each signature is the validator's precommit (vote.h) for (height, round, block): the votes
// themselves are not repeated, their common fields are the certificate's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "crypto/sign.h"
#include "ledger/block.h"
#include "ledger/genesis.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

// Whether `power` is MORE than 2/3 of `total` (Tendermint's 2f+1 when every validator has power
// 1 and total = 3f+1), in integers: 3 * power > 2 * total. Exactly 2/3 is not a quorum: two
// quorums must share more than 1/3 of the power, so at least one correct validator when the
// Byzantine ones hold at most 1/3 - the intersection argument of Tendermint's safety proof.
// power <= total <= limits::kTotalVotingPowerMax (checked), so nothing overflows. The one
// definition of a quorum: the consensus engine counts its votes with it too.
bool has_quorum(std::uint64_t power, std::uint64_t total);

struct CommitCertificate {
  Height height;
  Round round;
  Hash256 block{};
  std::vector<std::pair<GatewayId, crypto::Ed25519Signature>> precommits;  // sorted, unique

  friend bool operator==(const CommitCertificate&, const CommitCertificate&) = default;
};

inline constexpr std::uint8_t kCertificateVersion = 1;
inline constexpr std::size_t kCertificateFixedBytes = 1 + 8 + 4 + 32 + 2;
inline constexpr std::size_t kPrecommitBytes = 2 + 64;
inline constexpr std::size_t kCertificateBytesMax =
    kCertificateFixedBytes + limits::kValidatorsMax * kPrecommitBytes;

enum class CertificateErrorCode : std::uint8_t {
  // Decoding.
  kTruncated = 1,          // shorter than its count announces
  kBadVersion = 2,         // unknown version byte
  kTooManyPrecommits = 3,  // count above limits::kValidatorsMax
  kTrailingBytes = 4,      // bytes after the last precommit
  // Decoding and verification.
  kUnsorted = 5,  // validators not strictly increasing: a duplicate or out of order
  // Verification against a genesis.
  kUnknownValidator = 6,   // a validator index the genesis does not have
  kBadSignature = 7,       // a signature that is not that validator's precommit
  kInsufficientPower = 8,  // the signers hold 2/3 of the power or less
  kWrongBlock = 9,         // verify_commit: the certificate is for another block or height
};
const char* to_string(CertificateErrorCode code);

struct CertificateError {
  CertificateErrorCode code{};
  // For kUnsorted, kUnknownValidator and kBadSignature: the validator concerned.
  GatewayId validator{};

  friend bool operator==(const CertificateError&, const CertificateError&) = default;
};
// "bad signature (validator 2)", or the code's name.
std::string to_string(const CertificateError& e);

// Requires at most limits::kValidatorsMax precommits (checked).
Bytes encode(const CommitCertificate& certificate);
Result<CommitCertificate, CertificateError> decode_certificate(ByteView bytes);

// Checks, in this order: the precommits are sorted by validator without duplicates, every
// validator is in the genesis, their power is a quorum of the genesis' total, and every
// signature verifies as that validator's PRECOMMIT for (height, round, block) under the
// genesis' chain id. Power is checked before signatures, so a certificate that cannot be
// enough costs no signature verification. `chain_id` must be `genesis.chain_id()` (passed in so
// that it is not recomputed per certificate).
Status<CertificateError> verify_certificate(const Genesis& genesis, const Hash256& chain_id,
                                            const CommitCertificate& certificate);
Status<CertificateError> verify_certificate(const Genesis& genesis,
                                            const CommitCertificate& certificate);

// A block is final: `certificate` verifies and is for this block's hash at its height.
Status<CertificateError> verify_commit(const Genesis& genesis, const Block& block,
                                       const CommitCertificate& certificate);

}  // namespace kmchain::ledger
