// Signed transactions (ledger/signed_transaction.h): the documented layout and signatures
// (known_values.py), round trips with and without a device's consent, every truncation and
// extension refused, every single-byte change refused by the codec or by a signature check.
#include "ledger/signed_transaction.h"

#include <gtest/gtest.h>

#include <cstddef>

#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using fixture::make_genesis;
using fixture::sample_signed_tx;
using fixture::validator_key;

Hash256 chain_id() {
  return make_genesis({1, 1, 1, 1}).chain_id();
}

TEST(SignedTransaction, LayoutAndSignaturesAreTheDocumentedOnes) {
  // known_values.py: the join signed by gateway 1, the leave by gateway 2 with its consent.
  EXPECT_EQ(to_hex(encode(sample_signed_tx(0))),
            "01"    // version
            "0001"  // submitter
            "010102030405060708101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
            "303132333435363738393a3b3c3d3e3f"  // the 57-byte transaction
            "00"                                // no consent
            "c365f1435a4063f82afecf18a9630734d5b29948554f920f16eb2ac18a0c962a8675837412596f8f3c"
            "afaac7b5f3b51d5bcf8c887c38311617c4544484b85f00");  // gateway signature
  const Bytes leave = encode(sample_signed_tx(1));
  ASSERT_EQ(leave.size(), kSignedTransactionWithConsentBytes);
  EXPECT_EQ(to_hex(ByteView(leave).subspan(60, 65)),
            "01"
            "fa0316f97349db612846b7e6e99d08ab5aee21c3de34a25743d8b6b4db6737370c71e807fa8f747e6c9b"
            "6a25d1153d99862ae8ca0e6ee079c8aa81b02f610c08");
  EXPECT_EQ(to_hex(transaction_hash(sample_signed_tx(0))),
            "9535157089af208009670940613d885b6f35ab0a00f65394cd111bb6f3f17cf3");
  EXPECT_TRUE(verify_submitter(validator_key(1).public_key(), chain_id(), sample_signed_tx(0)));
  EXPECT_TRUE(verify_submitter(validator_key(2).public_key(), chain_id(), sample_signed_tx(1)));
  // The sample's consent is the device key's of known_values.py (its commitment bytes are not).
  EXPECT_TRUE(verify_leave_consent(fixture::sample_device_key().public_key(), chain_id(),
                                   sample_signed_tx(1).transaction.node,
                                   *sample_signed_tx(1).device_signature));
  // Bound to the chain and to the signer.
  EXPECT_FALSE(verify_submitter(validator_key(1).public_key(), make_genesis({1}).chain_id(),
                                sample_signed_tx(0)));
  EXPECT_FALSE(verify_submitter(validator_key(2).public_key(), chain_id(), sample_signed_tx(0)));
}

TEST(SignedTransaction, RoundTripsWithAndWithoutConsent) {
  for (std::size_t i = 0; i < 3; ++i) {
    const SignedTransaction stx = sample_signed_tx(i);
    const Bytes wire = encode(stx);
    EXPECT_EQ(wire.size(), encoded_size(stx));
    auto decoded = decode_signed_transaction(wire);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, stx);
  }
}

TEST(SignedTransaction, EveryTruncationAndExtensionIsWrongLength) {
  for (std::size_t i = 0; i < 2; ++i) {
    Bytes wire = encode(sample_signed_tx(i));
    for (std::size_t n = 0; n < wire.size(); ++n) {
      auto decoded = decode_signed_transaction(ByteView(wire).first(n));
      ASSERT_FALSE(decoded.ok()) << n;
      // The version is read first when there is one.
      EXPECT_EQ(decoded.error(), SignedTxError::kWrongLength) << n;
    }
    wire.push_back(0);
    auto decoded = decode_signed_transaction(wire);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignedTxError::kWrongLength);
  }
}

// Every byte change (each byte xor 0x01, 0x80 and 0xff: signature checks are slow) is refused
// by the codec, or decodes to an envelope whose signatures no longer verify: nothing about a
// signed change can be altered unnoticed.
TEST(SignedTransaction, EverySingleByteChangeIsRefusedOrBreaksASignature) {
  // A leave whose commitment is its device's key, so that its consent verifies.
  Transaction body = fixture::sample_tx(1);
  body.commitment = fixture::sample_device_key().public_key();
  const auto consent =
      fixture::sample_device_key().sign(leave_consent_bytes(chain_id(), body.node));
  const SignedTransaction leave =
      sign_transaction(validator_key(2), chain_id(), GatewayId{2}, body, consent);
  const Bytes wire = encode(leave);
  const auto key = validator_key(2).public_key();
  ASSERT_TRUE(verify_submitter(key, chain_id(), leave));
  ASSERT_TRUE(verify_leave_consent(body.commitment, chain_id(), body.node, consent));
  for (std::size_t at = 0; at < wire.size(); ++at)
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      const Bytes changed =
          fixture::with_byte(wire, at, static_cast<std::uint8_t>(wire[at] ^ flip));
      auto decoded = decode_signed_transaction(changed);
      if (!decoded) {
        if (at == 0) {
          EXPECT_EQ(decoded.error(), SignedTxError::kBadVersion);
        }
        if (at == 60) {
          EXPECT_NE(decoded.error(), SignedTxError::kBadTransaction);
        }
        continue;
      }
      const bool consent_ok =
          decoded->device_signature &&
          verify_leave_consent(decoded->transaction.commitment, chain_id(),
                               decoded->transaction.node, *decoded->device_signature);
      ASSERT_FALSE(verify_submitter(key, chain_id(), *decoded) && consent_ok &&
                   decoded->submitter == leave.submitter)
          << "byte " << at;
    }
}

TEST(SignedTransaction, ErrorsHaveNames) {
  EXPECT_STREQ(to_string(SignedTxError::kWrongLength), "wrong length");
  EXPECT_STREQ(to_string(SignedTxError::kBadVersion), "bad version");
  EXPECT_STREQ(to_string(SignedTxError::kBadConsentFlag), "bad consent flag");
  EXPECT_STREQ(to_string(SignedTxError::kBadTransaction), "bad transaction");
}

}  // namespace
}  // namespace kmchain::ledger
