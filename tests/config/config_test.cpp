// Configuration files: endpoints, the genesis file (JSON) and gateway configs (TOML). Round
// trips, and for every way a field can be wrong (missing, wrong type, out of range, unknown,
// inconsistent) an error that names the field.
#include <gtest/gtest.h>

#include <string>

#include "base/endpoint.h"
#include "config/gateway_config.h"
#include "config/genesis_file.h"
#include "crypto/dh.h"
#include "crypto/random.h"

namespace kmchain::config {
namespace {

TEST(Endpoint, ParsesHostsAndPorts) {
  auto a = parse_endpoint("127.0.0.1:7100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7100);
  auto b = parse_endpoint("[::1]:65535");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(to_string(*b), "[::1]:65535");
  auto c = parse_endpoint("gateway-3.example:1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(to_string(*c), "gateway-3.example:1");
}

TEST(Endpoint, RefusesWhatIsNotHostPort) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":7100", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:7x",
        "::1:7100", "[::1]7100", "[::1", "a b:7100", "127.0.0.1:-1"}) {
    EXPECT_FALSE(parse_endpoint(bad).ok()) << bad;
  }
}

GenesisFile sample_genesis(std::size_t p = 4) {
  crypto::DeterministicRng rng(5);
  GenesisFile f;
  f.genesis.name = "test";
  f.genesis.genesis_time_ms = 1'700'000'000'000;
  for (std::size_t i = 0; i < p; ++i) {
    f.genesis.validators.push_back(
        ledger::Validator{GatewayId{static_cast<std::uint16_t>(i)},
                          crypto::Ed25519KeyPair::generate(rng).public_key(), i + 1});
    f.addresses.push_back(
        GatewayAddresses{Endpoint{"127.0.0.1", static_cast<std::uint16_t>(7000 + i)},
                         Endpoint{"::1", static_cast<std::uint16_t>(8000 + i)}});
    f.pair_keys.push_back(crypto::X25519KeyPair::generate(rng).public_key());
  }
  return f;
}

// Replaces the first occurrence of `from` in `text` (which must hold it).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

template <class T>
void expect_field_error(const Result<T, ConfigError>& r, const std::string& field) {
  ASSERT_FALSE(r.ok()) << "accepted; expected an error at " << field;
  EXPECT_EQ(r.error().field, field) << to_string(r.error());
  EXPECT_FALSE(r.error().message.empty());
}

TEST(GenesisFile, RoundTrips) {
  const GenesisFile f = sample_genesis();
  const std::string text = render_genesis_file(f);
  auto parsed = parse_genesis_file(text);
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(*parsed, f);
  EXPECT_NE(text.find(to_hex(f.genesis.chain_id())), std::string::npos);
}

TEST(GenesisFile, ErrorsNameTheField) {
  const std::string good = render_genesis_file(sample_genesis());
  const std::string v1 = "\"index\": 1";
  expect_field_error(parse_genesis_file(replaced(good, "\"name\": \"test\",", "")), "name");
  expect_field_error(parse_genesis_file(replaced(good, "\"name\": \"test\"", "\"name\": 7")),
                     "name");
  expect_field_error(
      parse_genesis_file(replaced(good, "\"format\": \"kmchain-genesis/1\"", "\"format\": \"x\"")),
      "format");
  expect_field_error(parse_genesis_file(replaced(good, "\"genesis_time_ms\": 1700000000000",
                                                 "\"genesis_time_ms\": -1")),
                     "genesis_time_ms");
  expect_field_error(parse_genesis_file(replaced(good, v1, "\"index\": 2")), "validators[1].index");
  expect_field_error(parse_genesis_file(replaced(good, "\"127.0.0.1:7002\"", "\"127.0.0.1\"")),
                     "validators[2].gateway_address");
  expect_field_error(parse_genesis_file(replaced(good, "\"[::1]:8003\"", "\"[::1]:0\"")),
                     "validators[3].device_address");
  expect_field_error(parse_genesis_file(replaced(good, "\"power\": 1", "\"power\": 0")),
                     "validators[0]");
  expect_field_error(parse_genesis_file(replaced(good, "\"power\": 2", "\"power\": \"2\"")),
                     "validators[1].power");
  expect_field_error(parse_genesis_file(replaced(good, "\"power\": 3", "\"power\": 3, \"pwr\": 1")),
                     "validators[2].pwr");
  expect_field_error(parse_genesis_file(replaced(good, "\"name\"", "\"extra\": 1, \"name\"")),
                     "extra");
  // A public key that is not 32 bytes of hex.
  const GenesisFile f = sample_genesis();
  const std::string key0 = to_hex(f.genesis.validators[0].public_key);
  expect_field_error(parse_genesis_file(replaced(good, key0, key0.substr(2))),
                     "validators[0].public_key");
  expect_field_error(parse_genesis_file(replaced(good, key0, "zz" + key0.substr(2))),
                     "validators[0].public_key");
  // The same key twice: one signer with double weight.
  const std::string key1 = to_hex(f.genesis.validators[1].public_key);
  expect_field_error(parse_genesis_file(replaced(good, key1, key0)), "validators[1]");
  // An edited genesis no longer matches its chain id.
  expect_field_error(parse_genesis_file(replaced(good, "\"power\": 4", "\"power\": 5")),
                     "chain_id");
  expect_field_error(parse_genesis_file(replaced(good, "\"name\": \"test\"", "\"name\": \"tost\"")),
                     "chain_id");
}

TEST(GenesisFile, RefusesWhatIsNotAGenesis) {
  for (const char* bad :
       {"", "{", "[]", "null", "{\"format\": \"kmchain-genesis/1\"}", "{\"validators\": []}"}) {
    EXPECT_FALSE(parse_genesis_file(bad).ok()) << bad;
  }
  std::string empty = render_genesis_file(sample_genesis(1));
  const auto open = empty.find("\"validators\": [");
  ASSERT_NE(open, std::string::npos);
  empty = empty.substr(0, open) + "\"validators\": []\n}\n";
  expect_field_error(parse_genesis_file(empty), "validators");
}

GatewayConfig sample_config() {
  GatewayConfig c;
  c.index = 2;
  c.genesis = "../genesis.json";
  c.identity_key = "identity.key";
  c.certificate = "identity.crt";
  c.data_dir = "data";
  c.submission_mode = ledger::SubmissionMode::kSync;
  c.listen_gateway = Endpoint{"127.0.0.1", 7100};
  c.listen_device = Endpoint{"127.0.0.1", 7101};
  c.listen_admin = Endpoint{"::1", 7102};
  c.operator_keys = {crypto::Ed25519PublicKey{1, 2, 3}, crypto::Ed25519PublicKey{4, 5, 6}};
  c.timeouts.propose_ms = 1234;
  c.timeouts.commit_ms = 77;
  c.block_transactions_max = 64;
  c.log_level = "debug";
  return c;
}

TEST(GatewayConfig, RoundTrips) {
  const GatewayConfig c = sample_config();
  auto parsed = parse_gateway_config(render_gateway_config(c));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->index, c.index);
  EXPECT_EQ(parsed->genesis, c.genesis);
  EXPECT_EQ(parsed->identity_key, c.identity_key);
  EXPECT_EQ(parsed->certificate, c.certificate);
  EXPECT_EQ(parsed->data_dir, c.data_dir);
  EXPECT_EQ(parsed->submission_mode, c.submission_mode);
  EXPECT_EQ(parsed->listen_gateway, c.listen_gateway);
  EXPECT_EQ(parsed->listen_device, c.listen_device);
  EXPECT_EQ(parsed->listen_admin, c.listen_admin);
  EXPECT_EQ(parsed->operator_keys, c.operator_keys);
  EXPECT_EQ(parsed->timeouts.propose_ms, 1234u);
  EXPECT_EQ(parsed->timeouts.commit_ms, 77u);
  EXPECT_EQ(parsed->timeouts.prevote_ms, c.timeouts.prevote_ms);
  EXPECT_EQ(parsed->block_transactions_max, 64u);
  EXPECT_EQ(parsed->log_level, "debug");
}

