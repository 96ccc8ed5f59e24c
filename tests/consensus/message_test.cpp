// The message envelope (consensus/message.h): every kind round-trips through encode and
// decode_message, every truncation of every encoding is refused with the kind's typed error
// (never a crash), and the envelope's own failures (empty, unknown kind, too large, a commit
// whose block length lies, a sync request of the wrong length) have their codes.
#include "consensus/message.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger_fixture.h"

namespace kmchain::consensus {
namespace {

using ledger::fixture::certify;
using ledger::fixture::make_genesis;
using ledger::fixture::sample_block;
using ledger::fixture::sample_signed_tx;
using ledger::fixture::validator_key;

const ledger::Genesis& genesis() {
  static const ledger::Genesis g = make_genesis({1, 1, 1, 1});
  return g;
}

const ledger::Hash256& chain_id() {
  static const ledger::Hash256 id = genesis().chain_id();
  return id;
}

// sample_block() is at height 7 with proposer 3.
ledger::Proposal sample_proposal(std::optional<Round> valid_round = std::nullopt) {
  return ledger::sign_proposal(validator_key(3), chain_id(), Height{7}, Round{2}, valid_round,
                               sample_block(), GatewayId{3});
}

ledger::Vote sample_vote(bool nil) {
  const std::optional<ledger::Hash256> value =
      nil ? std::nullopt : std::optional(ledger::block_hash(sample_block()));
  return ledger::sign_vote(validator_key(1), chain_id(), ledger::VoteType::kPrecommit, Height{7},
                           Round{2}, value, GatewayId{1});
}

CommitMessage sample_commit() {
  const ledger::Block block = sample_block();
  return CommitMessage{
      block, certify(chain_id(), Height{7}, Round{2}, ledger::block_hash(block), {0, 1, 3})};
}

// The envelope's encoding (plain encode() of a ledger type would find ledger::encode by ADL).
Bytes wire(const Message& message) {
  return encode(message);
}

struct Sample {
  std::string name;
  Message message;
  MessageErrorCode truncated;  // what a cut body decodes to (commits: see expected_cut)
};

std::vector<Sample> samples() {
  return {
      {"proposal", sample_proposal(), MessageErrorCode::kBadProposal},
      {"reproposal", sample_proposal(Round{1}), MessageErrorCode::kBadProposal},
      {"nil vote", sample_vote(true), MessageErrorCode::kBadVote},
      {"block vote", sample_vote(false), MessageErrorCode::kBadVote},
      {"commit", sample_commit(), MessageErrorCode::kBadBlock},
      {"commit, empty block", CommitMessage{sample_block(0), sample_commit().certificate},
       MessageErrorCode::kBadBlock},
      {"transaction", sample_signed_tx(1), MessageErrorCode::kBadTransaction},
      {"sync request", SyncRequest{Height{0x0102030405060708}}, MessageErrorCode::kBadSyncRequest},
  };
}

TEST(Message, EveryKindRoundTrips) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    const Bytes bytes = encode(s.message);
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(bytes[0], static_cast<std::uint8_t>(kind_of(s.message)));
    auto decoded = decode_message(bytes);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, s.message);
    EXPECT_EQ(kind_of(*decoded), kind_of(s.message));
    EXPECT_EQ(encode(*decoded), bytes);
  }
}

TEST(Message, KindsAndLayoutsAreTheDocumentedOnes) {
  EXPECT_EQ(kind_of(sample_proposal()), MessageKind::kProposal);
  EXPECT_EQ(kind_of(sample_vote(true)), MessageKind::kVote);
  EXPECT_EQ(kind_of(sample_commit()), MessageKind::kCommit);
  EXPECT_EQ(kind_of(sample_signed_tx(0)), MessageKind::kTransaction);
  EXPECT_EQ(kind_of(SyncRequest{Height{1}}), MessageKind::kSyncRequest);

  EXPECT_EQ(wire(sample_vote(true)).size(), 1 + ledger::kVoteNilBytes);
  EXPECT_EQ(wire(sample_vote(false)).size(), 1 + ledger::kVoteBlockBytes);
  EXPECT_EQ(wire(sample_signed_tx(2)).size(), 1 + ledger::kSignedTransactionBytes);
  EXPECT_EQ(wire(sample_signed_tx(1)).size(), 1 + ledger::kSignedTransactionWithConsentBytes);
  const Bytes sync = wire(SyncRequest{Height{0x0102030405060708}});
  EXPECT_EQ(sync, (Bytes{5, 1, 2, 3, 4, 5, 6, 7, 8}));
  // A commit: kind, u32 block length, block, certificate.
  const CommitMessage c = sample_commit();
  const Bytes block = ledger::encode(c.block);
  const Bytes certificate = ledger::encode(c.certificate);
  const Bytes bytes = wire(c);
  ASSERT_EQ(bytes.size(), 1 + 4 + block.size() + certificate.size());
  EXPECT_EQ(ledger::fixture::be_at(bytes, 1, 4), block.size());
  EXPECT_EQ(Bytes(bytes.begin() + 5, bytes.begin() + 5 + static_cast<std::ptrdiff_t>(block.size())),
            block);
}

