// Helpers shared by the ledger test suites: sample transactions, headers and blocks with
// recognisable bytes, validator keys from fixed seeds, genesis builders, and the precommit
// signatures a certificate is made of. The sample values are the ones tests/ledger/known_values.py
// computes the expected hashes and signatures from.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"
#include "ledger/vote.h"
#include "support/counting.h"

namespace kmchain::ledger::fixture {

using kmchain::testing::counting;
using kmchain::testing::counting_key;

inline Hash256 counting_hash(std::uint8_t first) {
  return counting<32>(first);
}

inline Transaction make_tx(Operation op, std::uint32_t node, std::uint32_t set,
                           std::uint8_t commitment_first, std::uint8_t key_first) {
  return Transaction{op, NodeId{node}, SetId{set}, counting<32>(commitment_first),
                     counting_key(key_first)};
}

// The three transactions of known_values.py, in block order.
inline Transaction sample_tx(std::size_t which = 0) {
  switch (which % 3) {
    case 0:
      return make_tx(Operation::kJoin, 0x01020304, 0x05060708, 0x10, 0x30);
    case 1:
      return make_tx(Operation::kLeave, 0x0a0b0c0d, 0x01000002, 0x40, 0x60);
    default:
      return make_tx(Operation::kEvict, 0xfffffffe, 0xff000001, 0x80, 0xa0);
  }
}

// Distinct transactions 0, 1, 2, ... of every operation.
inline Transaction numbered_tx(std::uint32_t i) {
  return make_tx(static_cast<Operation>(1 + i % 3), 0x1000 + i, 0x01000000 + i / 8,
                 static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i * 7));
}

// Validator i's key: the Ed25519 seed of 32 bytes (i + 1) (known_values.py uses the same).
inline crypto::Ed25519KeyPair validator_key(std::uint16_t i) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(static_cast<std::uint8_t>(i + 1));
  return crypto::Ed25519KeyPair::from_seed(
      crypto::Secret256(std::span<const std::uint8_t, 32>(seed)));
}

inline constexpr std::uint64_t kGenesisTimeMs = 1700000000000;

// Validators 0..p-1 with validator_key(i) and the given powers.
inline Genesis make_genesis(const std::vector<std::uint64_t>& powers,
                            std::string name = "kmchain-test") {
  Genesis g{std::move(name), kGenesisTimeMs, {}};
  for (std::size_t i = 0; i < powers.size(); ++i) {
    const auto index = static_cast<std::uint16_t>(i);
    g.validators.push_back(
        Validator{GatewayId{index}, validator_key(index).public_key(), powers[i]});
  }
  return g;
}

// The device key of the sample leave's consent: seed 0x42 * 32 (known_values.py).
inline crypto::Ed25519KeyPair sample_device_key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x42);
  return crypto::Ed25519KeyPair::from_seed(
      crypto::Secret256(std::span<const std::uint8_t, 32>(seed)));
}

// sample_tx(which) signed by gateway which % 3 + 1 for make_genesis({1, 1, 1, 1}); the leave
// (which % 3 == 1) with the consent of sample_device_key().
inline SignedTransaction sample_signed_tx(std::size_t which = 0) {
  const Hash256 chain_id = make_genesis({1, 1, 1, 1}).chain_id();
  const auto submitter = static_cast<std::uint16_t>(which % 3 + 1);
  const Transaction tx = sample_tx(which);
  std::optional<crypto::Ed25519Signature> consent;
  if (tx.op == Operation::kLeave)
    consent = sample_device_key().sign(leave_consent_bytes(chain_id, tx.node));
  return sign_transaction(validator_key(submitter), chain_id, GatewayId{submitter}, tx, consent);
}

// numbered_tx(i) signed by gateway 1 (no consent, even for a leave: for the codecs only).
inline SignedTransaction numbered_signed_tx(std::uint32_t i) {
  return sign_transaction(validator_key(1), make_genesis({1, 1, 1, 1}).chain_id(), GatewayId{1},
                          numbered_tx(i));
}

// Height 7, previous hash a0.., state hash c0.., proposer 3, 1700000000000 ms; no root yet.
inline BlockHeader sample_header() {
  BlockHeader h;
  h.height = Height{7};
  h.previous_hash = counting_hash(0xa0);
  h.state_hash = counting_hash(0xc0);
  h.proposer = GatewayId{3};
  h.timestamp_ms = 1700000000000;
  return h;
}

// sample_header() with `count` signed transactions: the three samples first, then numbered ones.
inline Block sample_block(std::size_t count = 3) {
  std::vector<SignedTransaction> txs;
  for (std::size_t i = 0; i < count; ++i) {
    txs.push_back(i < 3 ? sample_signed_tx(i) : numbered_signed_tx(static_cast<std::uint32_t>(i)));
  }
  return make_block(sample_header(), std::move(txs));
}

// A certificate for (height, round, block) signed by `signers` (in the order given), each with
// its own key, as precommits under `chain_id`.
inline CommitCertificate certify(const Hash256& chain_id, Height height, Round round,
                                 const Hash256& block, const std::vector<std::uint16_t>& signers) {
  CommitCertificate c{height, round, block, {}};
  for (std::uint16_t s : signers) {
    const Vote v = sign_vote(validator_key(s), chain_id, VoteType::kPrecommit, height, round, block,
                             GatewayId{s});
    c.precommits.emplace_back(GatewayId{s}, v.signature);
  }
  return c;
}

// A copy of `bytes` with byte `index` replaced by `value`.
inline Bytes with_byte(const Bytes& bytes, std::size_t index, std::uint8_t value) {
  Bytes out = bytes;
  out.at(index) = value;  // at(): GCC 12 reports a false null dereference for operator[] here
  return out;
}

// Every single-byte change of `wire`: each byte in turn takes each of its 255 other values,
// wire[at] + delta for delta 1..255, and check(at, delta, changed) runs on the changed copy.
// Stops at the first fatal failure, as an ASSERT in a loop of the test's own would.
template <typename Check>
void for_each_byte_change(const Bytes& wire, const Check& check) {
  for (std::size_t at = 0; at < wire.size(); ++at) {
    for (int delta = 1; delta < 256; ++delta) {
      check(at, delta, with_byte(wire, at, static_cast<std::uint8_t>(wire[at] + delta)));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// A decoder's result on a changed encoding against the verdict of the test's oracle: refused
// with exactly `expected` when the oracle names an error, decoded when it names none.
template <typename T, typename Error>
::testing::AssertionResult as_expected(const Result<T, Error>& decoded,
                                       const std::optional<Error>& expected) {
  if (expected ? !decoded.ok() && decoded.error() == *expected : decoded.ok()) {
    return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure();
  if (decoded.ok()) {
    failure << "decoded";
  } else {
    failure << "refused: " << to_string(decoded.error());
  }
  if (expected) {
    failure << ", expected " << to_string(*expected);
  } else {
    failure << ", expected to decode";
  }
  return failure;
}

// Big-endian read of `n` bytes at `at`.
inline std::uint64_t be_at(const Bytes& bytes, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | bytes[at + i];
  return v;
}

}  // namespace kmchain::ledger::fixture
