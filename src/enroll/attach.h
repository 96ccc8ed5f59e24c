// Re-attachment (docs/protocol.md section 4.7): a member device whose home gateway is gone,
// unreachable or far away attaches to another gateway of the consortium. The device proves it
// holds its secret code (secret_code.h) against a fresh challenge, the gateway proves its
// identity with its genesis key, and both agree on a fresh node key with an ephemeral X25519
// exchange that both proofs cover. The device also signs its consent to move (ledger's
// move_consent_bytes), which the gateway puts in the move transaction's envelope.
//
// AttachHello, device -> gateway, 55 bytes, big-endian (anyone can send one: nothing is
// stored for it but a bounded, expiring challenge):
//
//   offset size field
//   0      1    version            1
//   1      4    node id            the member re-attaching
//   5      32   device key         the device's ephemeral X25519 public key
//   37     16   device nonce       random
//   53     2    reply port         UDP port where the device listens for pushes, > 0
//
// AttachChallenge, gateway -> device, 143 bytes:
//
//   0      1    version            1
//   1      2    gateway id         the gateway answering
//   3      4    node id            the hello's
//   7      32   gateway key        the gateway's ephemeral X25519 public key
//   39     32   challenge          fresh from the gateway's CSPRNG, for this attempt only
//   71     8    placed at          the ledger position that placed the node in its set
//   79     64   signature          Ed25519 under the gateway's genesis key over
//                                  "kmchain/v1/attach/challenge" || context || hello || 0..78
//
// AttachProof, device -> gateway, 133 bytes:
//
//   0      1    version            1
//   1      4    node id
//   5      64   proof              prove(code, challenge, context || gateway id || T1)
//   69     64   consent            the device's consent to move to this gateway, from the
//                                  position the challenge named (ledger/signed_transaction.h)
//
// AttachDone, gateway -> device, 39 bytes (sent once the device's record is durable):
//
//   0      1    version            1
//   1      2    gateway id
//   3      4    node id
//   7      32   mac                HMAC-SHA-256(K_done, bytes 0..6)
//
// with T1 = SHA-256(hello || challenge) and T2 = SHA-256(hello || challenge || proof):
//
//   shared   = X25519(device ephemeral, gateway ephemeral), refused when all zero
//   node key = HKDF(salt = commitment, ikm = shared, info = "kmchain/v1/attach/node-key" ||
//                   context || T2), 16 bytes
//   K_done   = HKDF(salt = commitment, ikm = shared, info = "kmchain/v1/attach/done" ||
//                   context || T2), 32 bytes
//
// The gateway's signature covers the device's ephemeral key and its own, so the device knows
// which gateway it agreed a key with; the proof covers both through T1 and the gateway id, so
// a proof relayed to another gateway, or for another handshake, fails. Nobody else learns the
// node key (ephemeral keys on both ends), and no earlier holder of a node key of this device,
// its old home included, can compute it. The challenge's position is taken on the gateway's
// word: a lying gateway can make the device sign a consent to move to that very gateway from a
// position it is not at yet, which the ledger takes only if the device is ever placed exactly
// there, and which moves it nowhere it did not just choose.
//
// Parsing is strict, as for the join (join.h): version first, then the exact length, then the
// ranges (reply port 0, node id 0 are malformed). Every string that parses encodes back to the
// same bytes, so both ends hash the same transcript.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"

namespace kmchain::enroll {

inline constexpr std::uint8_t kAttachVersion = 1;
inline constexpr std::size_t kAttachNonceBytes = 16;
using AttachNonce = std::array<std::uint8_t, kAttachNonceBytes>;

inline constexpr std::size_t kAttachHelloBytes = 1 + 4 + 32 + kAttachNonceBytes + 2;
inline constexpr std::size_t kAttachChallengeBytes = 1 + 2 + 4 + 32 + kChallengeBytes + 8 + 64;
inline constexpr std::size_t kAttachProofBytes = 1 + 4 + 64 + 64;
inline constexpr std::size_t kAttachDoneBytes = 1 + 2 + 4 + crypto::kHmacSha256Bytes;
static_assert(kAttachHelloBytes == 55 && kAttachChallengeBytes == 143 && kAttachProofBytes == 133 &&
                  kAttachDoneBytes == 39,
              "the layouts above");

namespace label {
inline constexpr std::string_view kAttachChallenge = "kmchain/v1/attach/challenge";
inline constexpr std::string_view kAttachNodeKey = "kmchain/v1/attach/node-key";
inline constexpr std::string_view kAttachDone = "kmchain/v1/attach/done";
}  // namespace label

enum class AttachError : std::uint8_t {
  kWrongLength = 1,  // not exactly the message's size
  kBadVersion = 2,   // first byte is not kAttachVersion
  kMalformed = 3,    // a field out of range (node id 0, reply port 0)
  kAuthFailed = 4,   // a signature, proof or MAC that does not verify, or another handshake's
  kWeakKey = 5,      // a peer ephemeral key of small order
  kFinished = 6,     // the device already finished: one handshake yields one node key
};
const char* to_string(AttachError e);

struct AttachHello {
  NodeId node;
  crypto::X25519PublicKey device_key{};
  AttachNonce nonce{};
  std::uint16_t reply_port = 0;

