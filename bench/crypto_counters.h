// Counts of the crypto primitives kmchain's own code calls, taken at the OpenSSL boundary.
//
// bench/CMakeLists.txt links kmchain_bench with `--wrap=EVP_KDF_derive` and
// `--wrap=EVP_EncryptFinal_ex`: every call our objects make to those functions goes through a
// counting shim first. crypto::hkdf_sha256 makes exactly one EVP_KDF_derive call, and
// crypto::detail::ccm_seal exactly one EVP_EncryptFinal_ex call (nothing else of ours calls
// it: DeterministicRng uses EVP_EncryptUpdate only, OsRng RAND_priv_bytes), so the two counts
// are HKDF derivations and AES-CCM seals. Calls OpenSSL makes internally are not counted.
#pragma once

#include <cstdint>

namespace kmchain::bench {

struct CryptoCounts {
  std::uint64_t hkdf = 0;   // crypto::hkdf_sha256 calls
  std::uint64_t seals = 0;  // crypto::aes128_ccm_seal calls
};

// Totals since the process started.
CryptoCounts crypto_counts();

inline CryptoCounts operator-(const CryptoCounts& a, const CryptoCounts& b) {
  return {a.hkdf - b.hkdf, a.seals - b.seals};
}

}  // namespace kmchain::bench
