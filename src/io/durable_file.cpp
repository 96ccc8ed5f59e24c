#include "io/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kmchain::io {

namespace {

ByteView bytes_of(std::string_view text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::string failed(const std::filesystem::path& path, const char* what) {
  return path.string() + ": " + what + ": " + std::strerror(errno);
}

}  // namespace

bool write_all(int fd, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool sync_directory_of(const std::filesystem::path& path) {
  const std::string parent = path.parent_path().string();
  const int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

Status<std::string> write_new_file(const std::filesystem::path& path, std::string_view text,
                                   mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Err{failed(path, "cannot create")};
  // The umask may have narrowed `mode`; a secret's file must have exactly it.
  bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, bytes_of(text)) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Err{failed(path, "cannot write")};
  if (!sync_directory_of(path)) return Err{failed(path, "cannot sync the directory of")};
  return {};
}

Status<std::string> replace_file(const std::filesystem::path& path, std::string_view text,
                                 mode_t mode) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Err{failed(tmp, "cannot create")};
  bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, bytes_of(text)) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Err{failed(tmp, "cannot write")};
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Err{failed(path, "cannot replace")};
  if (!sync_directory_of(path)) return Err{failed(path, "cannot sync the directory of")};
  return {};
}

}  // namespace kmchain::io
