// Rekey batches: what a push carries (keys/rekey_batch.h). Round trips, and every malformed
// batch refused with its reason.
#include "keys/rekey_batch.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmchain::keys {
namespace {

TEST(RekeyBatch, RoundTripsInOrder) {
  const Bytes a{1, 2, 3};
  const Bytes b(300, 7);
  const Bytes c{9};
  const Bytes wire = encode_batch({a, b, c});
  EXPECT_EQ(wire.size(), 2 + 3 * 4 + a.size() + b.size() + c.size());
  auto decoded = decode_batch(wire);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 3u);
  EXPECT_EQ(Bytes((*decoded)[0].begin(), (*decoded)[0].end()), a);
  EXPECT_EQ(Bytes((*decoded)[1].begin(), (*decoded)[1].end()), b);
  EXPECT_EQ(Bytes((*decoded)[2].begin(), (*decoded)[2].end()), c);
}

TEST(RekeyBatch, EveryTruncationIsRefused) {
  const Bytes wire = encode_batch({Bytes{1, 2, 3}, Bytes(40, 5)});
  for (std::size_t n = 0; n < wire.size(); ++n) {
    auto decoded = decode_batch(ByteView(wire).first(n));
    EXPECT_FALSE(decoded.ok()) << n;
  }
}

TEST(RekeyBatch, MalformedBatchesSayWhy) {
  Bytes wire = encode_batch({Bytes{1, 2, 3}});
  Bytes bad_version = wire;
  bad_version[0] = 2;
  EXPECT_EQ(decode_batch(bad_version).error(), BatchError::kBadVersion);
  Bytes none = wire;
  none[1] = 0;
  EXPECT_EQ(decode_batch(none).error(), BatchError::kBadCount);
  Bytes trailing = wire;
  trailing.push_back(0);
  EXPECT_EQ(decode_batch(trailing).error(), BatchError::kTrailing);
  Bytes huge = wire;
  huge[2] = 0xff;  // a length of 4 GiB - something
  EXPECT_EQ(decode_batch(huge).error(), BatchError::kTooLarge);
  Bytes short_length = wire;
  short_length[5] = 4;  // claims one byte more than there is
  EXPECT_EQ(decode_batch(short_length).error(), BatchError::kTruncated);
}

// One message may be as large as a bundle gets; several together no larger than a gateway packs.
TEST(RekeyBatch, SeveralMessagesAreBoundedInTotal) {
  const Bytes large(kRekeyBatchBytesMax + 1, 3);
  EXPECT_TRUE(decode_batch(encode_batch({large})).ok());
  const Bytes half(kRekeyBatchBytesMax / 2, 4);
  EXPECT_TRUE(decode_batch(encode_batch({half, half})).ok());
  EXPECT_EQ(decode_batch(encode_batch({half, half, Bytes{1}})).error(), BatchError::kTooLarge);
  EXPECT_EQ(decode_batch(encode_batch({Bytes{1}, large})).error(), BatchError::kTooLarge);
}

}  // namespace
}  // namespace kmchain::keys
