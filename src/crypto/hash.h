// SHA-256 through EVP.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "base/bytes.h"

namespace kmchain::crypto {

using Digest256 = std::array<std::uint8_t, 32>;

Digest256 sha256(ByteView data);

// Incremental SHA-256 for data that arrives in pieces (block hashing, transcripts).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(ByteView data);
  Digest256 finish();

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace kmchain::crypto
