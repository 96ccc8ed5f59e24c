// Votes: a gateway's signed prevote or precommit for a block, or for nil, at one height and
// round (Tendermint, Buchman, Kwon, Milosevic 2018, Algorithm 1: PREVOTE and PRECOMMIT
// messages). Gateways are the validators: `validator` is the signer's GatewayId.
//
// Wire format, big-endian (81 bytes for nil, 113 for a block):
//
//   offset size field
//   0      1    version      1
//   1      1    type         1 prevote, 2 precommit
//   2      8    height
//   10     4    round
//   14     1    block flag   0 nil, 1 a block hash follows
//   15     32   block hash   present only when the flag is 1
//   ..     2    validator
//   ..     64   signature    Ed25519 over vote_sign_bytes
//
// What is signed (vote_sign_bytes) is not the wire format: it starts with the domain tag
// "kmchain/v1/vote" and the chain id (the genesis hash), then type, height, round, block flag,
// block hash if any, validator. So a signature cannot be replayed in another consortium, as a
// proposal or transaction, as the other vote type, or at another height, round or value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/sign.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

enum class VoteType : std::uint8_t { kPrevote = 1, kPrecommit = 2 };
// "prevote", "precommit".
const char* to_string(VoteType type);

struct Vote {
  VoteType type;
  Height height;
  Round round;
  std::optional<Hash256> block;  // nullopt = nil
  GatewayId validator;
  crypto::Ed25519Signature signature{};

  friend bool operator==(const Vote&, const Vote&) = default;
};

inline constexpr std::uint8_t kVoteVersion = 1;
inline constexpr std::size_t kVoteNilBytes = 1 + 1 + 8 + 4 + 1 + 2 + 64;
inline constexpr std::size_t kVoteBlockBytes = kVoteNilBytes + 32;
static_assert(kVoteNilBytes == 81 && kVoteBlockBytes == 113);

enum class VoteError : std::uint8_t {
  kTruncated = 1,      // shorter than its block flag says
  kBadVersion = 2,     // unknown version byte
  kUnknownType = 3,    // type is neither prevote nor precommit
  kBadBlockFlag = 4,   // block flag is neither 0 nor 1
  kTrailingBytes = 5,  // longer than its block flag says
};
const char* to_string(VoteError e);

// The bytes a validator signs for this vote (see the header comment).
Bytes vote_sign_bytes(const Hash256& chain_id, VoteType type, Height height, Round round,
                      const std::optional<Hash256>& block, GatewayId validator);

Vote sign_vote(const crypto::Ed25519KeyPair& key, const Hash256& chain_id, VoteType type,
               Height height, Round round, const std::optional<Hash256>& block,
               GatewayId validator);
// Whether `vote.signature` is `public_key`'s signature of this vote in this chain. Which key
// belongs to `vote.validator` is the genesis' to say (genesis.h).
[[nodiscard]] bool verify_vote(const crypto::Ed25519PublicKey& public_key, const Hash256& chain_id,
                               const Vote& vote);

Bytes encode(const Vote& vote);
Result<Vote, VoteError> decode_vote(ByteView bytes);

}  // namespace kmchain::ledger