TEST(GatewayConfig, OptionalTablesTakeTheirDefaults) {
  const std::string minimal =
      "[gateway]\nindex = 0\ngenesis = 'g.json'\nidentity_key = 'k'\ncertificate = 'c'\n"
      "data_dir = 'd'\n[listen]\ngateway = '127.0.0.1:1'\ndevice = '127.0.0.1:2'\n"
      "admin = '127.0.0.1:3'\n[admin]\noperator_keys = ['" +
      std::string(64, 'a') + "']\n";
  auto parsed = parse_gateway_config(minimal);
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->submission_mode, ledger::SubmissionMode::kCommit);
  EXPECT_EQ(parsed->timeouts.propose_ms, ledger::Timeouts{}.propose_ms);
  EXPECT_EQ(parsed->log_level, "info");
}

TEST(GatewayConfig, EveryRequiredFieldMissingIsNamed) {
  const std::string good = render_gateway_config(sample_config());
  const std::pair<const char*, const char*> required[] = {
      {"index = 2\n", "gateway.index"},
      {"genesis = '../genesis.json'\n", "gateway.genesis"},
      {"identity_key = 'identity.key'\n", "gateway.identity_key"},
      {"certificate = 'identity.crt'\n", "gateway.certificate"},
      {"data_dir = 'data'\n", "gateway.data_dir"},
      {"gateway = '127.0.0.1:7100'\n", "listen.gateway"},
      {"device = '127.0.0.1:7101'\n", "listen.device"},
      {"admin = '[::1]:7102'\n", "listen.admin"},
  };
  // The array may span lines: remove up to its closing bracket.
  const auto keys_at = good.find("operator_keys");
  const auto keys_end = good.find('\n', good.find(']', keys_at)) + 1;
  expect_field_error(parse_gateway_config(good.substr(0, keys_at) + good.substr(keys_end)),
                     "admin.operator_keys");
  for (const auto& [line, field] : required)
    expect_field_error(parse_gateway_config(replaced(good, line, "")), field);
}

