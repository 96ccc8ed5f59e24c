#include "enroll/join_refusal.h"

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/mac.h"

namespace kmchain::enroll {

namespace {

// What the MAC covers: SHA-256(hello) || version || reason.
Bytes mac_input(std::uint8_t reason, ByteView hello) {
  const crypto::Digest256 hello_hash = crypto::sha256(hello);
  Bytes out(hello_hash.size() + 2);
  std::copy(hello_hash.begin(), hello_hash.end(), out.begin());
  out[hello_hash.size()] = kRefusalVersion;
  out[hello_hash.size() + 1] = reason;
  return out;
}

bool is_reason(std::uint8_t byte) {
  return byte >= static_cast<std::uint8_t>(RefusalReason::kCommitmentUsed) &&
         byte <= static_cast<std::uint8_t>(RefusalReason::kRefused);
}

}  // namespace

const char* to_string(RefusalReason r) {
  switch (r) {
    case RefusalReason::kCommitmentUsed:
      return "commitment already used";
    case RefusalReason::kCredentialUsed:
      return "credential already used";
    case RefusalReason::kUnavailable:
      return "unavailable";
    case RefusalReason::kRefused:
      return "refused";
  }
  return "unknown";
}

Bytes encode_refusal(RefusalReason reason, ByteView hello, const crypto::Secret256& psk,
                     const ContextId& context) {
  const auto r = static_cast<std::uint8_t>(reason);
  const crypto::HmacTag mac =
      crypto::hmac_sha256(refusal_key(psk, context).view(), mac_input(r, hello));
  Bytes out(kRefusalBytes);
  out[0] = kRefusalVersion;
  out[1] = r;
  std::copy_n(mac.begin(), kRefusalBytes - 2, out.begin() + 2);
  return out;
}

Result<RefusalReason, JoinError> open_refusal(ByteView wire, ByteView hello,
                                              const crypto::Secret256& psk,
                                              const ContextId& context) {
  if (wire.empty()) return Err{JoinError::kWrongLength};
  if (wire[0] != kRefusalVersion) return Err{JoinError::kBadVersion};
  if (wire.size() != kRefusalBytes) return Err{JoinError::kWrongLength};
  if (!is_reason(wire[1])) return Err{JoinError::kMalformed};
  if (!crypto::hmac_sha256_verify(refusal_key(psk, context).view(), mac_input(wire[1], hello),
                                  wire.subspan(2))) {
    return Err{JoinError::kAuthFailed};
  }
  return static_cast<RefusalReason>(wire[1]);
}

}  // namespace kmchain::enroll
