// FileWal against real files: round trips and reopen, a tail torn at every byte or corrupted
// at every byte of the last frame (the previous record stands and the next write is readable),
// random garbage (never a crash), compaction (the file stays small and the last record
// survives), and the typed open errors.
#include "io/file_wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>

#include "base/bytes.h"
#include "support/hex.h"
#include "support/temp_dir_test.h"

namespace kmchain::io {
namespace {

namespace fs = std::filesystem;
using kmchain::testing::unhex;

// A fresh directory per test, removed afterwards.
class FileWalTest : public kmchain::testing::TempDirTest {
 protected:
  FileWalTest() : TempDirTest("kmchain-wal") {}

  std::string path(const std::string& name = "wal") const { return (dir_ / name).string(); }

  static std::unique_ptr<FileWal> open_ok(const std::string& p) {
    auto wal = FileWal::open(p);
    EXPECT_TRUE(wal.ok()) << (wal.ok() ? "" : describe(wal.error(), p));
    return wal.ok() ? std::move(wal).value() : nullptr;
  }

  static Bytes file_bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  static void write_file(const std::string& p, ByteView bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
};

// Record i: recognisable bytes of a length that varies with i.
Bytes record(std::size_t i, std::size_t size = 0) {
  if (size == 0) size = 1 + (i * 37) % 200;
  Bytes out(size);
  for (std::size_t k = 0; k < size; ++k)
    out[k] = static_cast<std::uint8_t>(i * 131 + k);
  return out;
}

std::size_t frame_bytes(std::size_t payload_bytes) {
  return kWalFrameOverheadBytes + payload_bytes;
}

TEST_F(FileWalTest, NewFileHasNoRecord) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), std::nullopt);
  EXPECT_EQ(wal->size_bytes(), 0u);
  EXPECT_TRUE(fs::exists(path()));
}

TEST_F(FileWalTest, RoundTrip) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  wal->write(record(1));
  EXPECT_EQ(wal->read_last(), record(1));
  wal->write(record(2));
  EXPECT_EQ(wal->read_last(), record(2));
  EXPECT_EQ(fs::file_size(path()), frame_bytes(record(1).size()) + frame_bytes(record(2).size()));
}

TEST_F(FileWalTest, EmptyRecordIsARecord) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  wal->write(record(1));
  wal->write(Bytes{});
  EXPECT_EQ(wal->read_last(), Bytes{});
}

TEST_F(FileWalTest, FrameLayoutIsLengthPayloadChecksum) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  wal->write(as_bytes("abc"));
  const Bytes bytes = file_bytes(path());
  ASSERT_EQ(bytes.size(), 4u + 3u + 32u);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 7), (Bytes{0, 0, 0, 3, 'a', 'b', 'c'}));
  // SHA-256("kmchain/v1/wal" || 00000003 || "abc"), computed independently (Python hashlib).
  EXPECT_EQ(Bytes(bytes.begin() + 7, bytes.end()),
            unhex("b72f59edd254bbe383e803513b468920032594ca07e968d2a93a2a6680844d98"));
}

TEST_F(FileWalTest, ReopenReturnsTheLastRecord) {
  {
    auto wal = open_ok(path());
    ASSERT_NE(wal, nullptr);
    wal->write(record(1));
    wal->write(record(2));
  }
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), record(2));
  wal->write(record(3));
  EXPECT_EQ(wal->read_last(), record(3));
}

TEST_F(FileWalTest, ManyRecordsThenReopen) {
  constexpr std::size_t kRecords = 300;
  std::size_t total = 0;
  {
    auto wal = open_ok(path());
    ASSERT_NE(wal, nullptr);
    for (std::size_t i = 0; i < kRecords; ++i) {
      wal->write(record(i));
      total += frame_bytes(record(i).size());
    }
    EXPECT_EQ(wal->read_last(), record(kRecords - 1));
  }
  EXPECT_EQ(fs::file_size(path()), total);
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), record(kRecords - 1));
  EXPECT_EQ(wal->size_bytes(), total);
}

// A crash mid-write leaves any prefix of the last frame on disk.
TEST_F(FileWalTest, TornTailAtEveryByteFallsBackToThePreviousRecord) {
  {
    auto wal = open_ok(path("base"));
    ASSERT_NE(wal, nullptr);
    wal->write(record(1));
    wal->write(record(2));
    wal->write(record(3, 40));
  }
  const Bytes full = file_bytes(path("base"));
  const std::size_t last_start = full.size() - frame_bytes(40);
  for (std::size_t cut = last_start; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string p = path("torn");
    write_file(p, ByteView(full).first(cut));
    {
      auto wal = open_ok(p);
      ASSERT_NE(wal, nullptr);
      EXPECT_EQ(wal->read_last(), record(2));
      EXPECT_EQ(fs::file_size(p), last_start);  // the torn bytes are gone
      wal->write(record(9));
      EXPECT_EQ(wal->read_last(), record(9));
    }
    auto wal = open_ok(p);
    ASSERT_NE(wal, nullptr);
    EXPECT_EQ(wal->read_last(), record(9));
  }
}