TEST(Message, EveryTruncationFailsWithATypedError) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    const Bytes bytes = encode(s.message);
    std::size_t block_end = 0;  // commits: the body offset where the certificate starts
    if (const auto* c = std::get_if<CommitMessage>(&s.message))
      block_end = 1 + 4 + ledger::encode(c->block).size();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      SCOPED_TRACE(n);
      auto decoded = decode_message(ByteView(bytes).first(n));
      ASSERT_FALSE(decoded.ok());
      if (n == 0) {
        EXPECT_EQ(decoded.error().code, MessageErrorCode::kEmpty);
        continue;
      }
      MessageErrorCode expected = s.truncated;
      if (block_end != 0 && n >= block_end) expected = MessageErrorCode::kBadCertificate;
      EXPECT_EQ(decoded.error().code, expected) << to_string(decoded.error());
    }
  }
}

TEST(Message, TruncationDetailsNameTheInnerDecodersError) {
  const Bytes vote = wire(sample_vote(false));
  auto v = decode_message(ByteView(vote).first(vote.size() - 1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), (MessageError{MessageErrorCode::kBadVote,
                                     static_cast<std::uint8_t>(ledger::VoteError::kTruncated)}));
  const Bytes proposal = wire(sample_proposal());
  auto p = decode_message(ByteView(proposal).first(40));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(),
            (MessageError{MessageErrorCode::kBadProposal,
                          static_cast<std::uint8_t>(ledger::ProposalErrorCode::kTruncated)}));
  const Bytes tx = wire(sample_signed_tx(0));
  auto t = decode_message(ByteView(tx).first(tx.size() - 1));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(),
            (MessageError{MessageErrorCode::kBadTransaction,
                          static_cast<std::uint8_t>(ledger::SignedTxError::kWrongLength)}));
  const Bytes commit = wire(sample_commit());
  auto c = decode_message(ByteView(commit).first(commit.size() - 1));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(),
            (MessageError{MessageErrorCode::kBadCertificate,
                          static_cast<std::uint8_t>(ledger::CertificateErrorCode::kTruncated)}));
  EXPECT_EQ(to_string(c.error()),
            std::string(to_string(MessageErrorCode::kBadCertificate)) + " (1)");
}

TEST(Message, EmptyIsRefused) {
  auto decoded = decode_message(ByteView{});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), MessageError{MessageErrorCode::kEmpty});
}

TEST(Message, UnknownKindIsRefusedWithTheByte) {
  for (std::uint8_t kind :
       {std::uint8_t{0}, std::uint8_t{6}, std::uint8_t{0x7f}, std::uint8_t{0xff}}) {
    SCOPED_TRACE(static_cast<int>(kind));
    Bytes bytes = wire(sample_signed_tx(0));
    bytes[0] = kind;
    auto decoded = decode_message(bytes);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), (MessageError{MessageErrorCode::kUnknownKind, kind}));
    auto alone = decode_message(Bytes{kind});
    ASSERT_FALSE(alone.ok());
    EXPECT_EQ(alone.error().code, MessageErrorCode::kUnknownKind);
  }
}

TEST(Message, TooLargeIsRefusedBeforeLookingInside) {
  Bytes bytes(kMessageBytesMax + 1, 0);
  bytes[0] = static_cast<std::uint8_t>(MessageKind::kSyncRequest);
  auto decoded = decode_message(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), MessageError{MessageErrorCode::kTooLarge});
  // Exactly at the bound the body is judged by its kind.
  bytes.pop_back();
  auto at_bound = decode_message(bytes);
  ASSERT_FALSE(at_bound.ok());
  EXPECT_EQ(at_bound.error().code, MessageErrorCode::kBadSyncRequest);
}

