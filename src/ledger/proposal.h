// Proposals: the round's proposer offers a block (Tendermint, Algorithm 1: the message
// PROPOSAL(h, r, v, vr), with vr = -1 when the value is new and vr = the round of a polka for v
// when the proposer re-proposes its valid value, lines 16-19).
//
// Wire format, big-endian (83 bytes then the block):
//
//   offset size field
//   0      1    version       1
//   1      8    height
//   9      4    round
//   13     4    valid round   0xffffffff for none (Tendermint's -1), else below round
//   17     2    proposer      GatewayId of the round's proposer
//   19     64   signature     Ed25519 over proposal_sign_bytes
//   83     n    block         block.h, the rest of the message
//
// The signature covers "kmchain/v1/proposal", the chain id, height, round, valid round, the
// block's hash and the proposer: it commits to the block through its hash (whose header commits
// to the transactions through their root), so a proposal can be checked, stored or relayed by
// its hash alone. The block's height must be the proposal's. Its header's proposer may differ:
// a valid value re-proposed in a later round (vr != -1) keeps the header it was first proposed
// with, so only the consensus engine, which knows the rounds, can judge it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "crypto/sign.h"
#include "ledger/block.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

struct Proposal {
  Height height;
  Round round;
  std::optional<Round> valid_round;  // nullopt = -1
  Block block;
  GatewayId proposer;
  crypto::Ed25519Signature signature{};

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

inline constexpr std::uint8_t kProposalVersion = 1;
inline constexpr std::size_t kProposalFixedBytes = 1 + 8 + 4 + 4 + 2 + 64;
inline constexpr std::size_t kProposalBytesMax = kProposalFixedBytes + limits::kBlockBytesMax;
// The wire value of "no valid round". Never a real one: a valid round is below the round.
inline constexpr std::uint32_t kNoValidRound = UINT32_MAX;
static_assert(kProposalFixedBytes == 83);

enum class ProposalErrorCode : std::uint8_t {
  kTruncated = 1,       // shorter than the 83-byte fixed part
  kBadVersion = 2,      // unknown version byte
  kBadValidRound = 3,   // a valid round not below the round
  kBadBlock = 4,        // the block does not decode (ProposalError::block says why)
  kHeightMismatch = 5,  // the block's height is not the proposal's
};
const char* to_string(ProposalErrorCode code);

struct ProposalError {
  ProposalErrorCode code{};
  BlockError block{};  // for kBadBlock

  friend bool operator==(const ProposalError&, const ProposalError&) = default;
};
// "bad block: bad transaction 3: unknown operation", or the code's name.
std::string to_string(const ProposalError& e);

// The bytes a proposer signs (see the header comment). A present valid round is below round.
Bytes proposal_sign_bytes(const Hash256& chain_id, Height height, Round round,
                          std::optional<Round> valid_round, const Hash256& block_hash,
                          GatewayId proposer);

// The block's height must be `height` and a valid round below `round` (checked).
Proposal sign_proposal(const crypto::Ed25519KeyPair& key, const Hash256& chain_id, Height height,
                       Round round, std::optional<Round> valid_round, Block block,
                       GatewayId proposer);
// Whether `proposal.signature` is `public_key`'s signature of this proposal in this chain. The
// block's transactions are bound through the header's root, which decode_proposal has checked.
[[nodiscard]] bool verify_proposal(const crypto::Ed25519PublicKey& public_key,
                                   const Hash256& chain_id, const Proposal& proposal);

Bytes encode(const Proposal& proposal);
Result<Proposal, ProposalError> decode_proposal(ByteView bytes);

}  // namespace kmchain::ledger
