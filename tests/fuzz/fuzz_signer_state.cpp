// consensus::decode_signer_state (the ConsensusWal record) on arbitrary bytes: never crashes;
// what it accepts encodes back to exactly the input bytes and is consistent the way the decoder
// promises (values of this height, their rounds at most the current one, own messages of this
// height and round, at most kOwnVotesMax votes, a lock backed by a valid value at its round or
// later, a polka of distinct validators' prevotes for the valid value at its round, the own votes
// of one earlier round, one per type); what it refuses for being short is refused as truncated.
// A version 2 record (no votes of a round left) encodes as version 3 with none.
#include <cstddef>
#include <cstdint>

#include "consensus/signer_state.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;

namespace {

// version, height, round, step, locked round, valid round, proposal length, vote count,
// polka count (version 2), then the left vote count (version 3)
constexpr std::size_t kMinimalV2Bytes = 1 + 8 + 4 + 1 + 4 + 4 + 4 + 1 + 2;
constexpr std::size_t kMinimalBytes = kMinimalV2Bytes + 1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto state = consensus::decode_signer_state(input);
  if (!state) {
    using E = consensus::SignerStateError;
    const E e = state.error();
    if (size == 0) KMCHAIN_FUZZ_ASSERT(e == E::kTruncated);
    if (size > 0)
      KMCHAIN_FUZZ_ASSERT((e == E::kBadVersion) ==
                          (data[0] != consensus::kSignerStateVersion &&
                           data[0] != consensus::kSignerStateVersionNoLeftVotes));
    // Shorter than the smallest record up to its vote count (no values, no proposal), nothing
    // but the layout can be wrong: a vote count or a consistency check is never reached.
    if (size < kMinimalV2Bytes - 2) {
      KMCHAIN_FUZZ_ASSERT(e == E::kTruncated || e == E::kBadVersion || e == E::kBadStep ||
                          e == E::kBadBlock || e == E::kBadProposal);
    }
    return 0;
  }
  const consensus::SignerState& s = *state;
  const bool v2 = data[0] == consensus::kSignerStateVersionNoLeftVotes;
  KMCHAIN_FUZZ_ASSERT(size >= (v2 ? kMinimalV2Bytes : kMinimalBytes));
  KMCHAIN_FUZZ_ASSERT(s.own_votes.size() <= consensus::kOwnVotesMax);
  KMCHAIN_FUZZ_ASSERT(s.locked_round.has_value() == s.locked_value.has_value());
  KMCHAIN_FUZZ_ASSERT(s.valid_round.has_value() == s.valid_value.has_value());
  if (s.locked_round) {
    KMCHAIN_FUZZ_ASSERT(*s.locked_round <= s.round);
    KMCHAIN_FUZZ_ASSERT(s.locked_value->header.height == s.height);
  }
  if (s.valid_round) {
    KMCHAIN_FUZZ_ASSERT(*s.valid_round <= s.round);
    KMCHAIN_FUZZ_ASSERT(s.valid_value->header.height == s.height);
  }
  if (s.own_proposal) {
    KMCHAIN_FUZZ_ASSERT(s.own_proposal->height == s.height && s.own_proposal->round == s.round);
  }
  for (const ledger::Vote& v : s.own_votes)
    KMCHAIN_FUZZ_ASSERT(v.height == s.height && v.round == s.round);
  if (s.locked_round) KMCHAIN_FUZZ_ASSERT(s.valid_round && *s.valid_round >= *s.locked_round);
  KMCHAIN_FUZZ_ASSERT(s.valid_polka.size() <= limits::kValidatorsMax);
  if (!s.valid_polka.empty()) KMCHAIN_FUZZ_ASSERT(s.valid_value.has_value());
  for (std::size_t i = 0; i < s.valid_polka.size(); ++i) {
    const ledger::Vote& v = s.valid_polka[i];
    KMCHAIN_FUZZ_ASSERT(v.type == ledger::VoteType::kPrevote && v.height == s.height &&
                        v.round == *s.valid_round && v.block == ledger::block_hash(*s.valid_value));
    if (i > 0) KMCHAIN_FUZZ_ASSERT(s.valid_polka[i - 1].validator < v.validator);
  }

  KMCHAIN_FUZZ_ASSERT(s.left_votes.size() <= consensus::kOwnVotesMax);
  for (const ledger::Vote& v : s.left_votes) {
    KMCHAIN_FUZZ_ASSERT(v.height == s.height && v.round < s.round &&
                        v.round == s.left_votes.front().round);
  }
  if (s.left_votes.size() == 2) KMCHAIN_FUZZ_ASSERT(s.left_votes[0].type != s.left_votes[1].type);

  if (!v2) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(consensus::encode(s), input));
    return 0;
  }
  // Version 2: no votes of a round left; today's encoding is the version 3 of the same record.
  KMCHAIN_FUZZ_ASSERT(s.left_votes.empty());
  Bytes upgraded(input.begin(), input.end());
  upgraded[0] = consensus::kSignerStateVersion;
  upgraded.push_back(0);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(consensus::encode(s), upgraded));
  return 0;
}
