// Child processes the demo and the process tests start: a gateway with its output in a log
// file, or a device agent driven over pipes (stdin for commands, stdout for its JSON events,
// stderr to a log file). Every child is stopped when its object goes: SIGTERM, then SIGKILL
// after a grace period.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kmchain::harness {

class Child {
 public:
  // `piped`: stdin and stdout are pipes to this process; else stdin is /dev/null and stdout
  // goes to the log too.
  Child(const std::vector<std::string>& argv, const std::string& log_path, bool piped);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }

  // Writes one line to the child's stdin; false if the pipe is gone.
  bool send_line(const std::string& line);
  // Reads what is available into the line buffer; complete lines are moved to `lines`. False
  // at end of file.
  bool read_lines(std::vector<std::string>& lines);

  // Sends `sig` to the child if it is still running; terminate() sends SIGTERM.
  void signal(int sig);
  void terminate();
  // The exit status (or 128 + signal), or nullopt if still running after `wait`.
  std::optional<int> wait_for(std::chrono::milliseconds wait);
  bool running();

  // What the child wrote to its log file so far.
  std::string log() const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string partial_;
  std::optional<int> status_;
};

// This executable's own path, to start its gateways and devices.
std::string self_executable();

}  // namespace kmchain::harness
