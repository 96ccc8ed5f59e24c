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
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/transaction.h"
#include "ledger/vote.h"

namespace kmchain::ledger::fixture {

// The bytes of a hex literal; a malformed literal is a broken test.
inline Bytes unhex(std::string_view hex) {
  Bytes out;
  EXPECT_TRUE(from_hex(hex, out)) << "malformed hex literal: " << hex;
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> unhex_array(std::string_view hex) {
  const Bytes bytes = unhex(hex);
  EXPECT_EQ(bytes.size(), N) << hex;
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N && i < bytes.size(); ++i)
    out[i] = bytes[i];
  return out;
}

// first, first+1, ... (mod 256).
template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t first) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

inline crypto::Key128 counting_key(std::uint8_t first) {
  return crypto::Key128(std::span<const std::uint8_t, 16>(counting<16>(first)));
}

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

// sample_header() with `count` transactions: the three samples first, then numbered ones.
inline Block sample_block(std::size_t count = 3) {
  std::vector<Transaction> txs;
  for (std::size_t i = 0; i < count; ++i) {
    txs.push_back(i < 3 ? sample_tx(i) : numbered_tx(static_cast<std::uint32_t>(i)));
  }
  return make_block(sample_header(), std::move(txs));
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

// Big-endian read of `n` bytes at `at`.
inline std::uint64_t be_at(const Bytes& bytes, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | bytes[at + i];
  return v;
}

}  // namespace kmchain::ledger::fixture
