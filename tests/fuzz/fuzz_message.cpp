// consensus::decode_message on arbitrary bytes: never crashes; whatever it accepts, of every
// kind (proposal, vote, commit, transaction, sync request), encodes back to exactly the input
// bytes and carries the kind of its first byte. What it refuses, it refuses with the code the
// envelope's layout calls for: kEmpty for no bytes, kTooLarge above kMessageBytesMax,
// kUnknownKind (the kind byte as detail) for a kind outside 1..5, and otherwise the kBad* code
// of the kind, agreeing with the inner decoder run on the body alone. Accepted proposals, votes
// and commits are also verified against the fixed consortium (ledger_fuzz_fixture.h), which
// must not crash either.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "consensus/message.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;
using consensus::MessageErrorCode;

namespace {

void check_accepted(const consensus::Message& message, ByteView input) {
  const auto& f = fuzz::ledger_fixture();
  KMCHAIN_FUZZ_ASSERT(static_cast<std::uint8_t>(consensus::kind_of(message)) == input[0]);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(consensus::encode(message), input));

  const ByteView body = input.subspan(1);
  if (const auto* p = std::get_if<ledger::Proposal>(&message)) {
    KMCHAIN_FUZZ_ASSERT(body.size() >= ledger::kProposalFixedBytes);
    if (const auto* key = fuzz::public_key_of(p->proposer))
      (void)ledger::verify_proposal(*key, f.chain_id, *p);
  } else if (const auto* v = std::get_if<ledger::Vote>(&message)) {
    KMCHAIN_FUZZ_ASSERT(body.size() ==
                        (v->block ? ledger::kVoteBlockBytes : ledger::kVoteNilBytes));
    if (const auto* key = fuzz::public_key_of(v->validator))
      (void)ledger::verify_vote(*key, f.chain_id, *v);
  } else if (const auto* c = std::get_if<consensus::CommitMessage>(&message)) {
    (void)ledger::verify_commit(f.genesis, c->block, c->certificate);
  } else if (const auto* t = std::get_if<ledger::SignedTransaction>(&message)) {
    KMCHAIN_FUZZ_ASSERT(body.size() == ledger::encoded_size(*t));
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*t), body));
  } else {
    KMCHAIN_FUZZ_ASSERT(body.size() == 8);
  }
}

void check_refused(const consensus::MessageError& e, ByteView input) {
  if (input.empty()) {
    KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kEmpty);
    return;
  }
  if (input.size() > consensus::kMessageBytesMax) {
    KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kTooLarge);
    return;
  }
  const ByteView body = input.subspan(1);
  switch (input[0]) {
    case 1:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kBadProposal);
      KMCHAIN_FUZZ_ASSERT(!ledger::decode_proposal(body));
      break;
    case 2:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kBadVote);
      KMCHAIN_FUZZ_ASSERT(!ledger::decode_vote(body));
      break;
    case 3:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kBadBlock ||
                          e.code == MessageErrorCode::kBadCertificate);
      break;
    case 4:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kBadTransaction);
      KMCHAIN_FUZZ_ASSERT(!ledger::decode_signed_transaction(body));
      break;
    case 5:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kBadSyncRequest);
      KMCHAIN_FUZZ_ASSERT(body.size() != 8);
      break;
    default:
      KMCHAIN_FUZZ_ASSERT(e.code == MessageErrorCode::kUnknownKind);
      KMCHAIN_FUZZ_ASSERT(e.detail == input[0]);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto message = consensus::decode_message(input);
  if (message) {
    check_accepted(*message, input);
  } else {
    check_refused(message.error(), input);
  }
  return 0;
}
