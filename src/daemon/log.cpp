#include "daemon/log.h"

#include <chrono>
#include <ctime>

#include "io/clock.h"

namespace kmchain::daemon {

namespace {

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void append_value(std::string& line, std::string_view v) {
  if (!needs_quotes(v)) {
    line += v;
    return;
  }
  line += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      line += ' ';
    } else {
      line += c;
    }
  }
  line += '"';
}

std::string utc_now() {
  const std::uint64_t ms = io::wall_clock_ms();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  return out + frac;
}

}  // namespace

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == to_string(l)) return l;
  }
  return std::nullopt;
}

std::string render_log_line(std::string_view timestamp, LogLevel level, std::string_view prefix,
                            std::string_view event, std::span<const LogField> fields) {
  std::string line = "ts=";
  line += timestamp;
  line += " level=";
  line += to_string(level);
  if (!prefix.empty()) {
    line += ' ';
    line += prefix;
  }
  line += " event=";
  append_value(line, event);
  for (const LogField& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  return line;
}

std::string render_log_line(std::string_view timestamp, LogLevel level, std::string_view prefix,
                            std::string_view event, std::initializer_list<LogField> fields) {
  return render_log_line(timestamp, level, prefix, event,
                         std::span<const LogField>(fields.begin(), fields.size()));
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  log(level, event, std::span<const LogField>(fields.begin(), fields.size()));
}

void Logger::log(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  if (!enabled(level)) return;
  std::string line = render_log_line(utc_now(), level, prefix_, event, fields);
  line += '\n';
  // One write per line: lines of concurrent processes sharing a file do not interleave.
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace kmchain::daemon
