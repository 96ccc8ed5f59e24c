#include "daemon/device_state.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/bytes.h"
#include "enroll/device_request.h"
#include "io/durable_file.h"

namespace kmchain::daemon {

namespace fs = std::filesystem;

std::optional<DeviceStateFile> load_device_state(const fs::path& path, std::string& error) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  DeviceStateFile state;
  bool have_code = false;
  std::optional<std::uint32_t> node;
  std::optional<std::uint16_t> gateway;
  std::optional<crypto::Key128> node_key;
  std::optional<crypto::Secret256> join_key;
  std::optional<enroll::DeviceNonce> join_nonce;
  std::optional<std::uint16_t> join_port;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (line.empty()) continue;
    if (eq == std::string::npos) {
      error = path.string() + ": not key=value: " + line.substr(0, 20);
      return std::nullopt;
    }
    const std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    Bytes bytes;
    if (key == "secret_code" || key == "node_key" || key == "join_key" || key == "join_nonce") {
      const std::size_t want = key == "node_key" || key == "join_nonce" ? 16 : 32;
      if (!from_hex(value, bytes) || bytes.size() != want) {
        error = path.string() + ": " + key + ": expected " + std::to_string(2 * want) + " hex";
        return std::nullopt;
      }
      if (key == "secret_code") {
        state.code = crypto::Secret256::from_view(bytes);
        have_code = true;
      } else if (key == "join_key") {
        join_key = crypto::Secret256::from_view(bytes);
      } else if (key == "join_nonce") {
        join_nonce.emplace();
        std::copy(bytes.begin(), bytes.end(), join_nonce->begin());
      } else {
        node_key = crypto::Key128::from_view(bytes);
      }
      OPENSSL_cleanse(bytes.data(), bytes.size());
    } else if (key == "node" || key == "gateway" || key == "join_port" ||
               key == "request_counter") {
      const unsigned long long max = key == "node" ? 0xffffffffULL
                                     : key == "gateway" || key == "join_port"
                                         ? 0xffffULL
                                         : enroll::kRequestCounterMax;
      char* end = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || value[0] == '-' || *end != '\0' || errno == ERANGE || v > max) {
        error = path.string() + ": " + key + ": expected a number up to " + std::to_string(max);
        return std::nullopt;
      }
      if (key == "node") node = static_cast<std::uint32_t>(v);
      if (key == "gateway") gateway = static_cast<std::uint16_t>(v);
      if (key == "join_port") join_port = static_cast<std::uint16_t>(v);
      if (key == "request_counter") state.durable.request_counter = v;
    } else {
      error = path.string() + ": unknown key " + key;
      return std::nullopt;
    }
    OPENSSL_cleanse(line.data(), line.size());
    OPENSSL_cleanse(value.data(), value.size());
  }
  if (!have_code) {
    error = path.string() + ": secret_code: missing";
    return std::nullopt;
  }
  if (node.has_value() != node_key.has_value() || node.has_value() != gateway.has_value()) {
    error = path.string() + ": node, gateway and node_key go together";
    return std::nullopt;
  }
  if (join_key.has_value() != join_nonce.has_value() ||
      join_key.has_value() != join_port.has_value()) {
    error = path.string() + ": join_key, join_nonce and join_port go together";
    return std::nullopt;
  }
  if (node)
    state.durable.identity = device::Identity{NodeId{*node}, GatewayId{*gateway}, *node_key};
  if (join_key) state.durable.join = device::JoinAttempt{*join_key, *join_nonce, *join_port};
  return state;
}

bool save_device_state(const fs::path& path, const DeviceStateFile& state) {
  std::string text = "secret_code=" + to_hex(state.code.view()) + "\n";
  const device::DurableState& d = state.durable;
  if (d.join) {
    text += "join_key=" + to_hex(d.join->ephemeral.view()) + "\n";
    text += "join_nonce=" + to_hex(d.join->nonce) + "\n";
    text += "join_port=" + std::to_string(d.join->reply_port) + "\n";
  }
  if (d.identity) {
    text += "node=" + std::to_string(d.identity->node.value()) + "\n";
    text += "gateway=" + std::to_string(d.identity->gateway.value()) + "\n";
    text += "node_key=" + to_hex(d.identity->node_key.view()) + "\n";
  }
  text += "request_counter=" + std::to_string(d.request_counter) + "\n";
  const bool ok = io::replace_file(path, text, 0600).ok();
  OPENSSL_cleanse(text.data(), text.size());
  return ok;
}

std::uint64_t FileCounterStore::load() {
  std::ifstream in(path_);
  if (!in) {
    if (!std::filesystem::exists(path_) && !state_.durable.identity) return 0;  // never joined
    std::fprintf(stderr, "kmchain device: %s: %s\n", path_.c_str(),
                 std::filesystem::exists(path_) ? "cannot read it" : "missing (the device joined)");
    std::abort();
  }
  std::uint64_t v = 0;
  // Starting again from 0 would reuse nonces: a counter file that does not read is fatal.
  if (!(in >> v)) {
    std::fprintf(stderr, "kmchain device: %s: not a counter\n", path_.c_str());
    std::abort();
  }
  return v;
}

void FileCounterStore::reserve(std::uint64_t up_to) {
  if (!io::replace_file(path_, std::to_string(up_to) + "\n", 0600)) {
    // Sending on without a durable reservation could reuse a nonce after a crash.
    std::fprintf(stderr, "kmchain device: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

void FileCounterStore::create() {
  if (!std::filesystem::exists(path_)) reserve(0);
}

void FileStateSink::save() {
  if (!save_device_state(path_, state_)) {
    std::fprintf(stderr, "kmchain device: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

void FileStateSink::save_join(const device::JoinAttempt& attempt) {
  state_.durable.join = attempt;
  save();
}

void FileStateSink::save_identity(const device::Identity& identity) {
  counters_.create();     // before the identity that makes it required
  save_replay_state({});  // a new node starts with no window
  state_.durable.identity = identity;
  state_.durable.join.reset();
  save();
}

void FileStateSink::restart_join(const enroll::SecretCode& code) {
  save_replay_state({});
  state_.durable.identity.reset();
  state_.durable.join.reset();
  state_.code = code;
  save();
}

void FileStateSink::save_request_counter(std::uint64_t counter) {
  state_.durable.request_counter = counter;
  save();
}

void FileStateSink::save_replay_state(const channel::ReplayState& replay) {
  const Bytes bytes = replay.encode();
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!io::replace_file(replay_path_, text, 0600)) {
    // Delivering without it durable would let the record be accepted again after a crash.
    std::fprintf(stderr, "kmchain device: cannot write %s\n", replay_path_.c_str());
    std::abort();
  }
  state_.durable.replay = replay;
}

std::optional<channel::ReplayState> load_replay_state(const fs::path& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (fs::exists(path)) error = path.string() + ": cannot read it";
    return std::nullopt;
  }
  const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replay = channel::ReplayState::decode(bytes);
  if (!replay) {
    error = path.string() + ": " + channel::to_string(replay.error());
    return std::nullopt;
  }
  return std::move(replay).value();
}

}  // namespace kmchain::daemon
