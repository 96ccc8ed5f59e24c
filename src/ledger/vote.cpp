#include "ledger/vote.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::ledger {

const char* to_string(VoteType type) {
  switch (type) {
    case VoteType::kPrevote:
      return "prevote";
    case VoteType::kPrecommit:
      return "precommit";
  }
  return "unknown";
}

const char* to_string(VoteError e) {
  switch (e) {
    case VoteError::kTruncated:
      return "truncated";
    case VoteError::kBadVersion:
      return "bad version";
    case VoteError::kUnknownType:
      return "unknown vote type";
    case VoteError::kBadBlockFlag:
      return "bad block flag";
    case VoteError::kTrailingBytes:
      return "trailing bytes";
  }
  return "unknown vote error";
}

namespace {

constexpr std::uint8_t kNil = 0;
constexpr std::uint8_t kSomeBlock = 1;

bool is_vote_type(std::uint8_t byte) {
  return byte == static_cast<std::uint8_t>(VoteType::kPrevote) ||
         byte == static_cast<std::uint8_t>(VoteType::kPrecommit);
}

void write_block(codec::ByteWriter& w, const std::optional<Hash256>& block) {
  w.u8(block ? kSomeBlock : kNil);
  if (block) w.raw(*block);
}

}  // namespace

Bytes vote_sign_bytes(const Hash256& chain_id, VoteType type, Height height, Round round,
                      const std::optional<Hash256>& block, GatewayId validator) {
  KMCHAIN_CHECK(is_vote_type(static_cast<std::uint8_t>(type)));
  Bytes out;
  out.reserve(domain::kVote.size() + 32 + kVoteBlockBytes);
  codec::ByteWriter w(out);
  w.raw(as_bytes(domain::kVote));
  w.raw(chain_id);
  w.u8(static_cast<std::uint8_t>(type));
  w.u64(height.value());
  w.u32(round.value());
  write_block(w, block);
  w.u16(validator.value());
  return out;
}

Vote sign_vote(const crypto::Ed25519KeyPair& key, const Hash256& chain_id, VoteType type,
               Height height, Round round, const std::optional<Hash256>& block,
               GatewayId validator) {
  Vote vote{type, height, round, block, validator, {}};
  vote.signature = key.sign(vote_sign_bytes(chain_id, type, height, round, block, validator));
  return vote;
}

bool verify_vote(const crypto::Ed25519PublicKey& public_key, const Hash256& chain_id,
                 const Vote& vote) {
  if (!is_vote_type(static_cast<std::uint8_t>(vote.type))) return false;
  return crypto::ed25519_verify(
      public_key,
      vote_sign_bytes(chain_id, vote.type, vote.height, vote.round, vote.block, vote.validator),
      vote.signature);
}

Bytes encode(const Vote& vote) {
  KMCHAIN_CHECK(is_vote_type(static_cast<std::uint8_t>(vote.type)));
  Bytes out;
  out.reserve(kVoteBlockBytes);
  codec::ByteWriter w(out);
  w.u8(kVoteVersion);
  w.u8(static_cast<std::uint8_t>(vote.type));
  w.u64(vote.height.value());
  w.u32(vote.round.value());
  write_block(w, vote.block);
  w.u16(vote.validator.value());
  w.raw(vote.signature);
  return out;
}

Result<Vote, VoteError> decode_vote(ByteView bytes) {
  if (bytes.size() < kVoteNilBytes) return Err{VoteError::kTruncated};
  codec::ByteReader r(bytes);
  if (r.u8() != kVoteVersion) return Err{VoteError::kBadVersion};
  const std::uint8_t type = r.u8();
  if (!is_vote_type(type)) return Err{VoteError::kUnknownType};
  Vote vote{static_cast<VoteType>(type), Height{r.u64()}, Round{r.u32()}, std::nullopt, {}, {}};
  const std::uint8_t flag = r.u8();
  if (flag != kNil && flag != kSomeBlock) return Err{VoteError::kBadBlockFlag};
  const std::size_t expected = flag == kSomeBlock ? kVoteBlockBytes : kVoteNilBytes;
  if (bytes.size() < expected) return Err{VoteError::kTruncated};
  if (bytes.size() > expected) return Err{VoteError::kTrailingBytes};
  if (flag == kSomeBlock) {
    Hash256 block{};
    r.raw(block);
    vote.block = block;
  }
  vote.validator = GatewayId{r.u16()};
  r.raw(vote.signature);
  KMCHAIN_CHECK(r.at_end());
  return vote;
}

}  // namespace kmchain::ledger
