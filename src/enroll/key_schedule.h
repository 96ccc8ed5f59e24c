// The key schedule of the join handshake (join.h) and of device requests (device_request.h).
// Every derivation is HKDF-SHA-256 (RFC 5869); "||" is concatenation; `context` is the 32-byte
// context id, the chain id of the consortium (ledger/genesis.h), in every label so that no key,
// MAC or transcript of one consortium is valid in another.
//
//   K_hello    = HKDF(salt = "", ikm = psk, info = "kmchain/v1/join/hello" || context), 32 bytes
//   K_refusal  = HKDF(salt = "", ikm = psk, info = "kmchain/v1/join/refusal" || context), 32 bytes
//   shared     = X25519(device ephemeral, gateway ephemeral), refused when all zero
//   PRK        = HKDF-Extract(salt = psk, ikm = shared)
//   K_accept   = HKDF-Expand(PRK, "kmchain/v1/join/accept" || context || SHA-256(hello), 32)
//   transcript = SHA-256(hello || accept without its mac)
//   node key   = HKDF-Expand(PRK, "kmchain/v1/join/node-key" || context || transcript, 16)
//   K_request  = HKDF(salt = "", ikm = node key,
//                     info = "kmchain/v1/request" || context || node id (u32), 32 bytes)
//   K_reply    = HKDF(salt = "", ikm = node key,
//                     info = "kmchain/v1/reply" || context || node id (u32), 32 bytes)
//
// PRK mixes both secrets, so a node key needs the PSK (authentication) and an ephemeral private
// key (forward secrecy: a PSK leaked later does not give away past node keys). K_accept covers
// the hello it answers; the node key covers both messages in full. K_request separates the MAC
// key of device requests from the node key, which encrypts rekey messages (keys/rekey_message.h);
// K_reply, the MAC key of the gateway's status replies (status_reply.h), is a third key, so that
// no reply can pass for a request or the other way round.
//
// HKDF-Expand(HKDF-Extract(salt, ikm), info) is exactly HKDF(salt, ikm, info), so each key below
// is one call of crypto::hkdf_sha256 (checked against RFC 5869); a PRK is never stored.
#pragma once

#include <string_view>

#include "base/ids.h"
#include "crypto/hash.h"
#include "crypto/secret.h"
#include "enroll/secret_code.h"
#include "ledger/hashing.h"

namespace kmchain::enroll {

// The chain id of the consortium the device joins.
using ContextId = ledger::Hash256;

namespace label {
inline constexpr std::string_view kJoinHello = "kmchain/v1/join/hello";
inline constexpr std::string_view kJoinAccept = "kmchain/v1/join/accept";
inline constexpr std::string_view kJoinNodeKey = "kmchain/v1/join/node-key";
inline constexpr std::string_view kJoinRefusal = "kmchain/v1/join/refusal";
inline constexpr std::string_view kRequest = "kmchain/v1/request";
inline constexpr std::string_view kReply = "kmchain/v1/reply";

namespace detail {
inline constexpr std::string_view kAll[] = {kJoinHello, kJoinAccept, kJoinNodeKey, kJoinRefusal,
                                            kRequest,   kReply,      kSecretCode,  kCodeProof};
constexpr bool prefix_free() {
  for (std::string_view a : kAll) {
    for (std::string_view b : kAll) {
      if (a != b && b.substr(0, a.size()) == a) return false;
    }
  }
  return true;
}
}  // namespace detail
static_assert(detail::prefix_free(), "an enrollment label must not be a prefix of another");
}  // namespace label

crypto::Secret256 hello_key(const crypto::Secret256& psk, const ContextId& context);

crypto::Secret256 refusal_key(const crypto::Secret256& psk, const ContextId& context);

crypto::Secret256 accept_key(const crypto::Secret256& psk, const crypto::Secret256& shared,
                             const ContextId& context, const crypto::Digest256& hello_hash);

crypto::Key128 node_key(const crypto::Secret256& psk, const crypto::Secret256& shared,
                        const ContextId& context, const crypto::Digest256& transcript);

crypto::Secret256 request_key(const crypto::Key128& node_key, const ContextId& context,
                              NodeId node);

crypto::Secret256 reply_key(const crypto::Key128& node_key, const ContextId& context, NodeId node);

}  // namespace kmchain::enroll
