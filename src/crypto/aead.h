// AES-128-CCM (RFC 3610, NIST SP 800-38C) with a 13-byte nonce and an 8- or 16-byte tag: the
// AEAD of every kmchain message. Callers own nonce uniqueness per key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

enum class CcmTag : std::size_t { k8 = 8, k16 = 16 };

inline constexpr std::size_t kCcmNonceBytes = 13;
using CcmNonce = std::array<std::uint8_t, kCcmNonceBytes>;

inline constexpr std::size_t tag_bytes(CcmTag tag) {
  return static_cast<std::size_t>(tag);
}

// Appends ciphertext || tag to `out`.
void aes128_ccm_seal(const Key128& key, const CcmNonce& nonce, ByteView aad, ByteView plaintext,
                     CcmTag tag, Bytes& out);

// Authenticates and decrypts ciphertext || tag. On success appends the plaintext to `out` and
// returns true; on failure returns false and leaves `out` as it was.
[[nodiscard]] bool aes128_ccm_open(const Key128& key, const CcmNonce& nonce, ByteView aad,
                                   ByteView sealed, CcmTag tag, Bytes& out);

namespace detail {
// The general form, for published vectors with other nonce (7..13) and tag (4..16, even)
// lengths. Production code uses the typed functions above.
void ccm_seal(ByteView key16, ByteView nonce, ByteView aad, ByteView plaintext, std::size_t tag_len,
              Bytes& out);
[[nodiscard]] bool ccm_open(ByteView key16, ByteView nonce, ByteView aad, ByteView sealed,
                            std::size_t tag_len, Bytes& out);
}  // namespace detail

}  // namespace kmchain::crypto