TEST(Message, CommitWhoseBlockLengthOverrunsIsABadBlock) {
  const Bytes bytes = wire(sample_commit());
  const std::size_t rest = bytes.size() - 5;
  for (std::uint64_t length :
       {std::uint64_t{rest + 1}, std::uint64_t{rest + 1000}, std::uint64_t{0xffffffff}}) {
    SCOPED_TRACE(length);
    Bytes b = bytes;
    for (std::size_t i = 0; i < 4; ++i)
      b[1 + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
    auto decoded = decode_message(b);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), MessageError{MessageErrorCode::kBadBlock});
  }
}

TEST(Message, CommitWhoseBlockLengthIsWrongButInsideIsABadBlock) {
  const CommitMessage c = sample_commit();
  const std::size_t block = ledger::encode(c.block).size();
  const Bytes bytes = wire(c);
  auto with_length = [&](std::size_t length) {
    Bytes b = bytes;
    for (std::size_t i = 0; i < 4; ++i)
      b[1 + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
    return b;
  };
  // Longer: the block's view takes certificate bytes, which the block decoder refuses.
  auto longer = decode_message(with_length(block + 10));
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error(),
            (MessageError{MessageErrorCode::kBadBlock,
                          static_cast<std::uint8_t>(ledger::BlockErrorCode::kTrailingBytes)}));
  // Shorter: the block is cut.
  auto shorter = decode_message(with_length(block - 1));
  ASSERT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.error(),
            (MessageError{MessageErrorCode::kBadBlock,
                          static_cast<std::uint8_t>(ledger::BlockErrorCode::kTruncated)}));
  auto zero = decode_message(with_length(0));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, MessageErrorCode::kBadBlock);
}

TEST(Message, CommitWithTrailingBytesIsABadCertificate) {
  Bytes bytes = wire(sample_commit());
  bytes.push_back(0);
  auto decoded = decode_message(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(
      decoded.error(),
      (MessageError{MessageErrorCode::kBadCertificate,
                    static_cast<std::uint8_t>(ledger::CertificateErrorCode::kTrailingBytes)}));
}

TEST(Message, SyncRequestOfTheWrongLengthIsRefused) {
  for (std::size_t body :
       {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{9}, std::size_t{16}}) {
    SCOPED_TRACE(body);
    Bytes bytes(1 + body, 0x11);
    bytes[0] = static_cast<std::uint8_t>(MessageKind::kSyncRequest);
    auto decoded = decode_message(bytes);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), MessageError{MessageErrorCode::kBadSyncRequest});
  }
  Bytes eight{5, 0, 0, 0, 0, 0, 0, 0, 42};
  auto ok = decode_message(eight);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<SyncRequest>(*ok).from, Height{42});
}

TEST(Message, ErrorCodesHaveNames) {
  for (std::uint8_t c = 1; c <= 9; ++c) {
    EXPECT_STRNE(to_string(static_cast<MessageErrorCode>(c)), "unknown message error") << int{c};
  }
  EXPECT_EQ(to_string(MessageError{MessageErrorCode::kEmpty}), "empty message");
}

// Any bytes behind any kind byte: decoding returns (a value or a typed error), never crashes,
// and what decodes encodes back to the same bytes (every layout is canonical).
RC_GTEST_PROP(MessageProperty, ArbitraryBytesNeverCrash, ()) {
  const auto kind = *rc::gen::inRange<std::uint8_t>(0, 7);
  const auto body = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
  Bytes bytes;
  bytes.reserve(body.size() + 1);
  bytes.push_back(kind);
  for (std::uint8_t b : body)
    bytes.push_back(b);
  auto decoded = decode_message(bytes);
  if (decoded.ok()) RC_ASSERT(encode(*decoded) == bytes);
}

// Single-byte corruptions of valid encodings: a value or a typed error, never a crash.
TEST(Message, SingleByteCorruptionsNeverCrash) {
  for (const Sample& s : samples()) {
    const Bytes bytes = encode(s.message);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      auto decoded = decode_message(
          ledger::fixture::with_byte(bytes, i, static_cast<std::uint8_t>(bytes[i] ^ 0x80)));
      if (decoded.ok()) {
        EXPECT_NE(*decoded, s.message) << s.name << " byte " << i;
      }
    }
  }
}

}  // namespace
}  // namespace kmchain::consensus
