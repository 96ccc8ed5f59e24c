// The join handshake (docs/protocol.md section 4): a device holding an enrollment credential
// (credential.h) and a gateway that admitted it agree on the device's node key in one round
// trip. A PSK-authenticated ephemeral X25519 exchange, TLS 1.3's psk_dhe_ke in spirit: the PSK
// authenticates both ends, the ephemeral keys give forward secrecy. Keys: key_schedule.h.
//
// JoinHello, device -> gateway, 131 bytes, big-endian:
//
//   offset size field
//   0      1    version            1
//   1      16   credential id      which PSK the gateway must use (sent in the clear)
//   17     32   device key         the device's ephemeral X25519 public key
//   49     16   device nonce       random
//   65     32   commitment         of the device's secret code (secret_code.h), for the ledger
//   97     2    reply port         UDP port where the device listens for pushed key messages, > 0
//   99     32   mac                HMAC-SHA-256(K_hello, bytes 0..98)
//
// JoinAccept, gateway -> device, 71 bytes, big-endian:
//
//   offset size field
//   0      1    version            1
//   1      2    gateway id         the device's home gateway
//   3      4    node id            assigned by the gateway
//   7      32   gateway key        the gateway's ephemeral X25519 public key
//   39     32   mac                HMAC-SHA-256(K_accept, hello || bytes 0..38)
//
// Both sides then hold node key = HKDF-Expand(PRK, "kmchain/v1/join/node-key" || context ||
// SHA-256(hello || accept bytes 0..38)). The hello MAC shows the gateway a holder of the PSK sent
// it; the accept MAC shows the device that the gateway holds the PSK, computed the same shared
// secret and answers this very hello (an accept for another hello fails it).
//
// Parsing is strict: a first byte other than the version is `bad version`; any other length is
// `wrong length` (the version is read first so that a later version may change the length); a
// reply port of 0 is `malformed`. Every string that parses encodes back to the same bytes, so
// the transcript is the same on both sides. MACs are compared in constant time.
//
// Replays: a hello replayed by an attacker earns it an accept it cannot use (it lacks the device's
// ephemeral key). The gateway answers a retransmitted identical hello with the accept it already
// sent and marks a credential used once its join is decided; that state is the caller's, the
// functions here are pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "enroll/credential.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"

namespace kmchain::enroll {

inline constexpr std::uint8_t kJoinVersion = 1;
inline constexpr std::size_t kDeviceNonceBytes = 16;
using DeviceNonce = std::array<std::uint8_t, kDeviceNonceBytes>;

inline constexpr std::size_t kJoinHelloBytes =
    1 + kCredentialIdBytes + 32 + kDeviceNonceBytes + 32 + 2 + crypto::kHmacSha256Bytes;
inline constexpr std::size_t kJoinAcceptBytes = 1 + 2 + 4 + 32 + crypto::kHmacSha256Bytes;
static_assert(kJoinHelloBytes == 131 && kJoinAcceptBytes == 71, "the layouts above");

enum class JoinError : std::uint8_t {
  kWrongLength = 1,  // not exactly the message's size
  kBadVersion = 2,   // first byte is not kJoinVersion
  kMalformed = 3,    // a field out of range (reply port 0)
  kAuthFailed = 4,   // MAC does not verify: another PSK or context, a change, another hello
  kWeakKey = 5,      // a peer ephemeral key of small order: the shared secret would be zero
  kFinished = 6,     // the initiator already accepted: one handshake yields one node key
};
const char* to_string(JoinError e);

struct JoinHello {
  CredentialId credential{};
  crypto::X25519PublicKey device_key{};
  DeviceNonce nonce{};
  Commitment commitment{};
  std::uint16_t reply_port = 0;
  crypto::HmacTag mac{};

  friend bool operator==(const JoinHello&, const JoinHello&) = default;
};

struct JoinAccept {
  GatewayId gateway;
  NodeId node;
  crypto::X25519PublicKey gateway_key{};
  crypto::HmacTag mac{};

