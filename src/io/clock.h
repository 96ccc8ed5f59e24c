// Readings of the machine's clocks, for shells only (daemon, device process, demo): deterministic
// cores never read a clock; they are given the time with each input (scripts/lint.sh checks).
#pragma once

#include <chrono>
#include <cstdint>

namespace kmchain::io {

// Milliseconds since the Unix epoch (timestamps that leave the machine: block times, logs).
inline std::uint64_t wall_clock_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// A monotonic clock in milliseconds and microseconds (timers, durations).
inline std::uint64_t steady_clock_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
inline std::uint64_t steady_clock_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace kmchain::io
