// Structured logs: one line per event, key=value pairs (logfmt), readable by grep and awk and
// by log shippers without a parser:
//
//   ts=2026-12-04T07:40:00.123Z level=info gw=1 event=commit height=3 txs=0
//
// A value with a space, a quote, an equals sign or nothing at all is quoted, with quotes and
// backslashes escaped, so that every line splits back into the same pairs. No key material is
// ever passed here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace kmchain::daemon {

enum class LogLevel : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
const char* to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  LogField(std::string_view k, T v) : key(k), value(number(v)) {}

  std::string_view key;
  std::string value;

 private:
  template <class T>
  static std::string number(T v) {
    if constexpr (std::is_same_v<T, bool>) {
      return v ? "true" : "false";
    } else {
      return std::to_string(v);
    }
  }
};

// Renders one line without the trailing newline (exposed for tests).
std::string render_log_line(std::string_view timestamp, LogLevel level, std::string_view prefix,
                            std::string_view event, std::initializer_list<LogField> fields);
std::string render_log_line(std::string_view timestamp, LogLevel level, std::string_view prefix,
                            std::string_view event, std::span<const LogField> fields);

// A bound on lines a peer can cause: at most `per_window` in each window of `window_ms`. The
// lines held back are counted and reported with the next line that goes.
class LogRate {
 public:
  LogRate(std::uint64_t per_window, std::uint64_t window_ms)
      : per_window_(per_window), window_ms_(window_ms) {}
  // True if a line may go at `now_ms`; `held_back` is then the number held back before it.
  bool allow(std::uint64_t now_ms, std::uint64_t& held_back) {
    if (now_ms < window_start_ms_ || now_ms - window_start_ms_ >= window_ms_) {
      window_start_ms_ = now_ms;
      in_window_ = 0;
    }
    if (in_window_ >= per_window_) {
      ++held_back_;
      return false;
    }
    ++in_window_;
    held_back = held_back_;
    held_back_ = 0;
    return true;
  }

 private:
  std::uint64_t per_window_;
  std::uint64_t window_ms_;
  std::uint64_t window_start_ms_ = 0;
  std::uint64_t in_window_ = 0;
  std::uint64_t held_back_ = 0;
};

class Logger {
 public:
  // `prefix` is a fixed pair or pairs naming the process ("gw=1").
  Logger(std::string prefix, LogLevel min_level, std::FILE* out = stderr)
      : prefix_(std::move(prefix)), min_level_(min_level), out_(out) {}

  bool enabled(LogLevel level) const { return level >= min_level_; }
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void log(LogLevel level, std::string_view event, std::span<const LogField> fields);
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kDebug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kInfo, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kWarn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kError, event, fields);
  }

 private:
  std::string prefix_;
  LogLevel min_level_;
  std::FILE* out_;
};

}  // namespace kmchain::daemon