TEST(GatewayConfig, MalformedFieldsAreNamed) {
  const std::string good = render_gateway_config(sample_config());
  expect_field_error(parse_gateway_config(replaced(good, "index = 2", "index = 'two'")),
                     "gateway.index");
  expect_field_error(parse_gateway_config(replaced(good, "index = 2", "index = 256")),
                     "gateway.index");
  expect_field_error(parse_gateway_config(replaced(good, "index = 2", "index = -1")),
                     "gateway.index");
  expect_field_error(
      parse_gateway_config(replaced(good, "device = '127.0.0.1:7101'", "device = '127.0.0.1'")),
      "listen.device");
  expect_field_error(
      parse_gateway_config(replaced(good, "submission_mode = 'sync'", "submission_mode = 'fast'")),
      "gateway.submission_mode");
  expect_field_error(
      parse_gateway_config(replaced(good, "timeout_propose_ms = 1234", "timeout_propose_ms = 0")),
      "consensus.timeout_propose_ms");
  expect_field_error(parse_gateway_config(replaced(good, "block_transactions_max = 64",
                                                   "block_transactions_max = 100000")),
                     "consensus.block_transactions_max");
  expect_field_error(parse_gateway_config(replaced(good, "level = 'debug'", "level = 'loud'")),
                     "log.level");
  expect_field_error(parse_gateway_config(replaced(good, "data_dir = 'data'", "data_dir = ''")),
                     "gateway.data_dir");
  expect_field_error(parse_gateway_config(replaced(good, "data_dir = 'data'", "data_dir = 3")),
                     "gateway.data_dir");
  expect_field_error(parse_gateway_config(replaced(good, "data_dir = 'data'", "data_dirr = 'd'")),
                     "gateway.data_dirr");
  // A listening address must be an IP address: the daemon would not resolve a name.
  expect_field_error(
      parse_gateway_config(replaced(good, "admin = '[::1]:7102'", "admin = 'localhost:7102'")),
      "listen.admin");
  expect_field_error(parse_gateway_config(replaced(good, "gateway = '127.0.0.1:7100'",
                                                   "gateway = 'gw.example:7100'")),
                     "listen.gateway");
  // Operator keys: 64 hex digits each, 1..16 of them, none twice.
  const std::string one_key = "'" + std::string(64, 'b') + "'";
  const auto with_keys = [&](const std::string& keys) {
    const auto at = good.find("operator_keys = ");
    return good.substr(0, at) + "operator_keys = " + keys +
           good.substr(good.find('\n', good.find(']', at)));
  };
  ASSERT_TRUE(parse_gateway_config(with_keys("[" + one_key + "]")).ok());
  expect_field_error(parse_gateway_config(with_keys("[]")), "admin.operator_keys");
  expect_field_error(parse_gateway_config(with_keys(one_key)), "admin.operator_keys");
  expect_field_error(parse_gateway_config(with_keys("['abc']")), "admin.operator_keys[0]");
  expect_field_error(parse_gateway_config(with_keys("[" + one_key + ", 7]")),
                     "admin.operator_keys[1]");
  expect_field_error(parse_gateway_config(with_keys("['" + std::string(64, 'g') + "']")),
                     "admin.operator_keys[0]");
  expect_field_error(parse_gateway_config(with_keys("[" + one_key + ", " + one_key + "]")),
                     "admin.operator_keys[1]");
  std::string seventeen = "[";
  const char* digits = "0123456789abcdef";
  for (int i = 0; i < 17; ++i)
    seventeen += (i ? ", '" : "'") + std::string(62, 'c') + digits[i / 16] + digits[i % 16] + "'";
  expect_field_error(parse_gateway_config(with_keys(seventeen + "]")), "admin.operator_keys");
  expect_field_error(parse_gateway_config(good + "[extra]\nx = 1\n"), "extra");
  expect_field_error(parse_gateway_config(good + "listen = 3\n"), "log.listen");
  expect_field_error(
      parse_gateway_config("log = 'x'\n" + replaced(good, "[log]\nlevel = 'debug'\n", "")), "log");
}

TEST(GatewayConfig, NotTomlSaysWhere) {
  auto r = parse_gateway_config("[gateway]\nindex = = 2\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().field.empty());
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace kmchain::config
