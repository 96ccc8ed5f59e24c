#include "config/genesis_file.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/check.h"

namespace kmchain::config {

namespace {

using nlohmann::json;

ConfigError error(std::string field, std::string message) {
  return ConfigError{std::move(field), std::move(message)};
}

// The members of `object` must all be in `known`.
std::optional<ConfigError> unknown_fields(const json& object, const std::string& where,
                                          const std::set<std::string>& known) {
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key))
      return error(where.empty() ? key : where + "." + key, "unknown field");
  }
  return std::nullopt;
}

const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<std::uint64_t, ConfigError> unsigned_field(const json& object, const std::string& where,
                                                  const char* key) {
  const std::string field = where.empty() ? key : where + "." + key;
  const json* v = member(object, key);
  if (v == nullptr) return Err{error(field, "missing")};
  if (!v->is_number_unsigned()) return Err{error(field, "expected a non-negative integer")};
  return v->get<std::uint64_t>();
}

Result<std::string, ConfigError> string_field(const json& object, const std::string& where,
                                              const char* key) {
  const std::string field = where.empty() ? key : where + "." + key;
  const json* v = member(object, key);
  if (v == nullptr) return Err{error(field, "missing")};
  if (!v->is_string()) return Err{error(field, "expected a string")};
  return v->get<std::string>();
}

Result<std::array<std::uint8_t, 32>, ConfigError> hash_field(const json& object,
                                                             const std::string& where,
                                                             const char* key) {
  auto text = string_field(object, where, key);
  if (!text) return Err{text.error()};
  Bytes bytes;
  if (!from_hex(*text, bytes) || bytes.size() != 32)
    return Err{error(where.empty() ? key : where + "." + key, "expected 64 hex digits")};
  std::array<std::uint8_t, 32> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Result<Endpoint, ConfigError> endpoint_field(const json& object, const std::string& where,
                                             const char* key) {
  auto text = string_field(object, where, key);
  if (!text) return Err{text.error()};
  auto e = parse_endpoint(*text);
  if (!e) return Err{error(where + "." + key, e.error())};
  return *e;
}

}  // namespace

std::string render_genesis_file(const GenesisFile& file) {
  KMCHAIN_CHECK(ledger::validate_genesis(file.genesis).ok());
  KMCHAIN_CHECK(file.addresses.size() == file.genesis.validators.size());
  KMCHAIN_CHECK(file.pair_keys.size() == file.genesis.validators.size());
  json j;
  j["format"] = kGenesisFileFormat;
  j["name"] = file.genesis.name;
  j["genesis_time_ms"] = file.genesis.genesis_time_ms;
  const ledger::Hash256 id = file.genesis.chain_id();
  j["chain_id"] = to_hex(id);
  j["validators"] = json::array();
  for (std::size_t i = 0; i < file.genesis.validators.size(); ++i) {
    const ledger::Validator& v = file.genesis.validators[i];
    j["validators"].push_back({{"index", v.index.value()},
                               {"public_key", to_hex(v.public_key)},
                               {"power", v.power},
                               {"gateway_address", to_string(file.addresses[i].gateway)},
                               {"device_address", to_string(file.addresses[i].device)},
                               {"pair_public_key", to_hex(file.pair_keys[i])}});
  }
  return j.dump(2) + "\n";
}

Result<GenesisFile, ConfigError> parse_genesis_file(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Err{error("", "not valid JSON")};
  if (!j.is_object()) return Err{error("", "expected a JSON object")};
  if (auto e =
          unknown_fields(j, "", {"format", "name", "genesis_time_ms", "chain_id", "validators"}))
    return Err{*e};
  std::string format;
  KMCHAIN_CONFIG_ASSIGN(format, string_field(j, "", "format"));
  if (format != kGenesisFileFormat)
    return Err{error("format", "expected \"" + std::string(kGenesisFileFormat) + "\"")};
  GenesisFile file;
  KMCHAIN_CONFIG_ASSIGN(file.genesis.name, string_field(j, "", "name"));
  KMCHAIN_CONFIG_ASSIGN(file.genesis.genesis_time_ms, unsigned_field(j, "", "genesis_time_ms"));
  ledger::Hash256 chain_id{};
  KMCHAIN_CONFIG_ASSIGN(chain_id, hash_field(j, "", "chain_id"));
  const json* validators = member(j, "validators");
  if (validators == nullptr) return Err{error("validators", "missing")};
  if (!validators->is_array() || validators->empty())
    return Err{error("validators", "expected a non-empty array")};
  if (validators->size() > limits::kValidatorsMax)
    return Err{error("validators", "at most " + std::to_string(limits::kValidatorsMax))};
  for (std::size_t i = 0; i < validators->size(); ++i) {
    const json& v = (*validators)[i];
    const std::string where = "validators[" + std::to_string(i) + "]";
    if (!v.is_object()) return Err{error(where, "expected an object")};
    if (auto e = unknown_fields(v, where,
                                {"index", "public_key", "power", "gateway_address",
                                 "device_address", "pair_public_key"}))
      return Err{*e};
    std::uint64_t index = 0;
    KMCHAIN_CONFIG_ASSIGN(index, unsigned_field(v, where, "index"));
    if (index != i) return Err{error(where + ".index", "expected " + std::to_string(i))};
    ledger::Validator& validator = file.genesis.validators.emplace_back();
    validator.index = GatewayId{static_cast<std::uint16_t>(i)};
    KMCHAIN_CONFIG_ASSIGN(validator.public_key, hash_field(v, where, "public_key"));
    KMCHAIN_CONFIG_ASSIGN(validator.power, unsigned_field(v, where, "power"));
    GatewayAddresses& addresses = file.addresses.emplace_back();
    KMCHAIN_CONFIG_ASSIGN(addresses.gateway, endpoint_field(v, where, "gateway_address"));
    KMCHAIN_CONFIG_ASSIGN(addresses.device, endpoint_field(v, where, "device_address"));
    KMCHAIN_CONFIG_ASSIGN(file.pair_keys.emplace_back(), hash_field(v, where, "pair_public_key"));
  }
  if (auto valid = ledger::validate_genesis(file.genesis); !valid) {
    const ledger::GenesisError& e = valid.error();
    const bool per_validator = e.code == ledger::GenesisErrorCode::kZeroPower ||
                               e.code == ledger::GenesisErrorCode::kPowerOverflow ||
                               e.code == ledger::GenesisErrorCode::kDuplicateKey;
    if (per_validator)
      return Err{error("validators[" + std::to_string(e.position) + "]", ledger::to_string(e))};
    if (e.code == ledger::GenesisErrorCode::kNameTooLong)
      return Err{error("name", ledger::to_string(e))};
    return Err{error("", ledger::to_string(e))};
  }
  if (file.genesis.chain_id() != chain_id)
    return Err{error("chain_id", "does not match the genesis it describes (edited file?)")};
  return file;
}

}  // namespace kmchain::config
