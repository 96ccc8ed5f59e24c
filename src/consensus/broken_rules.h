// The rules of the engine, the replica and the block and certificate checks that a build with
// fault injection (base/fault_injection.h) can break on purpose, one at a time, to measure
// what the consensus simulator's checks catch: every rule labelled in the engine (L11 ... L65),
// the quorum, the WAL, every signature and certificate check and every validity check of a
// proposal or synced block. docs/consensus.md tables which check catches each, at which seeds.
//
// Outside fault-injection builds nothing consults the set: every KMCHAIN_FAULT(...) is the
// constant false and the broken code is not compiled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string_view>

namespace kmchain::consensus {

enum class Rule : std::uint8_t {
  // The engine (Algorithm 1 of "The latest gossip on BFT consensus").
  kStartRoundKeepsVotes,      // L11: a new round keeps the last round's own votes
  kProposeIgnoresValidValue,  // L14-16: the proposer proposes a new block despite a valid one
  kNoProposeTimeout,          // L21: no propose timeout is scheduled
  kIgnoreLock,                // L22/L28: prevote any valid proposal, locked or not
  kPrevoteInvalidBlock,       // L22-27: prevote a new proposal without valid(v)
  kReproposalWithoutPolka,    // L28-33: prevote a re-proposal without its polka at vr
  kNoPrevoteTimeout,          // L34-35: no prevote timeout after 2f+1 prevotes for anything
  kLockOnOneThird,            // L36-43: lock and precommit on f+1 prevotes
  kNoNilPrecommit,            // L44-46: 2f+1 nil prevotes do not precommit nil
  kNoPrecommitTimeout,        // L47-48: no precommit timeout after 2f+1 precommits
  kDecideOnOneThird,          // L49-54: decide on f+1 precommits
  kRoundSkipOnOne,            // L55-56: skip to a round any one validator reached
  kNoRoundSkip,               // L55-56: never skip rounds
  kProposeTimeoutIgnored,     // L57-60: the propose timeout does nothing
  kPrevoteTimeoutIgnored,     // L61-64: the prevote timeout does nothing
  kPrecommitTimeoutIgnored,   // L65-67: the precommit timeout does nothing
  kTwoThirdsQuorum,           // the quorum: 2/3 of the power rounded down
  // The WAL: what a restart resumes from.
  kSkipWal,              // sign and send without persisting first
  kRestoreForgetsLock,   // resume the height without the lock
  kRestoreForgetsVotes,  // resume the recorded round from its start, votes forgotten
  // Messages from peers.
  kSkipVoteSignature,      // a vote's signature is not checked
  kSkipProposalSignature,  // a proposal's signature is not checked
  kSkipProposerCheck,      // a proposal from a validator not the round's proposer counts
  // Blocks learnt by sync, with their commit certificates.
  kCertificateSkipsSignatures,  // the precommits' signatures are not checked
  kCertificateShortQuorum,      // any power of signed precommits is enough
  kCertificateAnyBlock,         // the certificate need not be for this block and height
  kSyncSkipsValidity,           // a synced block is not checked with valid(v)
  // valid(v): a proposed or synced block.
  kSkipHeightCheck,       // the header's height
  kSkipPreviousHash,      // the previous block's hash
  kSkipStateHash,         // the state hash before the block
  kSkipProposerKnown,     // the header's proposer is a validator
  kSkipTimestampOrder,    // the timestamp after the previous block's
  kSkipTimestampDrift,    // the timestamp at most clock_drift_max_ms ahead
  kSkipTransactionLimit,  // at most block_transactions_max transactions
  kSkipContract,          // every transaction passes the contract
  kCount,
};

struct RuleInfo {
  Rule rule;
  std::string_view name;   // for --inject-fault
  std::string_view label;  // where it is: "L22", "WAL", "valid(v)", ...
  std::string_view broken;
};

inline constexpr RuleInfo kRules[] = {
    {Rule::kStartRoundKeepsVotes, "start-round-keeps-votes", "L11",
     "a new round keeps the last round's own votes"},
    {Rule::kProposeIgnoresValidValue, "propose-ignores-valid-value", "L14-16",
     "the proposer proposes a new block despite a valid value"},
    {Rule::kNoProposeTimeout, "no-propose-timeout", "L21", "no propose timeout is scheduled"},
    {Rule::kIgnoreLock, "ignore-lock", "L22/L28", "prevote any valid proposal, locked or not"},
    {Rule::kPrevoteInvalidBlock, "prevote-invalid-block", "L22-27",
     "prevote a new proposal without valid(v)"},
    {Rule::kReproposalWithoutPolka, "reproposal-without-polka", "L28-33",
     "prevote a re-proposal without its polka at vr"},
    {Rule::kNoPrevoteTimeout, "no-prevote-timeout", "L34-35",
     "no prevote timeout after 2f+1 prevotes for anything"},
    {Rule::kLockOnOneThird, "lock-on-one-third", "L36-43", "lock and precommit on f+1 prevotes"},
    {Rule::kNoNilPrecommit, "no-nil-precommit", "L44-46", "2f+1 nil prevotes do not precommit nil"},
    {Rule::kNoPrecommitTimeout, "no-precommit-timeout", "L47-48",
     "no precommit timeout after 2f+1 precommits"},
    {Rule::kDecideOnOneThird, "decide-on-one-third", "L49-54", "decide on f+1 precommits"},
    {Rule::kRoundSkipOnOne, "round-skip-on-one", "L55-56",
     "skip to a round any one validator reached"},
    {Rule::kNoRoundSkip, "no-round-skip", "L55-56", "never skip rounds"},
    {Rule::kProposeTimeoutIgnored, "propose-timeout-ignored", "L57-60",
     "the propose timeout does nothing"},
    {Rule::kPrevoteTimeoutIgnored, "prevote-timeout-ignored", "L61-64",
     "the prevote timeout does nothing"},
    {Rule::kPrecommitTimeoutIgnored, "precommit-timeout-ignored", "L65-67",
     "the precommit timeout does nothing"},
    {Rule::kTwoThirdsQuorum, "two-thirds-quorum", "quorum",
     "2/3 of the power, rounded down, counts as a quorum"},
    {Rule::kSkipWal, "skip-wal", "WAL", "sign and send without persisting first"},
    {Rule::kRestoreForgetsLock, "restore-forgets-lock", "WAL restore",
     "a restart resumes the height without its lock"},
    {Rule::kRestoreForgetsVotes, "restore-forgets-votes", "WAL restore",
     "a restart resumes the recorded round from its start, its signed votes forgotten"},
    {Rule::kSkipVoteSignature, "skip-vote-signature", "signature",
     "a vote's signature is not checked"},
    {Rule::kSkipProposalSignature, "skip-proposal-signature", "signature",
     "a proposal's signature is not checked"},
    {Rule::kSkipProposerCheck, "skip-proposer-check", "proposer",
     "a proposal from a validator not the round's proposer counts"},
    {Rule::kCertificateSkipsSignatures, "certificate-skips-signatures", "certificate",
     "a synced block's precommit signatures are not checked"},
    {Rule::kCertificateShortQuorum, "certificate-short-quorum", "certificate",
     "any power of signed precommits certifies a synced block"},
    {Rule::kCertificateAnyBlock, "certificate-any-block", "certificate",
     "a certificate need not name the synced block and its height"},
    {Rule::kSyncSkipsValidity, "sync-skips-validity", "sync",
     "a synced block is not checked with valid(v)"},
    {Rule::kSkipHeightCheck, "skip-height-check", "valid(v)", "the header's height"},
    {Rule::kSkipPreviousHash, "skip-previous-hash", "valid(v)", "the previous block's hash"},
    {Rule::kSkipStateHash, "skip-state-hash", "valid(v)", "the state hash before the block"},
    {Rule::kSkipProposerKnown, "skip-proposer-known", "valid(v)",
     "the header's proposer is a validator"},
    {Rule::kSkipTimestampOrder, "skip-timestamp-order", "valid(v)",
     "the timestamp follows the previous block's"},
    {Rule::kSkipTimestampDrift, "skip-timestamp-drift", "valid(v)",
     "the timestamp is at most the allowed drift ahead"},
    {Rule::kSkipTransactionLimit, "skip-transaction-limit", "valid(v)",
     "at most block_transactions_max transactions"},
    {Rule::kSkipContract, "skip-contract", "valid(v)", "every transaction passes the contract"},
};
static_assert(std::size(kRules) == static_cast<std::size_t>(Rule::kCount));
constexpr bool rules_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kRules); ++i) {
    if (static_cast<std::size_t>(kRules[i].rule) != i) return false;
  }
  return true;
}
static_assert(rules_in_enum_order());

constexpr const RuleInfo& info(Rule rule) {
  return kRules[static_cast<std::size_t>(rule)];
}

constexpr std::optional<Rule> rule_from_name(std::string_view name) {
  for (const RuleInfo& r : kRules) {
    if (r.name == name) return r.rule;
  }
  return std::nullopt;
}

// The rules broken in one run (empty: the protocol as written).
class BrokenRules {
 public:
  BrokenRules() = default;
  BrokenRules(std::initializer_list<Rule> rules) {
    for (Rule r : rules)
      set(r);
  }
  void set(Rule rule) { bits_ |= bit(rule); }
  bool operator()(Rule rule) const { return (bits_ & bit(rule)) != 0; }
  bool empty() const { return bits_ == 0; }

 private:
  static constexpr std::uint64_t bit(Rule rule) {
    return std::uint64_t{1} << static_cast<unsigned>(rule);
  }
  std::uint64_t bits_ = 0;
};
static_assert(static_cast<unsigned>(Rule::kCount) <= 64);

}  // namespace kmchain::consensus
