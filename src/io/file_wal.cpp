// FileWal: frames, the scan that finds the last intact one, appends and compaction. Every
// syscall of the WAL is in this file; a failure to write or sync aborts (see file_wal.h).
#include "io/file_wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "crypto/hash.h"
#include "io/durable_file.h"

namespace kmchain::io {

const char* to_string(WalError error) {
  switch (error) {
    case WalError::kCannotOpen:
      return "cannot open";
    case WalError::kNotRegularFile:
      return "not a regular file";
    case WalError::kCannotRead:
      return "cannot read";
    case WalError::kCannotTruncate:
      return "cannot truncate the torn tail";
    case WalError::kCannotSync:
      return "cannot sync";
    case WalError::kCorrupt:
      return "damaged, and not by a crash (intact records follow the damage, or more of it than "
             "one write)";
  }
  return "unknown wal error";
}

std::string describe(const WalOpenError& error, const std::string& path) {
  std::string out = path + ": " + to_string(error.code);
  if (error.code == WalError::kCorrupt) {
    out += ": the first damaged record starts at byte " + std::to_string(error.offset) +
           "; the signer's state cannot be trusted, so the gateway will not sign with it";
  } else if (error.system_error != 0) {
    out += ": " + std::string(std::strerror(error.system_error));
  }
  return out;
}

namespace {

constexpr std::size_t kLengthBytes = 4;
constexpr std::size_t kChecksumBytes = 32;
static_assert(kLengthBytes + kChecksumBytes == kWalFrameOverheadBytes);

// Closes a descriptor on every early return of open().
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

[[noreturn]] void die(const char* what, const std::string& path) {
  std::fprintf(stderr, "kmchain wal %s: %s failed: %s\n", path.c_str(), what, std::strerror(errno));
  std::abort();
}

crypto::Digest256 checksum(ByteView length, ByteView payload) {
  crypto::Sha256 h;
  h.update(as_bytes(kWalDomain)).update(length).update(payload);
  return h.finish();
}

Bytes make_frame(ByteView record) {
  Bytes frame;
  frame.reserve(kWalFrameOverheadBytes + record.size());
  codec::ByteWriter w(frame);
  w.u32(static_cast<std::uint32_t>(record.size()));
  w.raw(record);
  const crypto::Digest256 sum = checksum(ByteView(frame).first(kLengthBytes), record);
  w.raw(sum);
  return frame;
}

enum class ReadOutcome { kOk, kShort, kFailed };

// Reads exactly out.size() bytes at `offset`, retrying interrupted and partial reads.
ReadOutcome pread_exact(int fd, MutableByteView out, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadOutcome::kFailed;
    if (n == 0) return ReadOutcome::kShort;
    done += static_cast<std::size_t>(n);
  }
  return ReadOutcome::kOk;
}

// Writes all of `data` at `offset`, retrying interrupted and partial writes.
bool pwrite_all(int fd, ByteView data, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

struct Scan {
  std::optional<Bytes> last;
  std::uint64_t intact_end = 0;  // offset just past the last intact frame
  bool read_failed = false;      // a read syscall failed: the contents are unknown
  int read_error = 0;
  bool corrupt = false;  // what follows intact_end is not a torn tail
};

// Whether the frame at `at` is intact (its length fits in `file_bytes` and its checksum holds),
// with its payload. Reads at most one frame; kFailed only when the read syscall fails.
ReadOutcome frame_at(int fd, std::uint64_t at, std::uint64_t file_bytes, Bytes& body,
                     std::optional<Bytes>& payload_out) {
  if (file_bytes - at < kWalFrameOverheadBytes) return ReadOutcome::kShort;
  std::uint8_t length_bytes[kLengthBytes];
  ReadOutcome r = pread_exact(fd, length_bytes, at);
  if (r != ReadOutcome::kOk) return r;
  codec::ByteReader reader(length_bytes);
  const std::uint32_t length = reader.u32();
  if (length > kWalRecordBytesMax || file_bytes - at < kWalFrameOverheadBytes + length)
    return ReadOutcome::kShort;
  body.resize(length + kChecksumBytes);
  r = pread_exact(fd, body, at + kLengthBytes);
  if (r != ReadOutcome::kOk) return r;
  const ByteView payload = ByteView(body).first(length);
  const crypto::Digest256 expected = checksum(length_bytes, payload);
  if (!std::equal(expected.begin(), expected.end(), body.begin() + length))
    return ReadOutcome::kShort;
  payload_out = Bytes(payload.begin(), payload.end());
  return ReadOutcome::kOk;
}

// Walks the frames from the start of the file and stops at the first that is short, longer
// than the bound, or fails its checksum; then decides whether what is left is a torn tail.
// Sizes are checked against the file's length before anything is allocated, so no contents can
// make it read or allocate more than one record at a time.
Scan scan(int fd) {
  Scan out;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.read_failed = true;
    out.read_error = errno;
    return out;
  }
  const auto file_bytes = static_cast<std::uint64_t>(st.st_size);
  Bytes body;
  std::uint64_t offset = 0;
  while (offset < file_bytes) {
    std::optional<Bytes> payload;
    const ReadOutcome r = frame_at(fd, offset, file_bytes, body, payload);
    if (r == ReadOutcome::kFailed) {
      out.read_failed = true;
      out.read_error = errno;
      return out;
    }
    if (r != ReadOutcome::kOk) break;
    offset += kWalFrameOverheadBytes + payload->size();
    out.last = std::move(payload);
    out.intact_end = offset;
  }
  if (offset == file_bytes) return out;
  // One append writes one frame: a tear is at most that long, with nothing intact after it.
  if (file_bytes - offset > kWalRecordBytesMax + kWalFrameOverheadBytes) {
    out.corrupt = true;
    return out;
  }
  Bytes tail(file_bytes - offset);
  if (const ReadOutcome r = pread_exact(fd, tail, offset); r != ReadOutcome::kOk) {
    out.read_failed = r == ReadOutcome::kFailed;
    out.read_error = errno;
    return out;
  }
  for (std::size_t at = 1; at + kWalFrameOverheadBytes <= tail.size(); ++at) {
    const ByteView length_bytes = ByteView(tail).subspan(at, kLengthBytes);
    codec::ByteReader reader(length_bytes);
    const std::uint32_t length = reader.u32();
    if (length > tail.size() - at - kWalFrameOverheadBytes) continue;
    const ByteView payload = ByteView(tail).subspan(at + kLengthBytes, length);
    const crypto::Digest256 expected = checksum(length_bytes, payload);
    if (std::equal(expected.begin(), expected.end(), payload.end())) {
      out.corrupt = true;
      return out;
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<FileWal>, WalOpenError> FileWal::open(const std::string& path) {
  // A compaction that crashed before its rename left the old file intact and this temporary
  // half-written; the next compaction truncates it anyway, so a failure here does not matter.
  ::unlink((path + ".tmp").c_str());

  const auto failed = [](WalError code) { return Err{WalOpenError{code, errno, 0}}; };
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return failed(WalError::kCannotOpen);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return failed(WalError::kCannotRead);
  if (!S_ISREG(st.st_mode)) return Err{WalOpenError{WalError::kNotRegularFile, 0, 0}};

  const Scan found = scan(fd.get());
  if (found.read_failed) return Err{WalOpenError{WalError::kCannotRead, found.read_error, 0}};
  if (found.corrupt) return Err{WalOpenError{WalError::kCorrupt, 0, found.intact_end}};
  if (found.intact_end < static_cast<std::uint64_t>(st.st_size)) {
    // Appends after a torn tail would be unreachable: the scan stops at the tear.
    if (::ftruncate(fd.get(), static_cast<off_t>(found.intact_end)) != 0) {
      return failed(WalError::kCannotTruncate);
    }
    if (::fdatasync(fd.get()) != 0) return failed(WalError::kCannotSync);
  }
  // The file may have just been created: its directory entry must be durable before the first
  // record in it is relied on.
  if (!sync_directory_of(path)) return failed(WalError::kCannotSync);

  return std::unique_ptr<FileWal>(new FileWal(path, fd.release(), found.intact_end));
}

FileWal::FileWal(std::string path, int fd, std::uint64_t size_bytes)
    : path_(std::move(path)), fd_(fd), size_bytes_(size_bytes) {}

FileWal::~FileWal() {
  ::close(fd_);
}

void FileWal::write(ByteView record) {
  // The signer writes its own state: a record over the bound is a bug here, not bad input.
  KMCHAIN_CHECK(record.size() <= kWalRecordBytesMax);
  const Bytes frame = make_frame(record);
  if (size_bytes_ + frame.size() > kWalCompactBytes) {
    compact(frame);
  } else {
    append(frame);
  }
}

void FileWal::append(ByteView frame) {
  if (!pwrite_all(fd_, frame, size_bytes_)) die("write", path_);
  if (::fdatasync(fd_) != 0) die("fdatasync", path_);
  size_bytes_ += frame.size();
}

// Only the last record matters, so the new file is that record alone. rename(2) replaces the
// old file atomically; the directory sync makes the replacement itself durable.
void FileWal::compact(ByteView frame) {
  const std::string tmp = path_ + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) die("open of the compaction file", tmp);
  if (!pwrite_all(fd.get(), frame, 0)) die("write", tmp);
  if (::fsync(fd.get()) != 0) die("fsync", tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) die("rename of the compaction file", tmp);
  if (!sync_directory_of(path_)) die("fsync of the directory", path_);
  // The descriptor of the temporary now names the file at path_.
  ::close(fd_);
  fd_ = fd.release();
  size_bytes_ = frame.size();
}

std::optional<Bytes> FileWal::read_last() const {
  Scan found = scan(fd_);
  if (found.read_failed) die("read", path_);
  if (found.corrupt) die("read (the file was damaged after it was opened)", path_);
  return std::move(found.last);
}

}  // namespace kmchain::io
