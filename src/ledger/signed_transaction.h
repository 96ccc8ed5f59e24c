// Signed transactions: the envelope every membership change travels in, between gateways and in
// blocks (docs/protocol.md section 3.2). The paper's 57-byte transaction is carried unchanged
// inside it; the envelope says which gateway submits it and proves it, so the contract can
// check who may make each change (contract.h), and a leave or a move carries the device's own
// consent.
//
// Wire format, big-endian:
//
//   offset size field
//   0      1    version             1
//   1      2    submitter           GatewayId of the gateway that submits the change
//   3      57   transaction         transaction.h
//   60     1    device consent      0 none, 1 a device signature follows (a leave's, a move's)
//   61     64   device signature    only with consent 1: Ed25519 under the key the commitment
//                                   names (enroll/secret_code.h), over leave_consent_bytes()
//                                   or move_consent_bytes()
//   61|125 64   gateway signature   Ed25519 under the submitter's genesis key, over
//                                   "kmchain/v1/submission" || chain id || every byte before it
//
// So 125 bytes, or 189 with a device signature. The decoder checks structure only (version,
// length, consent flag, the inner transaction's codec); the signatures and whether the submitter
// may make the change are the contract's question. Signing binds the chain id, so a change
// signed for one consortium is worthless in another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/sign.h"
#include "ledger/hashing.h"
#include "ledger/transaction.h"

namespace kmchain::codec {
class ByteReader;
}

namespace kmchain::ledger {

inline constexpr std::uint8_t kSignedTransactionVersion = 1;
inline constexpr std::size_t kSignedTransactionBytes = 1 + 2 + kTransactionBytes + 1 + 64;
inline constexpr std::size_t kSignedTransactionWithConsentBytes = kSignedTransactionBytes + 64;
static_assert(kSignedTransactionBytes == 125 && kSignedTransactionWithConsentBytes == 189);

struct SignedTransaction {
  GatewayId submitter;
  Transaction transaction;
  // A leave's proof that the device itself asked (see leave_consent_bytes).
  std::optional<crypto::Ed25519Signature> device_signature;
  crypto::Ed25519Signature gateway_signature{};

  friend bool operator==(const SignedTransaction&, const SignedTransaction&) = default;
};

enum class SignedTxError : std::uint8_t {
  kWrongLength = 1,     // not 125 bytes (189 with a device signature)
  kBadVersion = 2,      // first byte is not kSignedTransactionVersion
  kBadConsentFlag = 3,  // consent byte is neither 0 nor 1
  kBadTransaction = 4,  // the inner 57 bytes do not decode
};
const char* to_string(SignedTxError e);

// What a device signs to ask for its own leave: "kmchain/v1/leave" || chain id || node id.
// Node ids are never reused, so the consent removes that device once and is worthless after.
Bytes leave_consent_bytes(const Hash256& chain_id, NodeId node);
// "kmchain/v1/move" || chain id || node id (u32) || gateway (u16) || placed at (u64): what a
// device signs to move to `to` (enroll/attach.h), from the set the ledger placed it in at
// position `placed_at`. Each placement has its own position, so a consent moves the device out
// of one placement once and is worthless after any later one.
Bytes move_consent_bytes(const Hash256& chain_id, NodeId node, GatewayId to, Position placed_at);
[[nodiscard]] bool verify_move_consent(const Commitment& commitment, const Hash256& chain_id,
                                       NodeId node, GatewayId to, Position placed_at,
                                       const crypto::Ed25519Signature& signature);
// Whether `signature` is the consent of the device whose commitment (its code's public key) is
// `commitment` to leave as `node`.
[[nodiscard]] bool verify_leave_consent(const Commitment& commitment, const Hash256& chain_id,
                                        NodeId node, const crypto::Ed25519Signature& signature);

// The submitter signs `transaction` (and the device's consent, for a leave).
SignedTransaction sign_transaction(const crypto::Ed25519KeyPair& key, const Hash256& chain_id,
                                   GatewayId submitter, const Transaction& transaction,
                                   std::optional<crypto::Ed25519Signature> device_signature = {});
// Whether the gateway signature is the submitter's (under `submitter_key`) for this chain.
[[nodiscard]] bool verify_submitter(const crypto::Ed25519PublicKey& submitter_key,
                                    const Hash256& chain_id, const SignedTransaction& stx);

Bytes encode(const SignedTransaction& stx);
std::size_t encoded_size(const SignedTransaction& stx);
Result<SignedTransaction, SignedTxError> decode_signed_transaction(ByteView bytes);
// Reads one envelope from a larger message (blocks, consensus messages); its length follows
// from the consent flag. On error the reader's position is unspecified.
Result<SignedTransaction, SignedTxError> read_signed_transaction(codec::ByteReader& r);

// The 57-byte bodies, in order (what the key work reads).
std::vector<Transaction> bodies(const std::vector<SignedTransaction>& transactions);

// SHA-256("kmchain/v1/tx" || the envelope): its identity (mempool, duplicates, Merkle leaves).
Hash256 transaction_hash(const SignedTransaction& stx);

}  // namespace kmchain::ledger