  friend bool operator==(const AttachHello&, const AttachHello&) = default;
};

struct AttachChallenge {
  GatewayId gateway;
  NodeId node;
  crypto::X25519PublicKey gateway_key{};
  Challenge challenge{};
  Position placed_at{0};
  crypto::Ed25519Signature signature{};

  friend bool operator==(const AttachChallenge&, const AttachChallenge&) = default;
};

struct AttachProof {
  NodeId node;
  Proof proof{};
  crypto::Ed25519Signature consent{};

  friend bool operator==(const AttachProof&, const AttachProof&) = default;
};

struct AttachDone {
  GatewayId gateway;
  NodeId node;
  crypto::HmacTag mac{};

  friend bool operator==(const AttachDone&, const AttachDone&) = default;
};

Bytes encode(const AttachHello& m);
Bytes encode(const AttachChallenge& m);
Bytes encode(const AttachProof& m);
Bytes encode(const AttachDone& m);

Result<AttachHello, AttachError> parse_attach_hello(ByteView wire);
Result<AttachChallenge, AttachError> parse_attach_challenge(ByteView wire);
Result<AttachProof, AttachError> parse_attach_proof(ByteView wire);
Result<AttachDone, AttachError> parse_attach_done(ByteView wire);

// What the device holds once the gateway confirmed.
struct Attached {
  GatewayId gateway;
  NodeId node;
  crypto::Key128 node_key;
};

// The device's side. Construction draws the ephemeral key and the nonce. The caller sends
// hello() until a challenge comes; on_challenge checks it came from `gateway` (its genesis
// key) for this hello, and returns the proof to send, again until the done comes; on_done
// checks the gateway's key confirmation. Anything else is refused and the handshake stays
// where it was, so an injected packet cannot end it.
class AttachInitiator {
 public:
  AttachInitiator(const SecretCode& code, NodeId node, GatewayId gateway,
                  const crypto::Ed25519PublicKey& gateway_identity, std::uint16_t reply_port,
                  const ContextId& context, crypto::Rng& rng);
  // With the ephemeral key and the nonce given (known-answer tests).
  AttachInitiator(const SecretCode& code, NodeId node, GatewayId gateway,
                  const crypto::Ed25519PublicKey& gateway_identity, std::uint16_t reply_port,
                  const ContextId& context, const crypto::X25519KeyPair& ephemeral,
                  const AttachNonce& nonce);

  const Bytes& hello() const { return hello_; }
  GatewayId gateway() const { return gateway_; }
  // The proof, once a challenge verified (resend it unchanged until the done comes).
  const std::optional<Bytes>& proof() const { return proof_; }
  bool finished() const { return finished_; }

  Result<Bytes, AttachError> on_challenge(ByteView wire);
  Result<Attached, AttachError> on_done(ByteView wire);

 private:
  SecretCode code_;
  NodeId node_;
  GatewayId gateway_;
  crypto::Ed25519PublicKey gateway_identity_;
  ContextId context_;
  std::optional<crypto::X25519KeyPair> ephemeral_;  // reset (and wiped) once finished
  Bytes hello_;
  std::optional<Bytes> challenge_;
  std::optional<Bytes> proof_;
  std::optional<crypto::Secret256> shared_;
  bool finished_ = false;
};

// The gateway's side of one attempt, from the hello it answers. The caller keeps it (bounded
// and expiring: it holds an ephemeral private key) until the proof comes, and checks before
// `challenge` that the node is a member and reads its commitment and placement position.
class AttachResponder {
 public:
  AttachResponder(const AttachHello& hello, const Commitment& commitment, Position placed_at,
                  GatewayId self, const crypto::Ed25519KeyPair& identity, const ContextId& context,
                  crypto::Rng& rng);
  // With the ephemeral key and the challenge given (known-answer tests).
  AttachResponder(const AttachHello& hello, const Commitment& commitment, Position placed_at,
                  GatewayId self, const crypto::Ed25519KeyPair& identity, const ContextId& context,
                  const crypto::X25519KeyPair& ephemeral, const Challenge& challenge);

  // kWeakKey when the hello's device key is of small order (nothing to answer then).
  Status<AttachError> status() const { return status_; }
  const AttachHello& hello() const { return hello_; }
  // The challenge to send (again, unchanged, for a repeated identical hello).
  const Bytes& challenge() const { return challenge_; }

  // The device's proof checked; what the gateway keeps and the consent it submits.
  struct Verified {
    crypto::Key128 node_key;
    Bytes done;
    crypto::Ed25519Signature consent;
  };
  // kAuthFailed for a proof of another code, challenge, gateway or handshake, or a consent
  // that is not the device's for this gateway and position.
  Result<Verified, AttachError> on_proof(ByteView wire) const;

 private:
  AttachHello hello_;
  Commitment commitment_;
  Position placed_at_;
  GatewayId self_;
  ContextId context_;
  Status<AttachError> status_;
  std::optional<crypto::Secret256> shared_;
  Bytes challenge_;
};

}  // namespace kmchain::enroll
