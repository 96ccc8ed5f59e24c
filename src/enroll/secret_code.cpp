#include "enroll/secret_code.h"

#include "codec/byte_writer.h"
#include "crypto/kdf.h"

namespace kmchain::enroll {

namespace {

crypto::Ed25519KeyPair code_key(const SecretCode& code) {
  return crypto::Ed25519KeyPair::from_seed(
      crypto::hkdf_sha256_secret<32>({}, code.view(), as_bytes(label::kSecretCode)));
}

// "kmchain/v1/code-proof" || challenge || context. The tag and the challenge have fixed lengths,
// so the context is whatever follows them and no two inputs share an encoding.
Bytes proof_message(const Challenge& challenge, ByteView context) {
  Bytes message;
  message.reserve(label::kCodeProof.size() + challenge.size() + context.size());
  codec::ByteWriter w(message);
  w.raw(as_bytes(label::kCodeProof));
  w.raw(challenge);
  w.raw(context);
  return message;
}

}  // namespace

SecretCode draw_secret_code(crypto::Rng& rng) {
  return rng.secret<32>();
}

Commitment commitment_of(const SecretCode& code) {
  return code_key(code).public_key();
}

Proof prove(const SecretCode& code, const Challenge& challenge, ByteView context) {
  return code_key(code).sign(proof_message(challenge, context));
}

crypto::Ed25519Signature consent_to_leave(const SecretCode& code, const ledger::Hash256& chain_id,
                                          NodeId node) {
  return code_key(code).sign(ledger::leave_consent_bytes(chain_id, node));
}

crypto::Ed25519Signature consent_to_move(const SecretCode& code, const ledger::Hash256& chain_id,
                                         NodeId node, GatewayId to, Position placed_at) {
  return code_key(code).sign(ledger::move_consent_bytes(chain_id, node, to, placed_at));
}

bool verify_proof(const Commitment& commitment, const Challenge& challenge, ByteView context,
                  const Proof& proof) {
  return crypto::ed25519_verify(commitment, proof_message(challenge, context), proof);
}

}  // namespace kmchain::enroll
