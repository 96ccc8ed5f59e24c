// HKDF-SHA-256 (RFC 5869) through EVP_KDF.
#pragma once

#include "base/bytes.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

// Extract-then-expand into `out` (at most 255 * 32 bytes). An empty salt means the RFC's
// default of HashLen zero bytes.
void hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, MutableByteView out);

template <std::size_t N>
Secret<N> hkdf_sha256_secret(ByteView salt, ByteView ikm, ByteView info) {
  Secret<N> out;
  hkdf_sha256(salt, ikm, info, out.mutable_view());
  return out;
}

inline Key128 hkdf_sha256_key128(ByteView salt, ByteView ikm, ByteView info) {
  return hkdf_sha256_secret<16>(salt, ikm, info);
}

}  // namespace kmchain::crypto
