// The secret code and its commitment (docs/protocol.md section 4, [ours]). A device draws a 32-byte
// secret code when it enrolls. The ledger's 32-byte commitment field holds
//
//   commitment = Ed25519 public key of the key pair whose RFC 8032 seed is
//                HKDF-SHA-256(salt = empty, ikm = code, info = "kmchain/v1/secret-code")
//
// and the device proves it knows the code, to any gateway, by signing a fresh challenge:
//
//   proof = Ed25519-Sign(that key, "kmchain/v1/code-proof" || challenge (32) || context)
//
// The paper puts the hash of the code on the ledger and has the device send the code's hash
// to prove membership; every gateway holds the ledger and could replay it. A signature over a
// challenge the verifier just drew is worthless for any other challenge, and the commitment
// reveals nothing that lets a gateway produce one. The context binds the proof to where it is
// used: the caller puts in the chain id, the verifying gateway and the handshake the proof
// authorizes (for a re-attach, both ephemeral keys), so a proof relayed to another gateway or
// spliced into another handshake fails.
//
// A verifier draws each challenge from its CSPRNG and uses it for one attempt only: a proof is
// only as fresh as its challenge.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"

namespace kmchain::enroll {

using SecretCode = crypto::Secret256;
using Commitment = ledger::Commitment;

inline constexpr std::size_t kChallengeBytes = 32;
using Challenge = std::array<std::uint8_t, kChallengeBytes>;
using Proof = crypto::Ed25519Signature;

namespace label {
// HKDF info of the code's signing seed, and the domain tag of every proof.
inline constexpr std::string_view kSecretCode = "kmchain/v1/secret-code";
inline constexpr std::string_view kCodeProof = "kmchain/v1/code-proof";
}  // namespace label

// A fresh code (the device, once, at enrollment; kept as long as it is a member).
SecretCode draw_secret_code(crypto::Rng& rng);

// What the join transaction records for this code.
Commitment commitment_of(const SecretCode& code);

// The device's answer to `challenge` in `context`.
Proof prove(const SecretCode& code, const Challenge& challenge, ByteView context);

// The device's consent to leave as `node` (ledger/signed_transaction.h): what its home gateway
// puts in the leave's envelope, so every gateway can check the device itself asked.
crypto::Ed25519Signature consent_to_leave(const SecretCode& code, const ledger::Hash256& chain_id,
                                          NodeId node);

// The device's consent to move to gateway `to` from its placement at `placed_at`
// (ledger/signed_transaction.h), which the gateway it attaches to submits with the move.
crypto::Ed25519Signature consent_to_move(const SecretCode& code, const ledger::Hash256& chain_id,
                                         NodeId node, GatewayId to, Position placed_at);

// Whether `proof` answers `challenge` in `context` for the code behind `commitment`.
[[nodiscard]] bool verify_proof(const Commitment& commitment, const Challenge& challenge,
                                ByteView context, const Proof& proof);

}  // namespace kmchain::enroll