TEST_F(FileWalTest, TornFirstFrameLeavesNoRecord) {
  {
    auto wal = open_ok(path("base"));
    ASSERT_NE(wal, nullptr);
    wal->write(record(1, 10));
  }
  const Bytes full = file_bytes(path("base"));
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    write_file(path("torn"), ByteView(full).first(cut));
    auto wal = open_ok(path("torn"));
    ASSERT_NE(wal, nullptr);
    EXPECT_EQ(wal->read_last(), std::nullopt) << cut;
    EXPECT_EQ(wal->size_bytes(), 0u);
  }
}

// Any damaged byte of the last frame - length, payload or checksum - is caught.
TEST_F(FileWalTest, CorruptByteInTheLastFrameFallsBackToThePreviousRecord) {
  {
    auto wal = open_ok(path("base"));
    ASSERT_NE(wal, nullptr);
    wal->write(record(1));
    wal->write(record(2, 24));
  }
  const Bytes full = file_bytes(path("base"));
  const std::size_t last_start = full.size() - frame_bytes(24);
  for (std::size_t at = last_start; at < full.size(); ++at) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      SCOPED_TRACE("byte " + std::to_string(at) + " xor " + std::to_string(flip));
      Bytes bad = full;
      bad[at] = static_cast<std::uint8_t>(bad[at] ^ flip);
      write_file(path("bad"), bad);
      auto wal = open_ok(path("bad"));
      ASSERT_NE(wal, nullptr);
      EXPECT_EQ(wal->read_last(), record(1));
      wal->write(record(7));
      EXPECT_EQ(wal->read_last(), record(7));
    }
  }
}

// Damage with intact frames after it is not a torn tail (a crash tears only the last append):
// open() refuses the file and names the offset of the damage, instead of dropping every later
// record silently.
TEST_F(FileWalTest, CorruptMiddleFrameIsRefusedWithItsOffset) {
  {
    auto wal = open_ok(path());
    ASSERT_NE(wal, nullptr);
    for (std::size_t i = 0; i < 5; ++i)
      wal->write(record(i, 16));
  }
  const Bytes good = file_bytes(path());
  const std::size_t third = 2 * frame_bytes(16);
  for (std::size_t at :
       {third, third + 2, third + 4, third + 4 + 15, third + 4 + 16, third + frame_bytes(16) - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    Bytes bytes = good;
    bytes[at] ^= 0x10;
    write_file(path(), bytes);
    auto wal = FileWal::open(path());
    ASSERT_FALSE(wal.ok());
    EXPECT_EQ(wal.error().code, WalError::kCorrupt);
    EXPECT_EQ(wal.error().offset, third);
    EXPECT_NE(describe(wal.error(), path()).find("byte " + std::to_string(third)),
              std::string::npos);
    // Nothing was truncated: the evidence stays for the operator.
    EXPECT_EQ(file_bytes(path()), bytes);
  }
  // Damaged bytes longer than one append can write are corruption too, even with nothing
  // intact after them.
  Bytes long_damage = good;
  long_damage.resize(good.size() + kWalRecordBytesMax + kWalFrameOverheadBytes + 1, 0);
  write_file(path(), long_damage);
  auto wal = FileWal::open(path());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.error().code, WalError::kCorrupt);
  EXPECT_EQ(wal.error().offset, good.size());
}

// A torn append that left zeros (the size grew, the data never came) is a torn tail.
TEST_F(FileWalTest, ZeroFilledTailIsATornTail) {
  {
    auto wal = open_ok(path());
    ASSERT_NE(wal, nullptr);
    wal->write(record(1, 16));
  }
  Bytes bytes = file_bytes(path());
  const std::size_t intact = bytes.size();
  bytes.resize(intact + frame_bytes(300), 0);
  write_file(path(), bytes);
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), record(1, 16));
  EXPECT_EQ(fs::file_size(path()), intact);
}

TEST_F(FileWalTest, AbsurdLengthIsCorruptionNotAnAllocation) {
  Bytes bytes = {0xff, 0xff, 0xff, 0xff};
  bytes.resize(100, 0);
  write_file(path(), bytes);
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), std::nullopt);
  EXPECT_EQ(wal->size_bytes(), 0u);
}

