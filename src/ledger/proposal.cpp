#include "ledger/proposal.h"

#include <utility>

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::ledger {

const char* to_string(ProposalErrorCode code) {
  switch (code) {
    case ProposalErrorCode::kTruncated:
      return "truncated";
    case ProposalErrorCode::kBadVersion:
      return "bad version";
    case ProposalErrorCode::kBadValidRound:
      return "valid round not below round";
    case ProposalErrorCode::kBadBlock:
      return "bad block";
    case ProposalErrorCode::kHeightMismatch:
      return "block height is not the proposal's";
  }
  return "unknown proposal error";
}

std::string to_string(const ProposalError& e) {
  if (e.code != ProposalErrorCode::kBadBlock) return to_string(e.code);
  return std::string("bad block: ") + to_string(e.block);
}

namespace {

bool valid_round_ok(Round round, std::optional<Round> valid_round) {
  return !valid_round || *valid_round < round;
}

std::uint32_t wire_valid_round(std::optional<Round> valid_round) {
  return valid_round ? valid_round->value() : kNoValidRound;
}

}  // namespace

Bytes proposal_sign_bytes(const Hash256& chain_id, Height height, Round round,
                          std::optional<Round> valid_round, const Hash256& block_hash,
                          GatewayId proposer) {
  KMCHAIN_CHECK(valid_round_ok(round, valid_round));
  Bytes out;
  out.reserve(domain::kProposal.size() + 32 + 8 + 4 + 4 + 32 + 2);
  codec::ByteWriter w(out);
  w.raw(as_bytes(domain::kProposal));
  w.raw(chain_id);
  w.u64(height.value());
  w.u32(round.value());
  w.u32(wire_valid_round(valid_round));
  w.raw(block_hash);
  w.u16(proposer.value());
  return out;
}

Proposal sign_proposal(const crypto::Ed25519KeyPair& key, const Hash256& chain_id, Height height,
                       Round round, std::optional<Round> valid_round, Block block,
                       GatewayId proposer) {
  KMCHAIN_CHECK(block.header.height == height);
  const Hash256 hash = block_hash(block);
  Proposal p{height, round, valid_round, std::move(block), proposer, {}};
  p.signature = key.sign(proposal_sign_bytes(chain_id, height, round, valid_round, hash, proposer));
  return p;
}

bool verify_proposal(const crypto::Ed25519PublicKey& public_key, const Hash256& chain_id,
                     const Proposal& proposal) {
  // An in-memory proposal can break what decode_proposal guarantees; refuse rather than check.
  if (!valid_round_ok(proposal.round, proposal.valid_round)) return false;
  return crypto::ed25519_verify(
      public_key,
      proposal_sign_bytes(chain_id, proposal.height, proposal.round, proposal.valid_round,
                          block_hash(proposal.block), proposal.proposer),
      proposal.signature);
}

Bytes encode(const Proposal& proposal) {
  KMCHAIN_CHECK(valid_round_ok(proposal.round, proposal.valid_round));
  const Bytes block = encode(proposal.block);
  Bytes out;
  out.reserve(kProposalFixedBytes + block.size());
  codec::ByteWriter w(out);
  w.u8(kProposalVersion);
  w.u64(proposal.height.value());
  w.u32(proposal.round.value());
  w.u32(wire_valid_round(proposal.valid_round));
  w.u16(proposal.proposer.value());
  w.raw(proposal.signature);
  KMCHAIN_CHECK(out.size() == kProposalFixedBytes);
  w.raw(block);
  return out;
}

Result<Proposal, ProposalError> decode_proposal(ByteView bytes) {
  // A short block is the block's error (kBadBlock with kTruncated).
  if (bytes.size() < kProposalFixedBytes) return Err{ProposalError{ProposalErrorCode::kTruncated}};
  codec::ByteReader r(bytes);
  if (r.u8() != kProposalVersion) return Err{ProposalError{ProposalErrorCode::kBadVersion}};
  const Height height{r.u64()};
  const Round round{r.u32()};
  const std::uint32_t wire_valid = r.u32();
  const std::optional<Round> valid_round =
      wire_valid == kNoValidRound ? std::nullopt : std::optional<Round>(Round{wire_valid});
  if (!valid_round_ok(round, valid_round)) {
    return Err{ProposalError{ProposalErrorCode::kBadValidRound}};
  }
  const GatewayId proposer{r.u16()};
  crypto::Ed25519Signature signature{};
  r.raw(signature);
  KMCHAIN_CHECK(r.ok());
  auto block = decode_block(r.view(r.remaining()));
  if (!block) return Err{ProposalError{ProposalErrorCode::kBadBlock, block.error()}};
  if (block->header.height != height) {
    return Err{ProposalError{ProposalErrorCode::kHeightMismatch}};
  }
  return Proposal{height, round, valid_round, std::move(*block), proposer, signature};
}

}  // namespace kmchain::ledger
