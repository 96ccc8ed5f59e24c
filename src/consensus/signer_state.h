// SignerState: what a replica must remember across a crash so that it never signs two
// different messages for one height, round and step, and never forgets a lock (Tendermint,
// Algorithm 1: h_p, round_p, step_p, lockedValue_p, lockedRound_p, validValue_p, validRound_p).
// The engine hands it to the shell as a Persist action before any message it signs; the shell
// writes it to the ConsensusWal (storage.h) and only then sends.
//
// The current round's own messages are kept: rounds only grow within a height, so after a
// restart the engine signs nothing at an earlier round, and at the current round it re-sends
// what it signed instead of signing anew. The own votes of the round last left are kept too:
// a replica leaves round r once it holds a precommit quorum of r, but if its own precommit of r
// was lost on the way, the others may need exactly that vote to leave r themselves, and after a
// restart nobody else could send it again (Engine::catch_up serves it to a peer still at r).
//
// The valid value keeps its polka (the 2f+1 prevotes that made it valid, L36): a proposer
// re-proposing it (L16) must be able to show that polka to validators that missed it (L28),
// or a lock taken before a crash could never be released and the height would stall.
//
// Encoding, big-endian:
//
//   0   1  version 1
//   1   8  height
//   9   4  round
//   13  1  step           1 propose, 2 prevote, 3 precommit
//   14  .  locked         u32 round (0xffffffff = none), then if present u32 length + block
//   ..  .  valid          the same
//   ..  4  proposal       u32 length (0 = none) + the proposal (ledger/proposal.h)
//   ..  1  vote count     at most kOwnVotesMax, then per vote u8 length + the vote (vote.h)
//   ..  2  polka count    at most kValidatorsMax, then per prevote u8 length + the vote; only
//                         with a valid value: prevotes at valid round for it, one per validator
//   ..  1  left count     (version 3) at most kOwnVotesMax, then per vote u8 length + the vote:
//                         own votes of one earlier round of this height, one per type
//
// Version 2 records (before the left round's votes) still decode, with none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "ledger/block.h"
#include "ledger/proposal.h"
#include "ledger/vote.h"

namespace kmchain::consensus {

enum class Step : std::uint8_t { kPropose = 1, kPrevote = 2, kPrecommit = 3 };
const char* to_string(Step step);

struct SignerState {
  Height height{1};
  Round round{0};
  Step step = Step::kPropose;
  std::optional<Round> locked_round;
  std::optional<ledger::Block> locked_value;
  std::optional<Round> valid_round;
  std::optional<ledger::Block> valid_value;
  std::optional<ledger::Proposal> own_proposal;  // signed at (height, round)
  std::vector<ledger::Vote> own_votes;           // signed at (height, round)
  std::vector<ledger::Vote> valid_polka;         // prevotes for valid_value at valid_round
  std::vector<ledger::Vote> left_votes;          // own votes of the round last left

  friend bool operator==(const SignerState&, const SignerState&) = default;
};

inline constexpr std::uint8_t kSignerStateVersion = 3;
inline constexpr std::uint8_t kSignerStateVersionNoLeftVotes = 2;
// A prevote and a precommit per round.
inline constexpr std::size_t kOwnVotesMax = 2;

enum class SignerStateError : std::uint8_t {
  kTruncated = 1,
  kBadVersion = 2,
  kBadStep = 3,
  kBadBlock = 4,      // locked or valid value does not decode
  kBadProposal = 5,   // own proposal does not decode
  kBadVote = 6,       // an own vote does not decode
  kTooManyVotes = 7,  // above kOwnVotesMax
  kInconsistent = 8,  // a value without its round or the reverse, or own messages of another
                      // height or round
  kTrailingBytes = 9,
  kBadPolka = 10,  // a polka vote that is not a prevote for the valid value at its round,
                   // or a repeated validator, or a polka without a valid value
};
const char* to_string(SignerStateError e);

Bytes encode(const SignerState& state);
Result<SignerState, SignerStateError> decode_signer_state(ByteView bytes);

}  // namespace kmchain::consensus
