// decode_vote and decode_proposal on the same arbitrary bytes: never crash; what they accept
// encodes back to the same bytes and can be verified against the fixed consortium's keys
// (ledger_fuzz_fixture.h) without crashing. A vote or proposal that verifies carries exactly the
// signature its validator's key makes for it (Ed25519 is deterministic and OpenSSL refuses
// non-canonical signatures): no second signature of the same message passes.
#include <cstddef>
#include <cstdint>

#include "ledger/proposal.h"
#include "ledger/vote.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  const auto& f = fuzz::ledger_fixture();

  auto vote = ledger::decode_vote(input);
  if (vote) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*vote), input));
    KMCHAIN_FUZZ_ASSERT(size == (vote->block ? ledger::kVoteBlockBytes : ledger::kVoteNilBytes));
    if (const auto* key = fuzz::public_key_of(vote->validator)) {
      if (ledger::verify_vote(*key, f.chain_id, *vote)) {
        const auto again =
            ledger::sign_vote(fuzz::ledger_key(vote->validator.value()), f.chain_id, vote->type,
                              vote->height, vote->round, vote->block, vote->validator);
        KMCHAIN_FUZZ_ASSERT(again.signature == vote->signature);
      }
    }
  } else if (size < ledger::kVoteNilBytes) {
    KMCHAIN_FUZZ_ASSERT(vote.error() == ledger::VoteError::kTruncated);
  }

  auto proposal = ledger::decode_proposal(input);
  if (proposal) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*proposal), input));
    KMCHAIN_FUZZ_ASSERT(!proposal->valid_round || *proposal->valid_round < proposal->round);
    KMCHAIN_FUZZ_ASSERT(proposal->block.header.height == proposal->height);
    if (const auto* key = fuzz::public_key_of(proposal->proposer)) {
      if (ledger::verify_proposal(*key, f.chain_id, *proposal)) {
        const auto again = ledger::sign_proposal(
            fuzz::ledger_key(proposal->proposer.value()), f.chain_id, proposal->height,
            proposal->round, proposal->valid_round, proposal->block, proposal->proposer);
        KMCHAIN_FUZZ_ASSERT(again.signature == proposal->signature);
      }
    }
  } else if (size < ledger::kProposalFixedBytes) {
    KMCHAIN_FUZZ_ASSERT(proposal.error().code == ledger::ProposalErrorCode::kTruncated);
  }
  return 0;
}
