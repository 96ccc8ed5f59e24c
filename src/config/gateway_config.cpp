#include "config/gateway_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "base/bytes.h"
#include "base/limits.h"

namespace kmchain::config {

namespace {

ConfigError error(std::string field, std::string message) {
  return ConfigError{std::move(field), std::move(message)};
}

const std::map<std::string, std::set<std::string>>& schema() {
  static const std::map<std::string, std::set<std::string>> s = {
      {"gateway",
       {"index", "genesis", "identity_key", "certificate", "data_dir", "submission_mode"}},
      {"listen", {"gateway", "device", "admin"}},
      {"consensus",
       {"timeout_propose_ms", "timeout_propose_delta_ms", "timeout_prevote_ms",
        "timeout_prevote_delta_ms", "timeout_precommit_ms", "timeout_precommit_delta_ms",
        "timeout_commit_ms", "block_transactions_max"}},
      {"admin", {"operator_keys"}},
      {"log", {"level"}},
  };
  return s;
}

class Reader {
 public:
  explicit Reader(const toml::table& root) : root_(root) {}

  const toml::node* find(const std::string& table, const std::string& key) const {
    const toml::table* t = root_[table].as_table();
    return t == nullptr ? nullptr : t->get(key);
  }

  Result<std::string, ConfigError> string(const std::string& table, const std::string& key,
                                          std::optional<std::string> fallback = {}) const {
    const toml::node* n = find(table, key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Err{error(table + "." + key, "missing")};
    }
    const auto v = n->value<std::string>();
    if (!n->is_string() || !v) return Err{error(table + "." + key, "expected a string")};
    if (v->empty()) return Err{error(table + "." + key, "must not be empty")};
    return *v;
  }

  Result<std::uint64_t, ConfigError> integer(const std::string& table, const std::string& key,
                                             std::optional<std::uint64_t> fallback,
                                             std::uint64_t min, std::uint64_t max) const {
    const std::string field = table + "." + key;
    const toml::node* n = find(table, key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Err{error(field, "missing")};
    }
    if (!n->is_integer()) return Err{error(field, "expected an integer")};
    const std::int64_t v = **n->as_integer();
    if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
      return Err{error(field, "must be in " + std::to_string(min) + ".." + std::to_string(max) +
                                  ", got " + std::to_string(v))};
    }
    return static_cast<std::uint64_t>(v);
  }

  // A listening address: the host must be an IP address, since a name is not resolved when
  // binding (the daemon would stop with "Invalid argument").
  Result<Endpoint, ConfigError> listen_endpoint(const std::string& table,
                                                const std::string& key) const {
    auto text = string(table, key);
    if (!text) return Err{text.error()};
    auto e = parse_endpoint(*text);
    if (!e) return Err{error(table + "." + key, e.error())};
    if (!is_ip_address(e->host)) {
      return Err{error(table + "." + key, "\"" + e->host +
                                              "\" is not an IP address (a listening address is "
                                              "one, such as 127.0.0.1 or [::1])")};
    }
    return *e;
  }

  Result<std::vector<crypto::Ed25519PublicKey>, ConfigError> public_keys(const std::string& table,
                                                                         const std::string& key,
                                                                         std::size_t max) const {
    const std::string field = table + "." + key;
    const toml::node* n = find(table, key);
    if (n == nullptr) return Err{error(field, "missing")};
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty() || a->size() > max) {
      return Err{error(field, "expected an array of 1.." + std::to_string(max) +
                                  " public keys (64 hex digits each)")};
    }
    std::vector<crypto::Ed25519PublicKey> keys;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto text = (*a)[i].value<std::string>();
      Bytes bytes;
      crypto::Ed25519PublicKey k{};
      if (!(*a)[i].is_string() || !text || text->size() != 2 * k.size() ||
          !from_hex(*text, bytes) || bytes.size() != k.size()) {
        return Err{error(field + "[" + std::to_string(i) + "]", "expected 64 hex digits")};
      }
      std::copy(bytes.begin(), bytes.end(), k.begin());
      if (std::find(keys.begin(), keys.end(), k) != keys.end())
        return Err{error(field + "[" + std::to_string(i) + "]", "listed twice")};
      keys.push_back(k);
    }
    return keys;
  }

 private:
  const toml::table& root_;
};

}  // namespace

