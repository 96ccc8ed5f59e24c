// Messages between gateways: one envelope around each thing a replica sends to its peers.
//
// Wire format, big-endian: a kind byte, then the body.
//
//   kind 1  proposal       ledger/proposal.h encoding (83 bytes, then the block)
//   kind 2  vote           ledger/vote.h encoding (81 or 113 bytes)
//   kind 3  commit         u32 block length, the block (ledger/block.h), then the commit
//                          certificate (ledger/certificate.h): a decided block for catch-up
//   kind 4  transaction    a signed transaction (ledger/signed_transaction.h), gossiped between
//                          mempools
//   kind 5  sync request   u64 height: "send me decided blocks from this height on"
//
// The envelope is authenticated by the gateway link (TLS in the daemon), but every proposal,
// vote and certificate carries its own signature and is checked on its own: a relaying peer
// is trusted for nothing. decode_message rejects any malformed input with a typed error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/proposal.h"
#include "ledger/signed_transaction.h"
#include "ledger/vote.h"

namespace kmchain::consensus {

struct CommitMessage {
  ledger::Block block;
  ledger::CommitCertificate certificate;

  friend bool operator==(const CommitMessage&, const CommitMessage&) = default;
};

struct SyncRequest {
  Height from;

  friend bool operator==(const SyncRequest&, const SyncRequest&) = default;
};

using Message = std::variant<ledger::Proposal, ledger::Vote, CommitMessage,
                             ledger::SignedTransaction, SyncRequest>;

enum class MessageKind : std::uint8_t {
  kProposal = 1,
  kVote = 2,
  kCommit = 3,
  kTransaction = 4,
  kSyncRequest = 5,
};

// The largest message: a commit of a full block with a full certificate.
inline constexpr std::size_t kMessageBytesMax =
    1 + 4 + limits::kBlockBytesMax + ledger::kCertificateBytesMax;

enum class MessageErrorCode : std::uint8_t {
  kEmpty = 1,           // no kind byte
  kUnknownKind = 2,     // a kind byte this version does not know
  kTooLarge = 3,        // above kMessageBytesMax
  kBadProposal = 4,     // the body does not decode as a proposal
  kBadVote = 5,         // ... as a vote
  kBadBlock = 6,        // a commit whose block does not decode or overruns the message
  kBadCertificate = 7,  // a commit whose certificate does not decode
  kBadTransaction = 8,  // ... as a transaction
  kBadSyncRequest = 9,  // not exactly 8 bytes of height
};
const char* to_string(MessageErrorCode code);

struct MessageError {
  MessageErrorCode code{};
  // The inner decoder's error, by its own enum value, for the kBad* codes (0 otherwise).
  std::uint8_t detail = 0;

  friend bool operator==(const MessageError&, const MessageError&) = default;
};
std::string to_string(const MessageError& e);

MessageKind kind_of(const Message& message);
Bytes encode(const Message& message);
Result<Message, MessageError> decode_message(ByteView bytes);

}  // namespace kmchain::consensus
