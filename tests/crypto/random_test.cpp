// The injected randomness: DeterministicRng replays per seed, uniform() is in range and close to
// uniform, and OsRng produces bytes that are not constant.
#include "crypto/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace kmchain::crypto {
namespace {

Bytes stream(std::uint64_t seed, std::size_t length) {
  DeterministicRng rng(seed);
  Bytes out(length);
  rng.fill(out);
  return out;
}

TEST(DeterministicRng, SameSeedSameStream) {
  // Longer than the internal 4096-byte buffer, so a refill is part of the stream.
  EXPECT_EQ(stream(42, 10000), stream(42, 10000));
}

TEST(DeterministicRng, StreamDoesNotDependOnFillSizes) {
  const Bytes whole = stream(7, 9000);
  DeterministicRng rng(7);
  Bytes pieces;
  std::size_t chunk = 1;
  while (pieces.size() < whole.size()) {
    Bytes part(std::min(chunk, whole.size() - pieces.size()));
    rng.fill(part);
    pieces.insert(pieces.end(), part.begin(), part.end());
    chunk = chunk * 3 + 1;  // 1, 4, 13, 40, ... crosses the buffer boundary mid-fill
  }
  EXPECT_EQ(to_hex(pieces), to_hex(whole));
}

TEST(DeterministicRng, DifferentSeedsDiffer) {
  EXPECT_NE(stream(1, 64), stream(2, 64));
  EXPECT_NE(stream(0, 64), stream(1, 64));
  // Seeds that differ only in which byte is set.
  EXPECT_NE(stream(1, 64), stream(256, 64));
  EXPECT_NE(stream(1, 64), stream(std::uint64_t{1} << 56, 64));
}

TEST(DeterministicRng, SameSeedSameDraws) {
  DeterministicRng a(99);
  DeterministicRng b(99);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.u64(), b.u64());
    EXPECT_EQ(a.uniform(1000), b.uniform(1000));
  }
}

TEST(Rng, UniformStaysInRange) {
  DeterministicRng rng(5);
  for (std::uint64_t bound :
       {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{10},
        std::uint64_t{1000003}, (std::uint64_t{1} << 63) + 1, UINT64_MAX}) {
    for (int i = 0; i < 2000; ++i) {
      EXPECT_LT(rng.uniform(bound), bound) << "bound " << bound;
    }
  }
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(rng.uniform(1), 0u);
}

// 10 buckets x 100000 expected draws. One bucket's count has a standard deviation of 300, so
// the 5% band (5000) is about 16 deviations wide: a correct uniform() never leaves it.
void expect_roughly_uniform(Rng& rng) {
  constexpr std::size_t kBuckets = 10;
  constexpr std::size_t kPerBucket = 100000;
  std::array<std::size_t, kBuckets> counts{};
  for (std::size_t i = 0; i < kBuckets * kPerBucket; ++i) {
    const std::uint64_t v = rng.uniform(kBuckets);
    ASSERT_LT(v, kBuckets);
    ++counts[static_cast<std::size_t>(v)];
  }
  for (std::size_t b = 0; b < kBuckets; ++b) {
    EXPECT_GE(counts[b], kPerBucket * 95 / 100) << "bucket " << b;
    EXPECT_LE(counts[b], kPerBucket * 105 / 100) << "bucket " << b;
  }
}

TEST(Rng, UniformIsRoughlyUniformDeterministic) {
  DeterministicRng rng(2024);
  expect_roughly_uniform(rng);
}

TEST(Rng, UniformIsRoughlyUniformOs) {
  OsRng rng;
  expect_roughly_uniform(rng);
}

TEST(Rng, UnitIsInHalfOpenInterval) {
  DeterministicRng rng(11);
  double sum = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Mean 0.5, standard deviation of the mean about 0.0009.
  EXPECT_NEAR(sum / kDraws, 0.5, 0.01);
}

TEST(OsRng, FillsNonConstantBytes) {
  OsRng rng;
  Bytes a(64);
  Bytes b(64);
  rng.fill(a);
  rng.fill(b);
  bool varied = false;
  for (std::uint8_t x : a)
    varied = varied || x != a[0];
  EXPECT_TRUE(varied) << to_hex(a);
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(64, 0));
}

TEST(OsRng, EmptyFillIsFine) {
  OsRng rng;
  Bytes empty;
  rng.fill(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(OsRng, SecretsDiffer) {
  OsRng rng;
  EXPECT_FALSE(rng.secret<32>() == rng.secret<32>());
  EXPECT_FALSE(rng.key128() == Key128());
}

}  // namespace
}  // namespace kmchain::crypto
