// The secret code (enroll/secret_code.h): the commitment and a proof match the values
// known_values.py computes from the documented formulas; a proof verifies for its challenge and
// context only; a proof replayed against a fresh challenge, moved to another context or another
// commitment, or changed in any bit, fails.
#include "enroll/secret_code.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string_view>

#include "crypto/random.h"
#include "enroll_fixture.h"
#include "test_util.h"

namespace kmchain::enroll {
namespace {

using fixture::counting;
using testutil::flip_bit;

const ByteView kContext = as_bytes("chain-a/gw-3");

Challenge fresh_challenge(crypto::Rng& rng) {
  Challenge c{};
  rng.fill(c);
  return c;
}

TEST(SecretCodeKnownAnswer, CommitmentMatchesKnownValues) {
  EXPECT_EQ(to_hex(commitment_of(fixture::code())),
            "96b4e71bdf086285eee77c1844bc5e535b63958b2b4d09f10aaa0d5f967aa796");
}

// Ed25519 signatures are deterministic (RFC 8032), so the proof has a known value too.
TEST(SecretCodeKnownAnswer, ProofMatchesKnownValues) {
  EXPECT_EQ(to_hex(prove(fixture::code(), counting<32>(0x50), kContext)),
            "d91283d04c1ee035e5acfb31a2ad29d5c46c9d1af513aaf9b182970cae8a0c1b"
            "c7d55164dc4cef613f8c38c2ce1e457175cb3de1653634c1563326ce4279c204");
}

TEST(SecretCode, ValidProofVerifies) {
  crypto::DeterministicRng rng(1);
  const SecretCode code = draw_secret_code(rng);
  const Challenge challenge = fresh_challenge(rng);
  EXPECT_TRUE(
      verify_proof(commitment_of(code), challenge, kContext, prove(code, challenge, kContext)));
}

TEST(SecretCode, CommitmentIsAFunctionOfTheCode) {
  crypto::DeterministicRng rng(2);
  const SecretCode a = draw_secret_code(rng);
  const SecretCode b = draw_secret_code(rng);
  EXPECT_EQ(commitment_of(a), commitment_of(SecretCode(a)));
  EXPECT_NE(commitment_of(a), commitment_of(b));
}

TEST(SecretCode, ProofForAnotherChallengeFails) {
  crypto::DeterministicRng rng(3);
  const SecretCode code = draw_secret_code(rng);
  const Challenge challenge = fresh_challenge(rng);
  const Proof proof = prove(code, challenge, kContext);
  for (std::size_t i = 0; i < challenge.size(); ++i) {
    Challenge other = challenge;
    flip_bit(other, i, static_cast<unsigned>(i % 8));
    EXPECT_FALSE(verify_proof(commitment_of(code), other, kContext, proof)) << i;
  }
}

// The verifier draws a new challenge for every attempt: a recorded proof answers none of them.
TEST(SecretCode, ReplayedProofFailsForAFreshChallenge) {
  crypto::DeterministicRng rng(4);
  const SecretCode code = draw_secret_code(rng);
  const Commitment commitment = commitment_of(code);
  const Challenge first = fresh_challenge(rng);
  const Proof recorded = prove(code, first, kContext);
  ASSERT_TRUE(verify_proof(commitment, first, kContext, recorded));
  for (int attempt = 0; attempt < 32; ++attempt) {
    const Challenge fresh = fresh_challenge(rng);
    EXPECT_FALSE(verify_proof(commitment, fresh, kContext, recorded)) << attempt;
    EXPECT_TRUE(verify_proof(commitment, fresh, kContext, prove(code, fresh, kContext)));
  }
}

TEST(SecretCode, ProofForAnotherContextFails) {
  crypto::DeterministicRng rng(5);
  const SecretCode code = draw_secret_code(rng);
  const Challenge challenge = fresh_challenge(rng);
  const Proof proof = prove(code, challenge, kContext);
  const Commitment commitment = commitment_of(code);
  EXPECT_FALSE(verify_proof(commitment, challenge, as_bytes("chain-a/gw-4"), proof));
  EXPECT_FALSE(verify_proof(commitment, challenge, as_bytes("chain-b/gw-3"), proof));
  // A prefix or an extension of the context is another context.
  EXPECT_FALSE(verify_proof(commitment, challenge, kContext.first(kContext.size() - 1), proof));
  EXPECT_FALSE(verify_proof(commitment, challenge, as_bytes("chain-a/gw-30"), proof));
  EXPECT_FALSE(verify_proof(commitment, challenge, {}, proof));
}

TEST(SecretCode, ProofOfAnotherCodeFails) {
  crypto::DeterministicRng rng(6);
  const SecretCode code = draw_secret_code(rng);
  const SecretCode other = draw_secret_code(rng);
  const Challenge challenge = fresh_challenge(rng);
  EXPECT_FALSE(
      verify_proof(commitment_of(code), challenge, kContext, prove(other, challenge, kContext)));
}

TEST(SecretCode, EveryOneBitChangeOfTheProofFails) {
  crypto::DeterministicRng rng(7);
  const SecretCode code = draw_secret_code(rng);
  const Challenge challenge = fresh_challenge(rng);
  const Proof proof = prove(code, challenge, kContext);
  for (std::size_t i = 0; i < proof.size(); ++i) {
    Proof bad = proof;
    flip_bit(bad, i, static_cast<unsigned>(i % 8));
    EXPECT_FALSE(verify_proof(commitment_of(code), challenge, kContext, bad)) << i;
  }
}

}  // namespace
}  // namespace kmchain::enroll
