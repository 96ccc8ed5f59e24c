// Shared by the ledger fuzz targets and make_ledger_corpus: a fixed consortium of four gateways
// (Ed25519 seeds 32 * (i + 1), powers 1, 2, 3, 4: total 10, a quorum needs 7) and the sample
// messages the seed corpora are made of. A pure function of constants, so make_ledger_corpus
// (run once, its output committed under corpus/) and the targets agree: the seed certificates,
// votes and proposals verify against this genesis.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "fuzz_assert.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/proposal.h"
#include "ledger/transaction.h"
#include "ledger/vote.h"

namespace kmchain::fuzz {

inline constexpr std::uint16_t kLedgerValidators = 4;

inline crypto::Ed25519KeyPair ledger_key(std::uint16_t i) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(static_cast<std::uint8_t>(i + 1));
  return crypto::Ed25519KeyPair::from_seed(
      crypto::Secret256(std::span<const std::uint8_t, 32>(seed)));
}

struct LedgerFixture {
  ledger::Genesis genesis;
  ledger::Hash256 chain_id{};
};

inline const LedgerFixture& ledger_fixture() {
  static const LedgerFixture f = [] {
    LedgerFixture out;
    out.genesis.name = "kmchain-fuzz";
    out.genesis.genesis_time_ms = 1700000000000;
    for (std::uint16_t i = 0; i < kLedgerValidators; ++i) {
      out.genesis.validators.push_back(
          ledger::Validator{GatewayId{i}, ledger_key(i).public_key(), std::uint64_t{i} + 1});
    }
    KMCHAIN_FUZZ_ASSERT(ledger::validate_genesis(out.genesis).ok());
    out.chain_id = out.genesis.chain_id();
    return out;
  }();
  return f;
}

// Validator `index`'s public key, or nullptr if the consortium has no such validator.
inline const crypto::Ed25519PublicKey* public_key_of(GatewayId index) {
  const ledger::Validator* v = ledger_fixture().genesis.find(index);
  return v == nullptr ? nullptr : &v->public_key;
}

inline ledger::Transaction sample_transaction(std::uint32_t i) {
  ledger::Transaction tx{static_cast<ledger::Operation>(1 + i % 3),
                         NodeId{0x01000000 + i},
                         SetId{0x01000000 + i / 4},
                         {},
                         {}};
  for (std::size_t b = 0; b < tx.commitment.size(); ++b)
    tx.commitment[b] = static_cast<std::uint8_t>(i * 31 + b);
  auto key = tx.refresh_key.mutable_view();
  for (std::size_t b = 0; b < key.size(); ++b)
    key[b] = static_cast<std::uint8_t>(i * 17 + b);
  return tx;
}

// sample_transaction(i) signed by its home gateway (node ids of gateway 1), a leave with a
// consent-sized signature.
inline ledger::SignedTransaction sample_signed_transaction(std::uint32_t i) {
  const ledger::Transaction tx = sample_transaction(i);
  std::optional<crypto::Ed25519Signature> consent;
  if (tx.op == ledger::Operation::kLeave)
    consent = ledger_key(0).sign(ledger::leave_consent_bytes(ledger_fixture().chain_id, tx.node));
  return ledger::sign_transaction(ledger_key(1), ledger_fixture().chain_id, GatewayId{1}, tx,
                                  consent);
}

inline ledger::Block sample_block(std::uint64_t height, std::uint32_t transactions) {
  ledger::BlockHeader h;
  h.height = Height{height};
  h.previous_hash.fill(0xa5);
  h.state_hash.fill(0x5a);
  h.proposer = GatewayId{static_cast<std::uint16_t>(height % kLedgerValidators)};
  h.timestamp_ms = 1700000000000 + height * 1000;
  std::vector<ledger::SignedTransaction> txs;
  for (std::uint32_t i = 0; i < transactions; ++i)
    txs.push_back(sample_signed_transaction(i));
  return ledger::make_block(h, std::move(txs));
}

// A sample message of the seed corpora with the name of its seed.
template <class Message>
struct Named {
  std::string name;
  Message message;
};

// Signed samples of height 5 for `proposed`, which the ledger and the consensus corpora both
// start from: gateway 1's new proposal of round 0, gateway 3's re-proposal of round 2 with valid
// round 1.
inline std::vector<Named<ledger::Proposal>> sample_proposals(const ledger::Block& proposed) {
  const auto& f = ledger_fixture();
  std::vector<Named<ledger::Proposal>> out;
  out.push_back(
      {"proposal-new", ledger::sign_proposal(ledger_key(1), f.chain_id, Height{5}, Round{0},
                                             std::nullopt, proposed, GatewayId{1})});
  out.push_back(
      {"proposal-valid-round", ledger::sign_proposal(ledger_key(3), f.chain_id, Height{5}, Round{2},
                                                     Round{1}, proposed, GatewayId{3})});
  return out;
}

// Gateway 2's prevote and precommit of height 5, round 1, each for `block` and for nil.
inline std::vector<Named<ledger::Vote>> sample_votes(const ledger::Hash256& block) {
  const auto& f = ledger_fixture();
  std::vector<Named<ledger::Vote>> out;
  for (auto type : {ledger::VoteType::kPrevote, ledger::VoteType::kPrecommit}) {
    for (const std::optional<ledger::Hash256>& value :
         {std::optional<ledger::Hash256>{block}, std::optional<ledger::Hash256>{}}) {
      out.push_back({std::string(ledger::to_string(type)) + (value ? "-block" : "-nil"),
                     ledger::sign_vote(ledger_key(2), f.chain_id, type, Height{5}, Round{1}, value,
                                       GatewayId{2})});
    }
  }
  return out;
}

// Precommits for `block` at (height, round) from `signers`, in order.
inline ledger::CommitCertificate sample_certificate(std::uint64_t height, std::uint32_t round,
                                                    const ledger::Hash256& block,
                                                    const std::vector<std::uint16_t>& signers) {
  ledger::CommitCertificate c{Height{height}, Round{round}, block, {}};
  for (std::uint16_t s : signers) {
    const auto vote =
        ledger::sign_vote(ledger_key(s), ledger_fixture().chain_id, ledger::VoteType::kPrecommit,
                          c.height, c.round, block, GatewayId{s});
    c.precommits.emplace_back(GatewayId{s}, vote.signature);
  }
  return c;
}

}  // namespace kmchain::fuzz
