#include "sim/trace.h"

#include <fmt/format.h>

#include "consensus/message.h"

namespace kmchain::sim {

namespace {

std::string short_hash(const ledger::Hash256& h) {
  return fmt::format("{:02x}{:02x}{:02x}", h[0], h[1], h[2]);
}

}  // namespace

std::string describe_message(const Bytes& bytes) {
  auto decoded = consensus::decode_message(bytes);
  if (!decoded) return "undecodable";
  const consensus::Message& m = *decoded;
  if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
    return fmt::format("proposal h{} r{} vr{} by {} block {}", p->height.value(), p->round.value(),
                       p->valid_round ? static_cast<std::int64_t>(p->valid_round->value()) : -1,
                       p->proposer.value(), short_hash(ledger::block_hash(p->block)));
  }
  if (const auto* v = std::get_if<ledger::Vote>(&m)) {
    return fmt::format("{} h{} r{} by {} for {}",
                       v->type == ledger::VoteType::kPrevote ? "prevote" : "precommit",
                       v->height.value(), v->round.value(), v->validator.value(),
                       v->block ? short_hash(*v->block) : "nil");
  }
  if (const auto* c = std::get_if<consensus::CommitMessage>(&m))
    return fmt::format("commit h{}", c->block.header.height.value());
  if (std::holds_alternative<ledger::SignedTransaction>(m)) return "transaction";
  return "sync-request";
}

std::string describe_engine(const consensus::Engine& e) {
  const auto& s = e.signer_state();
  return fmt::format("h{} r{} {} lock {} valid {}{}", e.height().value(), e.round().value(),
                     consensus::to_string(e.step()),
                     s.locked_value ? fmt::format("r{}:{}", s.locked_round->value(),
                                                  short_hash(ledger::block_hash(*s.locked_value)))
                                    : "-",
                     s.valid_value ? fmt::format("r{}:{}", s.valid_round->value(),
                                                 short_hash(ledger::block_hash(*s.valid_value)))
                                   : "-",
                     e.decided() ? " decided" : "");
}

}  // namespace kmchain::sim
