#include "consensus/message.h"

#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::consensus {

const char* to_string(MessageErrorCode code) {
  switch (code) {
    case MessageErrorCode::kEmpty:
      return "empty message";
    case MessageErrorCode::kUnknownKind:
      return "unknown message kind";
    case MessageErrorCode::kTooLarge:
      return "message too large";
    case MessageErrorCode::kBadProposal:
      return "bad proposal";
    case MessageErrorCode::kBadVote:
      return "bad vote";
    case MessageErrorCode::kBadBlock:
      return "bad block in commit";
    case MessageErrorCode::kBadCertificate:
      return "bad certificate in commit";
    case MessageErrorCode::kBadTransaction:
      return "bad transaction";
    case MessageErrorCode::kBadSyncRequest:
      return "bad sync request";
  }
  return "unknown message error";
}

std::string to_string(const MessageError& e) {
  std::string s = to_string(e.code);
  if (e.detail != 0) s += " (" + std::to_string(e.detail) + ")";
  return s;
}

MessageKind kind_of(const Message& message) {
  return static_cast<MessageKind>(message.index() + 1);
}

namespace {

void append(Bytes& out, const Bytes& body) {
  codec::ByteWriter(out).raw(body);
}

}  // namespace

Bytes encode(const Message& message) {
  Bytes out;
  codec::ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(kind_of(message)));
  if (const auto* p = std::get_if<ledger::Proposal>(&message)) {
    append(out, ledger::encode(*p));
  } else if (const auto* v = std::get_if<ledger::Vote>(&message)) {
    append(out, ledger::encode(*v));
  } else if (const auto* c = std::get_if<CommitMessage>(&message)) {
    const Bytes block = ledger::encode(c->block);
    w.u32(static_cast<std::uint32_t>(block.size()));
    append(out, block);
    append(out, ledger::encode(c->certificate));
  } else if (const auto* t = std::get_if<ledger::SignedTransaction>(&message)) {
    append(out, ledger::encode(*t));
  } else if (const auto* s = std::get_if<SyncRequest>(&message)) {
    w.u64(s->from.value());
  }
  return out;
}

Result<Message, MessageError> decode_message(ByteView bytes) {
  if (bytes.empty()) return Err{MessageError{MessageErrorCode::kEmpty}};
  if (bytes.size() > kMessageBytesMax) return Err{MessageError{MessageErrorCode::kTooLarge}};
  const ByteView body = bytes.subspan(1);
  switch (static_cast<MessageKind>(bytes[0])) {
    case MessageKind::kProposal: {
      auto p = ledger::decode_proposal(body);
      if (!p) {
        return Err{MessageError{MessageErrorCode::kBadProposal,
                                static_cast<std::uint8_t>(p.error().code)}};
      }
      return Message{std::move(p).value()};
    }
    case MessageKind::kVote: {
      auto v = ledger::decode_vote(body);
      if (!v) {
        return Err{MessageError{MessageErrorCode::kBadVote, static_cast<std::uint8_t>(v.error())}};
      }
      return Message{std::move(v).value()};
    }
    case MessageKind::kCommit: {
      codec::ByteReader r(body);
      const std::uint32_t block_bytes = r.u32();
      const ByteView block_view = r.view(block_bytes);
      if (!r.ok()) return Err{MessageError{MessageErrorCode::kBadBlock}};
      auto block = ledger::decode_block(block_view);
      if (!block) {
        return Err{MessageError{MessageErrorCode::kBadBlock,
                                static_cast<std::uint8_t>(block.error().code)}};
      }
      auto certificate = ledger::decode_certificate(body.subspan(r.position()));
      if (!certificate) {
        return Err{MessageError{MessageErrorCode::kBadCertificate,
                                static_cast<std::uint8_t>(certificate.error().code)}};
      }
      return Message{CommitMessage{std::move(block).value(), std::move(certificate).value()}};
    }
    case MessageKind::kTransaction: {
      auto t = ledger::decode_signed_transaction(body);
      if (!t) {
        return Err{
            MessageError{MessageErrorCode::kBadTransaction, static_cast<std::uint8_t>(t.error())}};
      }
      return Message{std::move(t).value()};
    }
    case MessageKind::kSyncRequest: {
      if (body.size() != 8) return Err{MessageError{MessageErrorCode::kBadSyncRequest}};
      codec::ByteReader r(body);
      return Message{SyncRequest{Height{r.u64()}}};
    }
  }
  return Err{MessageError{MessageErrorCode::kUnknownKind, bytes[0]}};
}

}  // namespace kmchain::consensus
