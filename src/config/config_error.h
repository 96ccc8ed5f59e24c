// The error of every configuration parser: which field is wrong and why, for a message an
// operator can act on ("listen.device: expected host:port, got '127.0.0.1'").
#pragma once

#include <string>

namespace kmchain::config {

struct ConfigError {
  std::string field;  // dotted path, "validators[2].public_key"; empty for the whole file
  std::string message;
};

inline std::string to_string(const ConfigError& e) {
  return e.field.empty() ? e.message : e.field + ": " + e.message;
}

}  // namespace kmchain::config

// Assigns the value of a Result<T, ConfigError> expression to `target`, or returns its error
// from the enclosing function.
#define KMCHAIN_CONFIG_ASSIGN(target, expr)                                       \
  do {                                                                            \
    auto kmchain_config_result_ = (expr);                                         \
    if (!kmchain_config_result_.ok()) return Err{kmchain_config_result_.error()}; \
    target = std::move(kmchain_config_result_).value();                           \
  } while (false)
