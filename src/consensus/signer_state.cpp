#include "consensus/signer_state.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::consensus {

const char* to_string(Step step) {
  switch (step) {
    case Step::kPropose:
      return "propose";
    case Step::kPrevote:
      return "prevote";
    case Step::kPrecommit:
      return "precommit";
  }
  return "unknown";
}

const char* to_string(SignerStateError e) {
  switch (e) {
    case SignerStateError::kTruncated:
      return "truncated";
    case SignerStateError::kBadVersion:
      return "bad version";
    case SignerStateError::kBadStep:
      return "bad step";
    case SignerStateError::kBadBlock:
      return "bad block";
    case SignerStateError::kBadProposal:
      return "bad proposal";
    case SignerStateError::kBadVote:
      return "bad vote";
    case SignerStateError::kTooManyVotes:
      return "too many votes";
    case SignerStateError::kInconsistent:
      return "inconsistent signer state";
    case SignerStateError::kTrailingBytes:
      return "trailing bytes";
    case SignerStateError::kBadPolka:
      return "bad polka";
  }
  return "unknown signer state error";
}

namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

void write_value(codec::ByteWriter& w, const std::optional<Round>& round,
                 const std::optional<ledger::Block>& block) {
  KMCHAIN_CHECK(round.has_value() == block.has_value());
  if (!round) {
    w.u32(kNone);
    return;
  }
  KMCHAIN_CHECK(round->value() != kNone);
  w.u32(round->value());
  const Bytes bytes = ledger::encode(*block);
  w.u32(static_cast<std::uint32_t>(bytes.size()));
  w.raw(bytes);
}

Status<SignerStateError> read_value(codec::ByteReader& r, std::optional<Round>& round,
                                    std::optional<ledger::Block>& block) {
  const std::uint32_t raw_round = r.u32();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  if (raw_round == kNone) return {};
  const std::uint32_t length = r.u32();
  const ByteView bytes = r.view(length);
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  auto decoded = ledger::decode_block(bytes);
  if (!decoded) return Err{SignerStateError::kBadBlock};
  round = Round{raw_round};
  block = std::move(decoded).value();
  return {};
}

void write_votes_u8(codec::ByteWriter& w, const ledger::Vote& v) {
  const Bytes bytes = ledger::encode(v);
  KMCHAIN_CHECK(bytes.size() <= UINT8_MAX);
  w.u8(static_cast<std::uint8_t>(bytes.size()));
  w.raw(bytes);
}

Result<ledger::Vote, SignerStateError> read_vote_u8(codec::ByteReader& r) {
  const std::uint8_t length = r.u8();
  const ByteView view = r.view(length);
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  auto v = ledger::decode_vote(view);
  if (!v) return Err{SignerStateError::kBadVote};
  return std::move(v).value();
}

// `count` votes (at most `max`, else kTooManyVotes), each with a u8 length, appended to `out`.
Status<SignerStateError> read_votes(codec::ByteReader& r, std::size_t count, std::size_t max,
                                    std::vector<ledger::Vote>& out) {
  if (count > max) return Err{SignerStateError::kTooManyVotes};
  for (std::size_t i = 0; i < count; ++i) {
    auto v = read_vote_u8(r);
    if (!v) return Err{v.error()};
    out.push_back(std::move(v).value());
  }
  return {};
}

bool is_step(std::uint8_t byte) {
  return byte >= static_cast<std::uint8_t>(Step::kPropose) &&
         byte <= static_cast<std::uint8_t>(Step::kPrecommit);
}

}  // namespace

Bytes encode(const SignerState& s) {
  KMCHAIN_CHECK(s.own_votes.size() <= kOwnVotesMax);
  Bytes out;
  codec::ByteWriter w(out);
  w.u8(kSignerStateVersion);
  w.u64(s.height.value());
  w.u32(s.round.value());
  w.u8(static_cast<std::uint8_t>(s.step));
  write_value(w, s.locked_round, s.locked_value);
  write_value(w, s.valid_round, s.valid_value);
  if (s.own_proposal) {
    const Bytes p = ledger::encode(*s.own_proposal);
    w.u32(static_cast<std::uint32_t>(p.size()));
    w.raw(p);
  } else {
    w.u32(0);
  }
  w.u8(static_cast<std::uint8_t>(s.own_votes.size()));
  for (const ledger::Vote& v : s.own_votes)
    write_votes_u8(w, v);
  KMCHAIN_CHECK(s.valid_polka.size() <= limits::kValidatorsMax);
  w.u16(static_cast<std::uint16_t>(s.valid_polka.size()));
  for (const ledger::Vote& v : s.valid_polka)
    write_votes_u8(w, v);
  KMCHAIN_CHECK(s.left_votes.size() <= kOwnVotesMax);
  w.u8(static_cast<std::uint8_t>(s.left_votes.size()));
  for (const ledger::Vote& v : s.left_votes)
    write_votes_u8(w, v);
  return out;
}