std::string render_gateway_config(const GatewayConfig& c) {
  const ledger::Timeouts& t = c.timeouts;
  toml::array operator_keys;
  for (const auto& k : c.operator_keys)
    operator_keys.push_back(to_hex(k));
  toml::table root{
      {"gateway", toml::table{{"index", c.index},
                              {"genesis", c.genesis},
                              {"identity_key", c.identity_key},
                              {"certificate", c.certificate},
                              {"data_dir", c.data_dir},
                              {"submission_mode", to_string(c.submission_mode)}}},
      {"listen", toml::table{{"gateway", to_string(c.listen_gateway)},
                             {"device", to_string(c.listen_device)},
                             {"admin", to_string(c.listen_admin)}}},
      {"consensus",
       toml::table{
           {"timeout_propose_ms", static_cast<std::int64_t>(t.propose_ms)},
           {"timeout_propose_delta_ms", static_cast<std::int64_t>(t.propose_delta_ms)},
           {"timeout_prevote_ms", static_cast<std::int64_t>(t.prevote_ms)},
           {"timeout_prevote_delta_ms", static_cast<std::int64_t>(t.prevote_delta_ms)},
           {"timeout_precommit_ms", static_cast<std::int64_t>(t.precommit_ms)},
           {"timeout_precommit_delta_ms", static_cast<std::int64_t>(t.precommit_delta_ms)},
           {"timeout_commit_ms", static_cast<std::int64_t>(t.commit_ms)},
           {"block_transactions_max", static_cast<std::int64_t>(c.block_transactions_max)}}},
      {"admin", toml::table{{"operator_keys", operator_keys}}},
      {"log", toml::table{{"level", c.log_level}}},
  };
  std::ostringstream out;
  out << "# kmchain gateway " << c.index << " (paths are relative to this file)\n" << root << "\n";
  return out.str();
}

Result<GatewayConfig, ConfigError> parse_gateway_config(std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Err{error("", "not valid TOML at line " + std::to_string(at.line) + ", column " +
                             std::to_string(at.column) + ": " + std::string(e.description()))};
  }
  for (const auto& [key, node] : root) {
    const std::string table(key.str());
    auto known = schema().find(table);
    if (known == schema().end()) return Err{error(table, "unknown table")};
    const toml::table* t = node.as_table();
    if (t == nullptr) return Err{error(table, "expected a table")};
    for (const auto& [k, v] : *t) {
      if (!known->second.contains(std::string(k.str())))
        return Err{error(table + "." + std::string(k.str()), "unknown key")};
    }
  }
  const Reader r(root);
  GatewayConfig c;
  std::uint64_t index = 0;
  KMCHAIN_CONFIG_ASSIGN(index,
                        r.integer("gateway", "index", std::nullopt, 0, limits::kGatewaysMax - 1));
  c.index = static_cast<std::uint16_t>(index);
  const std::pair<const char*, std::string*> paths[] = {{"genesis", &c.genesis},
                                                        {"identity_key", &c.identity_key},
                                                        {"certificate", &c.certificate},
                                                        {"data_dir", &c.data_dir}};
  for (const auto& [name, field] : paths)
    KMCHAIN_CONFIG_ASSIGN(*field, r.string("gateway", name));
  std::string mode;
  KMCHAIN_CONFIG_ASSIGN(mode, r.string("gateway", "submission_mode", std::string("commit")));
  if (mode == "commit") {
    c.submission_mode = ledger::SubmissionMode::kCommit;
  } else if (mode == "sync") {
    c.submission_mode = ledger::SubmissionMode::kSync;
  } else {
    return Err{
        error("gateway.submission_mode", "expected \"commit\" or \"sync\", got \"" + mode + "\"")};
  }
  const std::pair<const char*, Endpoint*> endpoints[] = {
      {"gateway", &c.listen_gateway}, {"device", &c.listen_device}, {"admin", &c.listen_admin}};
  for (const auto& [name, field] : endpoints)
    KMCHAIN_CONFIG_ASSIGN(*field, r.listen_endpoint("listen", name));
  KMCHAIN_CONFIG_ASSIGN(c.operator_keys, r.public_keys("admin", "operator_keys", kOperatorKeysMax));
  // Timeouts: at least 1 ms, at most an hour.
  constexpr std::uint64_t kHourMs = 3'600'000;
  ledger::Timeouts& t = c.timeouts;
  const std::pair<const char*, std::uint64_t*> timeouts[] = {
      {"timeout_propose_ms", &t.propose_ms},
      {"timeout_propose_delta_ms", &t.propose_delta_ms},
      {"timeout_prevote_ms", &t.prevote_ms},
      {"timeout_prevote_delta_ms", &t.prevote_delta_ms},
      {"timeout_precommit_ms", &t.precommit_ms},
      {"timeout_precommit_delta_ms", &t.precommit_delta_ms},
      {"timeout_commit_ms", &t.commit_ms},
  };
  for (const auto& [name, field] : timeouts)
    KMCHAIN_CONFIG_ASSIGN(*field, r.integer("consensus", name, *field, 1, kHourMs));
  std::uint64_t block_max = 0;
  KMCHAIN_CONFIG_ASSIGN(
      block_max, r.integer("consensus", "block_transactions_max", c.block_transactions_max, 1,
                           limits::kBlockTransactionsMax));
  c.block_transactions_max = static_cast<std::uint32_t>(block_max);
  std::string level;
  KMCHAIN_CONFIG_ASSIGN(level, r.string("log", "level", std::string("info")));
  if (level != "debug" && level != "info" && level != "warn" && level != "error")
    return Err{error("log.level", "expected debug, info, warn or error, got \"" + level + "\"")};
  c.log_level = level;
  return c;
}

}  // namespace kmchain::config
