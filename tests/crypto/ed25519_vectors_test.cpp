// Ed25519 against RFC 8032 section 7.1, TEST 1-3: the public key from the secret seed, the exact
// signature, verification, and rejection of a tampered message, signature or public key.
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "crypto/verify_memo.h"
#include "support/hex.h"
#include "test_util.h"

namespace kmchain::crypto {
namespace {

using kmchain::testing::unhex;
using kmchain::testing::unhex_array;
using testutil::flip_bit;

struct Ed25519Vector {
  std::string_view name;
  std::string_view secret_key;  // the 32-octet seed
  std::string_view public_key;
  std::size_t message_len;  // octets, as stated
  std::string_view message;
  std::string_view signature;
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const Ed25519Vector& v, std::ostream* os) {
  *os << v.name;
}

constexpr Ed25519Vector kRfc8032[] = {
    {"Test1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", 0, "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"Test2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", 1, "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"Test3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", 2, "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

class Ed25519Rfc8032Test : public ::testing::TestWithParam<Ed25519Vector> {
 protected:
  Ed25519KeyPair key_pair() const {
    return Ed25519KeyPair::from_seed(Secret256(unhex_array<32>(GetParam().secret_key)));
  }
  Ed25519PublicKey public_key() const { return unhex_array<32>(GetParam().public_key); }
  Bytes message() const { return unhex(GetParam().message); }
  Ed25519Signature signature() const { return unhex_array<64>(GetParam().signature); }
};

TEST_P(Ed25519Rfc8032Test, LengthsMatchTheRfc) {
  EXPECT_EQ(unhex(GetParam().secret_key).size(), 32u);
  EXPECT_EQ(unhex(GetParam().public_key).size(), 32u);
  EXPECT_EQ(message().size(), GetParam().message_len);
  EXPECT_EQ(unhex(GetParam().signature).size(), 64u);
}

TEST_P(Ed25519Rfc8032Test, PublicKeyFromSeed) {
  EXPECT_EQ(to_hex(key_pair().public_key()), GetParam().public_key);
}

TEST_P(Ed25519Rfc8032Test, SignatureIsExact) {
  EXPECT_EQ(to_hex(key_pair().sign(message())), to_hex(signature()));
}

TEST_P(Ed25519Rfc8032Test, VerifyAccepts) {
  EXPECT_TRUE(ed25519_verify(public_key(), message(), signature()));
}

TEST_P(Ed25519Rfc8032Test, TamperedMessageIsRejected) {
  Bytes longer = message();
  longer.push_back(0x00);
  EXPECT_FALSE(ed25519_verify(public_key(), longer, signature()));
  const Bytes original = message();
  for (std::size_t index = 0; index < original.size(); ++index) {
    Bytes tampered = original;
    flip_bit(tampered, index, 0);
    EXPECT_FALSE(ed25519_verify(public_key(), tampered, signature())) << "byte " << index;
  }
  if (!original.empty()) {
    EXPECT_FALSE(
        ed25519_verify(public_key(), ByteView(original).first(original.size() - 1), signature()));
  }
}

TEST_P(Ed25519Rfc8032Test, TamperedSignatureIsRejected) {
  // Both halves: R (octets 0-31) and S (octets 32-63).
  for (std::size_t index : {std::size_t{0}, std::size_t{17}, std::size_t{31}, std::size_t{32},
                            std::size_t{50}, std::size_t{63}}) {
    Ed25519Signature tampered = signature();
    flip_bit(tampered, index, 2);
    EXPECT_FALSE(ed25519_verify(public_key(), message(), tampered)) << "byte " << index;
  }
}

TEST_P(Ed25519Rfc8032Test, TamperedPublicKeyIsRejected) {
  for (std::size_t index : {std::size_t{0}, std::size_t{15}, std::size_t{31}}) {
    Ed25519PublicKey tampered = public_key();
    flip_bit(tampered, index, 4);
    EXPECT_FALSE(ed25519_verify(tampered, message(), signature())) << "byte " << index;
  }
}

INSTANTIATE_TEST_SUITE_P(Section7_1, Ed25519Rfc8032Test, ::testing::ValuesIn(kRfc8032),
                         testutil::VectorName());

TEST(Ed25519, SignatureDoesNotVerifyUnderAnotherVectorsKey) {
  const Ed25519PublicKey key3 = unhex_array<32>(kRfc8032[2].public_key);
  const Ed25519Signature sig2 = unhex_array<64>(kRfc8032[1].signature);
  EXPECT_FALSE(ed25519_verify(key3, unhex(kRfc8032[1].message), sig2));
}

TEST(Ed25519, GeneratedKeySignsAndVerifies) {
  DeterministicRng rng(8032);
  const Ed25519KeyPair pair = Ed25519KeyPair::generate(rng);
  const Bytes message{'k', 'm', 'c', 'h', 'a', 'i', 'n'};
  const Ed25519Signature sig = pair.sign(message);
  EXPECT_TRUE(ed25519_verify(pair.public_key(), message, sig));
  // Deterministic signatures: the same key and message sign the same way.
  EXPECT_EQ(to_hex(pair.sign(message)), to_hex(sig));
  // The seed reproduces the key pair.
  EXPECT_EQ(to_hex(Ed25519KeyPair::from_seed(pair.seed()).public_key()), to_hex(pair.public_key()));
}

// With a memo installed the verdicts are the same, a tampered byte anywhere is a new entry (so
// never a remembered "valid"), and only exact repeats are answered from memory.
TEST(Ed25519, VerifyMemoGivesTheSameVerdicts) {
  DeterministicRng rng(8033);
  const Ed25519KeyPair pair = Ed25519KeyPair::generate(rng);
  const Bytes message{'v', 'o', 't', 'e'};
  const Ed25519Signature sig = pair.sign(message);
  VerifyMemo memo;
  {
    ScopedVerifyMemo scope(memo);
    EXPECT_EQ(current_verify_memo(), &memo);
    for (int round = 0; round < 2; ++round) {
      EXPECT_TRUE(ed25519_verify(pair.public_key(), message, sig));
      Bytes tampered = message;
      flip_bit(tampered, 0);
      EXPECT_FALSE(ed25519_verify(pair.public_key(), tampered, sig));
      Ed25519Signature bad_sig = sig;
      flip_bit(bad_sig, 63, 6);
      EXPECT_FALSE(ed25519_verify(pair.public_key(), message, bad_sig));
      Ed25519PublicKey other_key = pair.public_key();
      flip_bit(other_key, 5);
      EXPECT_FALSE(ed25519_verify(other_key, message, sig));
    }
    EXPECT_EQ(memo.hits(), 4u);  // the second round, from memory
  }
  EXPECT_EQ(current_verify_memo(), nullptr);
  EXPECT_TRUE(ed25519_verify(pair.public_key(), message, sig));
  EXPECT_EQ(memo.hits(), 4u);  // uninstalled: not consulted
}

}  // namespace
}  // namespace kmchain::crypto
