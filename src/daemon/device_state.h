// A device agent's state directory (kmchain device --state DIR), mode 0700:
//
//   credential.json  the enrollment credential the operator admitted (enroll/credential.h), 0600
//   device.state     secret code; while a join is under way its ephemeral key and nonce; once
//                    joined node id, home gateway and node key; the request counter:
//                    "key=value" lines, 0600, replaced atomically (write, fsync, rename)
//   send.counter     the D2D send counter's reserved high-water mark (channel/sender.h)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "channel/replay_window.h"
#include "channel/sender.h"
#include "device/agent.h"
#include "enroll/credential.h"
#include "enroll/secret_code.h"

namespace kmchain::daemon {

struct DeviceStateFile {
  enroll::SecretCode code;
  device::DurableState durable;
};

// nullopt if the file does not exist; an error message in `error` if it is malformed (every
// field is checked: hex lengths, numbers and their ranges, no unknown key).
std::optional<DeviceStateFile> load_device_state(const std::filesystem::path& path,
                                                 std::string& error);
bool save_device_state(const std::filesystem::path& path, const DeviceStateFile& state);

// The D2D sender's counter reservation. The file exists from the moment the device has an
// identity (FileStateSink::save_identity writes it first): missing then, it was lost, and starting
// again from 0 could reuse nonces, so that is fatal like a file that does not read.
class FileCounterStore final : public channel::CounterStore {
 public:
  FileCounterStore(std::filesystem::path path, const DeviceStateFile& state)
      : path_(std::move(path)), state_(state) {}
  std::uint64_t load() override;
  void reserve(std::uint64_t up_to) override;
  // Creates the file at 0 if it does not exist (durably).
  void create();

 private:
  std::filesystem::path path_;
  const DeviceStateFile& state_;
};

// The D2D replay windows (`replay.state`, channel::ReplayState's saved form): none when the file
// is missing; a file that does not decode is an error naming it (starting with empty windows
// would accept every record again).
std::optional<channel::ReplayState> load_replay_state(const std::filesystem::path& path,
                                                      std::string& error);

class FileStateSink final : public device::StateSink {
 public:
  FileStateSink(std::filesystem::path path, std::filesystem::path replay_path,
                DeviceStateFile& state, FileCounterStore& counters)
      : path_(std::move(path)),
        replay_path_(std::move(replay_path)),
        state_(state),
        counters_(counters) {}
  void save_join(const device::JoinAttempt& attempt) override;
  void save_identity(const device::Identity& identity) override;
  void restart_join(const enroll::SecretCode& code) override;
  void save_request_counter(std::uint64_t counter) override;
  void save_replay_state(const channel::ReplayState& replay) override;

 private:
  void save();

  std::filesystem::path path_;
  std::filesystem::path replay_path_;
  DeviceStateFile& state_;
  FileCounterStore& counters_;
};

}  // namespace kmchain::daemon
