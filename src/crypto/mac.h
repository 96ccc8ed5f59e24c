// HMAC-SHA-256 (RFC 2104 over SHA-256, FIPS 198-1) through EVP_MAC: the MACs of the join
// handshake and of authenticated device requests (src/enroll). Checked against RFC 4231.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace kmchain::crypto {

inline constexpr std::size_t kHmacSha256Bytes = 32;
// The shortest tag hmac_sha256_verify accepts. RFC 4231 test case 5 truncates to 128 bits, and
// NIST SP 800-107 asks for at least 64; 128 keeps forgery by guessing at 2^-128 per try.
inline constexpr std::size_t kHmacTagBytesMin = 16;
static_assert(kHmacTagBytesMin <= kHmacSha256Bytes);

using HmacTag = std::array<std::uint8_t, kHmacSha256Bytes>;

// HMAC-SHA-256(key, message). Any key length, the empty key included (longer than the 64-byte
// block it is hashed first, as RFC 2104 says).
HmacTag hmac_sha256(ByteView key, ByteView message);

// The same MAC over a message that arrives in pieces (a transcript of two messages).
class HmacSha256 {
 public:
  explicit HmacSha256(ByteView key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  HmacSha256& update(ByteView data);
  // Once: the context holds the keyed state until it is destroyed, and finishing twice is a bug.
  HmacTag finish();

 private:
  EVP_MAC_CTX* ctx_;
  bool finished_ = false;
};

// Whether `tag` is HMAC-SHA-256(key, message) or, for a truncated tag, its first tag.size()
// bytes. The comparison takes the same time wherever the tags differ. A tag shorter than
// kHmacTagBytesMin or longer than 32 bytes is refused: the length comes from the wire format,
// never from the peer.
[[nodiscard]] bool hmac_sha256_verify(ByteView key, ByteView message, ByteView tag);

}  // namespace kmchain::crypto