  friend bool operator==(const JoinAccept&, const JoinAccept&) = default;
};

// The wire bytes, with the mac field as it stands.
Bytes encode(const JoinHello& hello);
Bytes encode(const JoinAccept& accept);

// Structure only: version, length, ranges. Authenticity is verify_hello's job (hello) and
// JoinInitiator::on_accept's (accept), since both need keys.
Result<JoinHello, JoinError> parse_hello(ByteView wire);
Result<JoinAccept, JoinError> parse_accept(ByteView wire);

// HMAC-SHA-256(K_hello, the hello's bytes 0..98): what its mac field must hold.
crypto::HmacTag hello_mac(const JoinHello& hello, const crypto::Secret256& psk,
                          const ContextId& context);

// What the device learns when the handshake completes.
struct JoinResult {
  GatewayId gateway;
  NodeId node;
  crypto::Key128 node_key;
};

// The device's side. Construction draws the ephemeral key and the nonce and builds the hello;
// the caller sends hello() and sends it again, unchanged, until an accept arrives. on_accept
// refuses anything that is not the authentic answer to this hello and stays ready for the real
// one, so an injected packet cannot end the handshake; after one success it refuses everything
// and the ephemeral private key is gone.
class JoinInitiator {
 public:
  JoinInitiator(const DeviceCredential& credential, const Commitment& commitment,
                std::uint16_t reply_port, const ContextId& context, crypto::Rng& rng);
  // With the ephemeral key and the nonce given (known-answer tests).
  JoinInitiator(const DeviceCredential& credential, const Commitment& commitment,
                std::uint16_t reply_port, const ContextId& context,
                const crypto::X25519KeyPair& ephemeral, const DeviceNonce& nonce);

  const Bytes& hello() const { return hello_; }
  bool finished() const { return !ephemeral_.has_value(); }

  Result<JoinResult, JoinError> on_accept(ByteView wire);

 private:
  void build_hello(const CredentialId& credential, const Commitment& commitment,
                   std::uint16_t reply_port, const DeviceNonce& nonce);

  crypto::Secret256 psk_;
  ContextId context_;
  std::optional<crypto::X25519KeyPair> ephemeral_;  // reset (and wiped) on success
  Bytes hello_;
};

// What the gateway sends back, and the node key it now shares with the device.
struct JoinAccepted {
  Bytes accept;
  crypto::Key128 node_key;
};

// The gateway's side: stateless apart from the context it serves. The caller parses a hello,
// looks up the PSK of hello.credential, checks that the credential is admitted and unused, then
// calls accept() with the node id it assigns.
class JoinResponder {
 public:
  explicit JoinResponder(const ContextId& context) : context_(context) {}

  [[nodiscard]] Status<JoinError> verify_hello(const JoinHello& hello,
                                               const crypto::Secret256& psk) const;

  // Verifies the hello itself (no accept without it), draws the gateway's ephemeral key and
  // builds the accept. kAuthFailed for a hello that does not verify under `psk`, kWeakKey for a
  // device key of small order.
  Result<JoinAccepted, JoinError> accept(const JoinHello& hello, const crypto::Secret256& psk,
                                         GatewayId gateway, NodeId node, crypto::Rng& rng) const;
  // With the ephemeral key given (known-answer tests).
  Result<JoinAccepted, JoinError> accept(const JoinHello& hello, const crypto::Secret256& psk,
                                         GatewayId gateway, NodeId node,
                                         const crypto::X25519KeyPair& ephemeral) const;

 private:
  Result<JoinAccepted, JoinError> accept_verified(const JoinHello& hello,
                                                  const crypto::Secret256& psk, GatewayId gateway,
                                                  NodeId node,
                                                  const crypto::X25519KeyPair& ephemeral) const;

  ContextId context_;
};

}  // namespace kmchain::enroll
