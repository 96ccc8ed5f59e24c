// Join refusals: why a gateway refuses a join whose hello it verified, authenticated so that the
// device can act on it. A device told that its commitment is used draws a new secret code and
// joins again; an attacker who could forge that would make a device abandon a join its gateway
// accepted (and find its credential used by it), so the refusal carries a MAC under a key of the
// PSK, over the hello it answers.
//
// Wire format, 18 bytes:
//
//   offset size field
//   0      1    version   1
//   1      1    reason    1 commitment used, 2 credential used, 3 unavailable, 4 refused
//   2      16   mac       HMAC-SHA-256(K_refusal, SHA-256(hello) || bytes 0..1), first 16 bytes
//
// K_refusal = HKDF(salt = "", ikm = psk, info = "kmchain/v1/join/refusal" || context)
// (key_schedule.h). A refusal of another hello, or under another PSK, fails its MAC.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/secret.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"

namespace kmchain::enroll {

inline constexpr std::uint8_t kRefusalVersion = 1;
inline constexpr std::size_t kRefusalBytes = 18;

enum class RefusalReason : std::uint8_t {
  kCommitmentUsed = 1,  // another join took the commitment: join with a fresh secret code
  kCredentialUsed = 2,  // another hello joined with this credential
  kUnavailable = 3,     // the gateway cannot take it now (mempool full): try again later
  kRefused = 4,         // the contract refused it (network full, ...): try again later
};
const char* to_string(RefusalReason r);

Bytes encode_refusal(RefusalReason reason, ByteView hello, const crypto::Secret256& psk,
                     const ContextId& context);
// The reason of a refusal of `hello`; kWrongLength, kBadVersion, kMalformed (unknown reason) or
// kAuthFailed otherwise.
Result<RefusalReason, JoinError> open_refusal(ByteView wire, ByteView hello,
                                              const crypto::Secret256& psk,
                                              const ContextId& context);

}  // namespace kmchain::enroll
