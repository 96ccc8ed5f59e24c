// SHA-256 against the FIPS 180-2 examples ("abc", the two-block message) and the digest of the
// empty string, and the incremental Sha256 against the one-shot function.
#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace kmchain::crypto {
namespace {

constexpr std::string_view kAbc = "abc";
constexpr std::string_view kAbcDigest =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kEmptyDigest =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kTwoBlock = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view kTwoBlockDigest =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

TEST(Sha256, Abc) {
  EXPECT_EQ(to_hex(sha256(as_bytes(kAbc))), kAbcDigest);
}

TEST(Sha256, EmptyString) {
  EXPECT_EQ(to_hex(sha256({})), kEmptyDigest);
}

TEST(Sha256, TwoBlockMessage) {
  EXPECT_EQ(kTwoBlock.size(), 56u);
  EXPECT_EQ(to_hex(sha256(as_bytes(kTwoBlock))), kTwoBlockDigest);
}

TEST(Sha256Incremental, NoUpdateIsTheEmptyDigest) {
  Sha256 hasher;
  EXPECT_EQ(to_hex(hasher.finish()), kEmptyDigest);
}

TEST(Sha256Incremental, EmptyUpdatesChangeNothing) {
  Sha256 hasher;
  hasher.update({}).update(as_bytes(kAbc)).update({});
  EXPECT_EQ(to_hex(hasher.finish()), kAbcDigest);
}

TEST(Sha256Incremental, OctetByOctetMatchesVector) {
  Sha256 hasher;
  for (std::size_t i = 0; i < kAbc.size(); ++i)
    hasher.update(as_bytes(kAbc.substr(i, 1)));
  EXPECT_EQ(to_hex(hasher.finish()), kAbcDigest);
}

TEST(Sha256Incremental, EverySplitMatchesOneShot) {
  // A message over two blocks, split at every point, including block boundaries.
  Bytes message(150);
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<std::uint8_t>(i * 7 + 3);
  }
  const Digest256 expected = sha256(message);
  const ByteView all(message);
  for (std::size_t split = 0; split <= message.size(); ++split) {
    Sha256 hasher;
    hasher.update(all.first(split)).update(all.subspan(split));
    EXPECT_EQ(to_hex(hasher.finish()), to_hex(expected)) << "split at " << split;
  }
}

TEST(Sha256Incremental, ThreePiecesMatchTwoBlockVector) {
  const ByteView all = as_bytes(kTwoBlock);
  Sha256 hasher;
  hasher.update(all.first(3)).update(all.subspan(3, 50)).update(all.subspan(53));
  EXPECT_EQ(to_hex(hasher.finish()), kTwoBlockDigest);
}

}  // namespace
}  // namespace kmchain::crypto
