#include "kmchain/device_state.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/bytes.h"

namespace kmchain::app {

namespace fs = std::filesystem;

bool write_file_atomic(const fs::path& path, std::string_view text, unsigned mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return false;
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return true;
}

std::optional<DeviceStateFile> load_device_state(const fs::path& path, std::string& error) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  DeviceStateFile state;
  bool have_code = false;
  std::optional<std::uint32_t> node;
  std::optional<std::uint16_t> gateway;
  std::optional<crypto::Key128> node_key;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (line.empty()) continue;
    if (eq == std::string::npos) {
      error = path.string() + ": not key=value: " + line.substr(0, 20);
      return std::nullopt;
    }
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    Bytes bytes;
    if (key == "secret_code" || key == "node_key") {
      const std::size_t want = key == "secret_code" ? 32 : 16;
      if (!from_hex(value, bytes) || bytes.size() != want) {
        error = path.string() + ": " + key + ": expected " + std::to_string(2 * want) + " hex";
        return std::nullopt;
      }
      if (key == "secret_code") {
        state.code = crypto::Secret256::from_view(bytes);
        have_code = true;
      } else {
        node_key = crypto::Key128::from_view(bytes);
      }
      OPENSSL_cleanse(bytes.data(), bytes.size());
    } else if (key == "node" || key == "gateway" || key == "request_counter") {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') {
        error = path.string() + ": " + key + ": expected a number";
        return std::nullopt;
      }
      if (key == "node") node = static_cast<std::uint32_t>(v);
      if (key == "gateway") gateway = static_cast<std::uint16_t>(v);
      if (key == "request_counter") state.request_counter = v;
    } else {
      error = path.string() + ": unknown key " + key;
      return std::nullopt;
    }
    OPENSSL_cleanse(line.data(), line.size());
  }
  if (!have_code) {
    error = path.string() + ": secret_code: missing";
    return std::nullopt;
  }
  if (node && gateway && node_key) {
    state.identity = device::Identity{NodeId{*node}, GatewayId{*gateway}, *node_key};
  }
  return state;
}

bool save_device_state(const fs::path& path, const DeviceStateFile& state) {
  std::string text = "secret_code=" + to_hex(state.code.view()) + "\n";
  if (state.identity) {
    text += "node=" + std::to_string(state.identity->node.value()) + "\n";
    text += "gateway=" + std::to_string(state.identity->gateway.value()) + "\n";
    text += "node_key=" + to_hex(state.identity->node_key.view()) + "\n";
  }
  text += "request_counter=" + std::to_string(state.request_counter) + "\n";
  const bool ok = write_file_atomic(path, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  return ok;
}

std::uint64_t FileCounterStore::load() {
  std::ifstream in(path_);
  std::uint64_t v = 0;
  if (in) in >> v;
  return v;
}

void FileCounterStore::reserve(std::uint64_t up_to) {
  if (!write_file_atomic(path_, std::to_string(up_to) + "\n", 0600)) {
    // Sending on without a durable reservation could reuse a nonce after a crash.
    std::fprintf(stderr, "kmchain device: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

void FileStateSink::save_identity(const device::Identity& identity) {
  state_.identity = identity;
  if (!save_device_state(path_, state_)) {
    std::fprintf(stderr, "kmchain device: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

void FileStateSink::save_request_counter(std::uint64_t counter) {
  state_.request_counter = counter;
  if (!save_device_state(path_, state_)) {
    std::fprintf(stderr, "kmchain device: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

}  // namespace kmchain::app
