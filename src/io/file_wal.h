// FileWal: the consensus WAL (consensus::ConsensusWal) as one append-only file. The signer
// writes its state here before any message it signs leaves the process, and reads the last
// record back on restart; only that last record matters.
//
// File format: a sequence of frames, each
//
//   size  field
//   4     length     of the payload, big-endian, at most kWalRecordBytesMax
//   n     payload    the record
//   32    checksum   SHA-256("kmchain/v1/wal" || length || payload)
//
// A crash can tear only the last append: one frame, at the end. So a frame that is short, too
// long or fails its checksum is a torn tail when nothing intact follows it and what follows is
// no longer than one frame can be; it is dropped and the previous record stands (that write
// never returned, so nothing it protected was sent), and open() truncates it so that later
// appends stay readable. Anything else - a damaged frame with intact frames after it, or more
// damaged bytes than one append writes - is corruption, not a crash: open() refuses the file
// with the offset of the damage, because the signer's state it holds cannot be trusted.
//
// The file stays bounded: a write that would take it past kWalCompactBytes replaces the whole
// file with a file holding just the new record (write to a temporary, fsync, rename over, fsync
// the directory). A crash at any point of that leaves either the old file or the new one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "consensus/storage.h"

namespace kmchain::io {

// The checksum's domain tag: a WAL checksum is never a valid hash of anything else.
inline constexpr std::string_view kWalDomain = "kmchain/v1/wal";
// Length prefix and checksum around each payload.
inline constexpr std::size_t kWalFrameOverheadBytes = 4 + 32;
// Bytes of one record. The signer's state is a few hundred bytes (heights, rounds, the locked
// and valid values by hash); 1 MiB leaves room for a record that carries a whole block, and the
// slack covers its own framing. A length above this is read as corruption, so a flipped bit in
// a length prefix cannot make the reader allocate gigabytes.
inline constexpr std::size_t kWalRecordBytesMax = (1u << 20) + 4096;
// The file is compacted to one record rather than grow past this.
inline constexpr std::size_t kWalCompactBytes = 4u << 20;
static_assert(kWalRecordBytesMax + kWalFrameOverheadBytes <= kWalCompactBytes,
              "a compacted file (one frame) must be below the compaction threshold");
static_assert(kWalRecordBytesMax <= UINT32_MAX, "the length prefix is a u32");

enum class WalError : std::uint8_t {
  kCannotOpen = 1,      // open(2) failed: missing directory, permissions, a directory
  kNotRegularFile = 2,  // the path names a device, socket or FIFO
  kCannotRead = 3,      // reading the existing file failed (an I/O error, not bad contents)
  kCannotTruncate = 4,  // dropping a torn tail failed
  kCannotSync = 5,      // syncing the repaired file or its directory failed
  kCorrupt = 6,         // damage that is not a torn tail
};
const char* to_string(WalError error);

// Why open() refused: the kind, the system's error number for a failed call, and for kCorrupt
// the offset of the first damaged frame.
struct WalOpenError {
  WalError code = WalError::kCannotOpen;
  int system_error = 0;
  std::uint64_t offset = 0;
};
// "<path>: <what>: <system error text or offset>".
std::string describe(const WalOpenError& error, const std::string& path);

class FileWal final : public consensus::ConsensusWal {
 public:
  // Opens or creates the WAL at `path`, drops a torn tail and removes a temporary left by a
  // compaction that crashed before its rename; refuses a file damaged elsewhere (kCorrupt).
  static Result<std::unique_ptr<FileWal>, WalOpenError> open(const std::string& path);

  ~FileWal() override;
  FileWal(const FileWal&) = delete;
  FileWal& operator=(const FileWal&) = delete;

  // Appends `record` (at most kWalRecordBytesMax bytes, checked) and fdatasyncs. Aborts if the
  // write or sync fails: what reached the disk is unknown, and the restart reads it back.
  void write(ByteView record) override;
  // Scans the file from its start; the last frame before the first bad one. Aborts if the read
  // syscall fails or the file was damaged after open().
  std::optional<Bytes> read_last() const override;

  // Bytes of the file: the end of the last intact frame.
  std::uint64_t size_bytes() const { return size_bytes_; }

 private:
  FileWal(std::string path, int fd, std::uint64_t size_bytes);
  void append(ByteView frame);
  void compact(ByteView frame);

  std::string path_;
  int fd_;
  std::uint64_t size_bytes_;
};

}  // namespace kmchain::io