Result<SignerState, SignerStateError> decode_signer_state(ByteView bytes) {
  codec::ByteReader r(bytes);
  const std::uint8_t version = r.u8();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  if (version != kSignerStateVersion && version != kSignerStateVersionNoLeftVotes)
    return Err{SignerStateError::kBadVersion};
  SignerState s;
  s.height = Height{r.u64()};
  s.round = Round{r.u32()};
  const std::uint8_t step = r.u8();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  if (!is_step(step)) return Err{SignerStateError::kBadStep};
  s.step = static_cast<Step>(step);
  KMCHAIN_TRY(read_value(r, s.locked_round, s.locked_value));
  KMCHAIN_TRY(read_value(r, s.valid_round, s.valid_value));
  const std::uint32_t proposal_bytes = r.u32();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  if (proposal_bytes != 0) {
    const ByteView view = r.view(proposal_bytes);
    if (!r.ok()) return Err{SignerStateError::kTruncated};
    auto p = ledger::decode_proposal(view);
    if (!p) return Err{SignerStateError::kBadProposal};
    s.own_proposal = std::move(p).value();
  }
  const std::uint8_t votes = r.u8();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  KMCHAIN_TRY(read_votes(r, votes, kOwnVotesMax, s.own_votes));
  const std::uint16_t polka = r.u16();
  if (!r.ok()) return Err{SignerStateError::kTruncated};
  KMCHAIN_TRY(read_votes(r, polka, limits::kValidatorsMax, s.valid_polka));
  if (version == kSignerStateVersion) {
    const std::uint8_t left = r.u8();
    if (!r.ok()) return Err{SignerStateError::kTruncated};
    KMCHAIN_TRY(read_votes(r, left, kOwnVotesMax, s.left_votes));
  }
  if (!r.at_end()) return Err{SignerStateError::kTrailingBytes};
  // Values carry the height they were proposed at; own messages are of this height and round.
  // Rounds of locked/valid values are below or at the current one.
  for (const auto* block : {&s.locked_value, &s.valid_value}) {
    if (*block && (*block)->header.height != s.height) return Err{SignerStateError::kInconsistent};
  }
  if ((s.locked_round && *s.locked_round > s.round) || (s.valid_round && *s.valid_round > s.round))
    return Err{SignerStateError::kInconsistent};
  // A lock is always also the valid value of its round or a later one (L36-43).
  if (s.locked_round && (!s.valid_round || *s.valid_round < *s.locked_round))
    return Err{SignerStateError::kInconsistent};
  if (s.own_proposal && (s.own_proposal->height != s.height || s.own_proposal->round != s.round))
    return Err{SignerStateError::kInconsistent};
  for (const ledger::Vote& v : s.own_votes) {
    if (v.height != s.height || v.round != s.round) return Err{SignerStateError::kInconsistent};
  }
  // The left round's votes: one earlier round of this height, at most one vote per type.
  for (std::size_t i = 0; i < s.left_votes.size(); ++i) {
    const ledger::Vote& v = s.left_votes[i];
    if (v.height != s.height || !(v.round < s.round) || v.round != s.left_votes[0].round ||
        (i > 0 && v.type == s.left_votes[0].type))
      return Err{SignerStateError::kInconsistent};
  }
  if (!s.valid_polka.empty()) {
    if (!s.valid_value) return Err{SignerStateError::kBadPolka};
    const ledger::Hash256 id = ledger::block_hash(*s.valid_value);
    for (std::size_t i = 0; i < s.valid_polka.size(); ++i) {
      const ledger::Vote& v = s.valid_polka[i];
      const bool in_order = i == 0 || s.valid_polka[i - 1].validator < v.validator;
      if (v.type != ledger::VoteType::kPrevote || v.height != s.height ||
          v.round != *s.valid_round || v.block != id || !in_order) {
        return Err{SignerStateError::kBadPolka};
      }
    }
  }
  return s;
}

}  // namespace kmchain::consensus
