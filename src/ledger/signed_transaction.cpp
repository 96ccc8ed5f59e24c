#include "ledger/signed_transaction.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::ledger {

const char* to_string(SignedTxError e) {
  switch (e) {
    case SignedTxError::kWrongLength:
      return "wrong length";
    case SignedTxError::kBadVersion:
      return "bad version";
    case SignedTxError::kBadConsentFlag:
      return "bad consent flag";
    case SignedTxError::kBadTransaction:
      return "bad transaction";
  }
  return "unknown signed transaction error";
}

namespace {

constexpr std::uint8_t kNoConsent = 0;
constexpr std::uint8_t kConsent = 1;

// Every byte the gateway signature covers: the envelope up to the signature.
void write_signed_part(codec::ByteWriter& w, const SignedTransaction& stx) {
  w.u8(kSignedTransactionVersion);
  w.u16(stx.submitter.value());
  write_transaction(w, stx.transaction);
  w.u8(stx.device_signature ? kConsent : kNoConsent);
  if (stx.device_signature) w.raw(*stx.device_signature);
}

Bytes submission_sign_bytes(const Hash256& chain_id, const SignedTransaction& stx) {
  Bytes out;
  out.reserve(domain::kSubmission.size() + 32 + kSignedTransactionWithConsentBytes);
  codec::ByteWriter w(out);
  w.raw(as_bytes(domain::kSubmission));
  w.raw(chain_id);
  write_signed_part(w, stx);
  return out;
}

}  // namespace

Bytes leave_consent_bytes(const Hash256& chain_id, NodeId node) {
  Bytes out;
  codec::ByteWriter w(out);
  w.raw(as_bytes(domain::kLeaveConsent));
  w.raw(chain_id);
  w.u32(node.value());
  return out;
}

bool verify_leave_consent(const Commitment& commitment, const Hash256& chain_id, NodeId node,
                          const crypto::Ed25519Signature& signature) {
  return crypto::ed25519_verify(commitment, leave_consent_bytes(chain_id, node), signature);
}

Bytes move_consent_bytes(const Hash256& chain_id, NodeId node, GatewayId to, Position placed_at) {
  Bytes out;
  codec::ByteWriter w(out);
  w.raw(as_bytes(domain::kMoveConsent));
  w.raw(chain_id);
  w.u32(node.value());
  w.u16(to.value());
  w.u64(placed_at.value());
  return out;
}

bool verify_move_consent(const Commitment& commitment, const Hash256& chain_id, NodeId node,
                         GatewayId to, Position placed_at,
                         const crypto::Ed25519Signature& signature) {
  return crypto::ed25519_verify(commitment, move_consent_bytes(chain_id, node, to, placed_at),
                                signature);
}

SignedTransaction sign_transaction(const crypto::Ed25519KeyPair& key, const Hash256& chain_id,
                                   GatewayId submitter, const Transaction& transaction,
                                   std::optional<crypto::Ed25519Signature> device_signature) {
  SignedTransaction stx{submitter, transaction, device_signature, {}};
  stx.gateway_signature = key.sign(submission_sign_bytes(chain_id, stx));
  return stx;
}

bool verify_submitter(const crypto::Ed25519PublicKey& submitter_key, const Hash256& chain_id,
                      const SignedTransaction& stx) {
  return crypto::ed25519_verify(submitter_key, submission_sign_bytes(chain_id, stx),
                                stx.gateway_signature);
}

std::size_t encoded_size(const SignedTransaction& stx) {
  return stx.device_signature ? kSignedTransactionWithConsentBytes : kSignedTransactionBytes;
}

Bytes encode(const SignedTransaction& stx) {
  Bytes out;
  out.reserve(encoded_size(stx));
  codec::ByteWriter w(out);
  write_signed_part(w, stx);
  w.raw(stx.gateway_signature);
  KMCHAIN_CHECK(out.size() == encoded_size(stx));
  return out;
}

Result<SignedTransaction, SignedTxError> read_signed_transaction(codec::ByteReader& r) {
  if (r.remaining() < kSignedTransactionBytes) return Err{SignedTxError::kWrongLength};
  if (r.u8() != kSignedTransactionVersion) return Err{SignedTxError::kBadVersion};
  SignedTransaction stx;
  stx.submitter = GatewayId{r.u16()};
  auto tx = decode_transaction(r.view(kTransactionBytes));
  if (!tx) return Err{SignedTxError::kBadTransaction};
  stx.transaction = *tx;
  const std::uint8_t consent = r.u8();
  if (consent != kNoConsent && consent != kConsent) return Err{SignedTxError::kBadConsentFlag};
  if (consent == kConsent) {
    if (r.remaining() < kSignedTransactionWithConsentBytes - kSignedTransactionBytes + 64)
      return Err{SignedTxError::kWrongLength};
    crypto::Ed25519Signature device{};
    r.raw(device);
    stx.device_signature = device;
  }
  r.raw(stx.gateway_signature);
  if (!r.ok()) return Err{SignedTxError::kWrongLength};
  return stx;
}

Result<SignedTransaction, SignedTxError> decode_signed_transaction(ByteView bytes) {
  codec::ByteReader r(bytes);
  auto stx = read_signed_transaction(r);
  if (!stx) return stx;
  if (!r.at_end()) return Err{SignedTxError::kWrongLength};
  return stx;
}

std::vector<Transaction> bodies(const std::vector<SignedTransaction>& transactions) {
  std::vector<Transaction> out;
  out.reserve(transactions.size());
  for (const SignedTransaction& stx : transactions)
    out.push_back(stx.transaction);
  return out;
}

Hash256 transaction_hash(const SignedTransaction& stx) {
  return tagged_hash(domain::kTransaction, encode(stx));
}

}  // namespace kmchain::ledger
