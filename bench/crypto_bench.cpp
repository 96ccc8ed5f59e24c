// Raw primitives: the unit costs the key manager and keyring figures are compared with.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/aead.h"
#include "crypto/dh.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/sign.h"
#include "keys/derivation.h"
#include "keys/key_id.h"

namespace kmchain::bench {
namespace {

using crypto::Key128;

constexpr std::size_t kAadBytes = 28;  // a rekey message header (keys::kRekeyHeaderBytes)
constexpr crypto::CcmTag kTag = crypto::CcmTag::k16;

Bytes random_bytes(crypto::Rng& rng, std::size_t n) {
  Bytes out(n);
  rng.fill(out);
  return out;
}

// One 16-byte key from a 16-byte salt and key and a 35-byte info: the shape of keys::refresh
// ("kmchain/v1/refresh" | 9-byte key id | 8-byte position).
void BM_HkdfSha256Key128(benchmark::State& state) {
  crypto::DeterministicRng rng(1);
  const Key128 salt = rng.key128();
  const Key128 ikm = rng.key128();
  const Bytes info = random_bytes(rng, 35);
  for (auto _ : state) {
    Key128 key = crypto::hkdf_sha256_key128(salt.view(), ikm.view(), info);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_HkdfSha256Key128);

// keys::refresh: the label encoding plus one HKDF.
void BM_KeyRefresh(benchmark::State& state) {
  crypto::DeterministicRng rng(2);
  Key128 key = rng.key128();
  const Key128 refresh_key = rng.key128();
  const auto id = keys::KeyId::pairwise_set_key(SetId{3}, SetId{7});
  std::uint64_t position = 1;
  for (auto _ : state) {
    key = keys::refresh(key, refresh_key, id, Position{position++});
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_KeyRefresh);

// AES-128-CCM seal of range(0) plaintext bytes with a 28-byte AAD and a 16-byte tag. 26 bytes
// is a refresh body; the larger sizes bracket the key bundle a joiner receives.
void BM_Aes128CcmSeal(benchmark::State& state) {
  crypto::DeterministicRng rng(3);
  const Key128 key = rng.key128();
  crypto::CcmNonce nonce{};
  rng.fill(nonce);
  const Bytes aad = random_bytes(rng, kAadBytes);
  const Bytes plaintext = random_bytes(rng, static_cast<std::size_t>(state.range(0)));
  Bytes out;
  out.reserve(plaintext.size() + crypto::tag_bytes(kTag));
  for (auto _ : state) {
    out.clear();
    crypto::aes128_ccm_seal(key, nonce, aad, plaintext, kTag, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Aes128CcmSeal)->Arg(26)->Arg(70)->Arg(1024)->Arg(4096)->Arg(16384);

void BM_Aes128CcmOpen(benchmark::State& state) {
  crypto::DeterministicRng rng(4);
  const Key128 key = rng.key128();
  crypto::CcmNonce nonce{};
  rng.fill(nonce);
  const Bytes aad = random_bytes(rng, kAadBytes);
  const Bytes plaintext = random_bytes(rng, static_cast<std::size_t>(state.range(0)));
  Bytes sealed;
  crypto::aes128_ccm_seal(key, nonce, aad, plaintext, kTag, sealed);
  Bytes out;
  out.reserve(plaintext.size());
  for (auto _ : state) {
    out.clear();
    if (!crypto::aes128_ccm_open(key, nonce, aad, sealed, kTag, out)) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Aes128CcmOpen)->Arg(26)->Arg(70);

// A 13-byte CCM nonce from the OS CSPRNG: what KeyManager draws for every message it seals.
void BM_OsRngNonce(benchmark::State& state) {
  crypto::OsRng rng;
  crypto::CcmNonce nonce{};
  for (auto _ : state) {
    rng.fill(nonce);
    benchmark::DoNotOptimize(nonce);
  }
}
BENCHMARK(BM_OsRngNonce);

// Ed25519 over 57 bytes, the size of a ledger transaction.
void BM_Ed25519Sign(benchmark::State& state) {
  crypto::DeterministicRng rng(5);
  const auto pair = crypto::Ed25519KeyPair::generate(rng);
  const Bytes message = random_bytes(rng, 57);
  for (auto _ : state) {
    auto signature = pair.sign(message);
    benchmark::DoNotOptimize(signature);
  }
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  crypto::DeterministicRng rng(6);
  const auto pair = crypto::Ed25519KeyPair::generate(rng);
  const Bytes message = random_bytes(rng, 57);
  const auto signature = pair.sign(message);
  for (auto _ : state) {
    if (!crypto::ed25519_verify(pair.public_key(), message, signature)) {
      state.SkipWithError("verify failed");
      break;
    }
  }
}
BENCHMARK(BM_Ed25519Verify);

// One X25519 shared secret (the peer's public key is fixed; key generation is not timed).
void BM_X25519Derive(benchmark::State& state) {
  crypto::DeterministicRng rng(7);
  const auto mine = crypto::X25519KeyPair::generate(rng);
  const auto peer = crypto::X25519KeyPair::generate(rng);
  crypto::Secret256 shared;
  for (auto _ : state) {
    if (!mine.derive(peer.public_key(), shared)) {
      state.SkipWithError("derive failed");
      break;
    }
    benchmark::DoNotOptimize(shared);
  }
}
BENCHMARK(BM_X25519Derive);

}  // namespace
}  // namespace kmchain::bench