TEST_F(FileWalTest, LargestRecordRoundTrips) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  const Bytes big = record(5, kWalRecordBytesMax);
  wal->write(record(1));
  wal->write(big);
  EXPECT_EQ(wal->read_last(), big);
  wal.reset();
  wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), big);
}

TEST_F(FileWalTest, RecordOverTheBoundAborts) {
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  const Bytes too_big(kWalRecordBytesMax + 1, 0x5a);
  EXPECT_DEATH(wal->write(too_big), "invariant broken");
}

// Whatever the file holds, open succeeds, read_last returns a record or nothing, and the WAL
// is usable afterwards. Half the files are valid frames followed by garbage, whose last valid
// record must be found.
TEST_F(FileWalTest, GarbageNeverCrashes) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t round = 0; round < 300; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string p = path("garbage");
    std::optional<Bytes> expected;
    Bytes contents;
    if (round % 2 == 1) {
      // A few valid frames, written through the WAL itself.
      fs::remove(p);
      auto wal = open_ok(p);
      ASSERT_NE(wal, nullptr);
      const std::size_t frames = rng() % 4;
      for (std::size_t i = 0; i < frames; ++i) {
        expected = record(rng(), 1 + rng() % 64);
        wal->write(*expected);
      }
      contents = file_bytes(p);
    }
    const std::size_t garbage = rng() % 512;
    for (std::size_t i = 0; i < garbage; ++i)
      contents.push_back(static_cast<std::uint8_t>(byte(rng)));
    // Sometimes a plausible small length prefix, so the checksum path is taken too.
    if (garbage >= 4 && round % 3 == 0) {
      const std::size_t at = contents.size() - garbage;
      contents[at] = 0;
      contents[at + 1] = 0;
      contents[at + 2] = 0;
      contents[at + 3] = static_cast<std::uint8_t>(rng() % 64);
    }
    write_file(p, contents);

    auto wal = open_ok(p);
    ASSERT_NE(wal, nullptr);
    EXPECT_EQ(wal->read_last(), expected);
    EXPECT_LE(wal->size_bytes(), contents.size());
    if (round % 10 == 0) {
      wal->write(record(round));
      EXPECT_EQ(wal->read_last(), record(round));
    }
  }
}

TEST_F(FileWalTest, CompactionKeepsTheFileSmallAndTheLastRecord) {
  constexpr std::size_t kRecordBytes = 256 * 1024;
  constexpr std::size_t kRecords = 40;  // 10 MiB written: at least two compactions
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  int compactions = 0;
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < kRecords; ++i) {
    wal->write(record(i, kRecordBytes));
    const std::uint64_t size = fs::file_size(path());
    ASSERT_LE(size, kWalCompactBytes);
    EXPECT_EQ(size, wal->size_bytes());
    if (size < previous) {
      ++compactions;
      EXPECT_EQ(size, frame_bytes(kRecordBytes));  // just the new record
      EXPECT_EQ(wal->read_last(), record(i, kRecordBytes));
    }
    previous = size;
  }
  EXPECT_GE(compactions, 2);
  EXPECT_EQ(wal->read_last(), record(kRecords - 1, kRecordBytes));
  EXPECT_FALSE(fs::exists(path() + ".tmp"));
  wal.reset();
  wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), record(kRecords - 1, kRecordBytes));
  wal->write(record(99));
  EXPECT_EQ(wal->read_last(), record(99));
}

// A crash during compaction, before the rename, leaves the old file and a temporary.
TEST_F(FileWalTest, StaleCompactionTemporaryIsIgnoredAndRemoved) {
  {
    auto wal = open_ok(path());
    ASSERT_NE(wal, nullptr);
    wal->write(record(1));
  }
  write_file(path() + ".tmp", record(2));
  auto wal = open_ok(path());
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->read_last(), record(1));
  EXPECT_FALSE(fs::exists(path() + ".tmp"));
}

TEST_F(FileWalTest, OpenErrorsAreTyped) {
  auto missing_dir = FileWal::open((dir_ / "no-such-dir" / "wal").string());
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, WalError::kCannotOpen);
  EXPECT_NE(describe(missing_dir.error(), "wal").find("No such file or directory"),
            std::string::npos);

  auto directory = FileWal::open(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, WalError::kCannotOpen);

  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto not_regular = FileWal::open(fifo);
  ASSERT_FALSE(not_regular.ok());
  EXPECT_EQ(not_regular.error().code, WalError::kNotRegularFile);
}

}  // namespace
}  // namespace kmchain::io
