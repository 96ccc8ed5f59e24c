// `kmchain init` and `kmchain config check` as an operator runs them: the files init writes,
// their permissions, and that they describe one consistent consortium (each private key matches
// its certificate and the genesis key of its gateway; configs point at the genesis and the
// listed addresses); then every way a gateway's files can go wrong, each reported by
// `config check` with a non-zero exit and a message naming the field.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/gateway_config.h"
#include "config/genesis_file.h"
#include "crypto/x509.h"

namespace kmchain::config {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kmchain-init-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  int run(const std::string& args) { return kmchain("init " + args); }

  int kmchain(const std::string& args) {
    const std::string command =
        std::string(KMCHAIN_BINARY) + " " + args + " >" + (root_ / "out.txt").string() + " 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path root_;
};

TEST_F(InitTest, WritesOneConsistentConsortium) {
  const fs::path dir = root_ / "consortium";
  ASSERT_EQ(run("--gateways 4 --dir " + dir.string() + " --name lab --base-port 21000"), 0)
      << read(root_ / "out.txt");
  auto genesis = parse_genesis_file(read(dir / "genesis.json"));
  ASSERT_TRUE(genesis.ok()) << to_string(genesis.error());
  EXPECT_EQ(genesis->genesis.name, "lab");
  ASSERT_EQ(genesis->genesis.validators.size(), 4u);
  // The operator's key, which every gateway's admin endpoint accepts.
  EXPECT_EQ(mode_of(dir / "operator.key"), 0600u);
  auto operator_key = crypto::parse_private_key_pem(read(dir / "operator.key"));
  ASSERT_TRUE(operator_key.ok());
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const fs::path home = dir / ("gateway-" + std::to_string(i));
    EXPECT_EQ(mode_of(home), 0700u);
    EXPECT_EQ(mode_of(home / "identity.key"), 0600u);
    EXPECT_EQ(mode_of(home / "data"), 0700u);
    auto config = parse_gateway_config(read(home / "gateway.toml"));
    ASSERT_TRUE(config.ok()) << to_string(config.error());
    EXPECT_EQ(config->index, i);
    EXPECT_EQ(fs::canonical(home / config->genesis), fs::canonical(dir / "genesis.json"));
    EXPECT_EQ(config->listen_gateway, genesis->addresses[i].gateway);
    EXPECT_EQ(config->listen_device, genesis->addresses[i].device);
    EXPECT_EQ(config->listen_gateway.port, 21000 + 3 * i);
    EXPECT_EQ(config->operator_keys,
              std::vector<crypto::Ed25519PublicKey>{operator_key->public_key()});
    auto key = crypto::parse_private_key_pem(read(home / config->identity_key));
    ASSERT_TRUE(key.ok());
    auto pinned = crypto::certificate_public_key(read(home / config->certificate));
    ASSERT_TRUE(pinned.ok());
    EXPECT_EQ(key->public_key(), genesis->genesis.validators[i].public_key);
    EXPECT_EQ(*pinned, genesis->genesis.validators[i].public_key);
  }
}

TEST_F(InitTest, RefusesAHostThatIsNotAnIpAddress) {
  const fs::path dir = root_ / "consortium";
  EXPECT_EQ(run("--gateways 1 --host localhost --dir " + dir.string()), 2);
  EXPECT_NE(read(root_ / "out.txt").find("--host localhost: an IP address is expected"),
            std::string::npos)
      << read(root_ / "out.txt");
  EXPECT_FALSE(fs::exists(dir / "operator.key"));
}

TEST_F(InitTest, RefusesToOverwriteAnExistingConsortium) {
  const fs::path dir = root_ / "consortium";
  ASSERT_EQ(run("--gateways 1 --dir " + dir.string()), 0);
  const std::string before = read(dir / "gateway-0" / "identity.key");
  EXPECT_EQ(run("--gateways 1 --dir " + dir.string()), 2);
  EXPECT_NE(read(root_ / "out.txt").find("refusing to overwrite"), std::string::npos);
  EXPECT_EQ(read(dir / "gateway-0" / "identity.key"), before);
}

TEST_F(InitTest, TwoRunsMakeDifferentIdentities) {
  ASSERT_EQ(run("--gateways 2 --dir " + (root_ / "a").string()), 0);
  ASSERT_EQ(run("--gateways 2 --dir " + (root_ / "b").string()), 0);
  EXPECT_NE(read(root_ / "a" / "gateway-0" / "identity.crt"),
            read(root_ / "b" / "gateway-0" / "identity.crt"));
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string without_line(const std::string& text, const std::string& line) {
  const auto at = text.find(line);
  EXPECT_NE(at, std::string::npos) << line;
  std::string out = text;
  if (at != std::string::npos) out.erase(at, out.find('\n', at) - at + 1);
  return out;
}

class ConfigCheckTest : public InitTest {
 protected:
  void SetUp() override {
    InitTest::SetUp();
    dir_ = root_ / "c";
    ASSERT_EQ(run("--gateways 3 --dir " + dir_.string() + " --base-port 22000"), 0);
    config_ = dir_ / "gateway-0" / "gateway.toml";
  }

  // Runs `config check` on gateway 0; expects exit 2 and `field` named in the message.
  void expect_refused(const std::string& field) {
    EXPECT_EQ(kmchain("config check --config " + config_.string()), 2);
    const std::string out = read(root_ / "out.txt");
    EXPECT_NE(out.find(field), std::string::npos) << out;
  }

  fs::path dir_;
  fs::path config_;
};

TEST_F(ConfigCheckTest, WhatInitWroteChecksOut) {
  for (int i = 0; i < 3; ++i) {
    const fs::path config = dir_ / ("gateway-" + std::to_string(i)) / "gateway.toml";
    EXPECT_EQ(kmchain("config check --config " + config.string()), 0) << read(root_ / "out.txt");
    EXPECT_NE(read(root_ / "out.txt").find("gateway " + std::to_string(i) + " of"),
              std::string::npos);
  }
}

TEST_F(ConfigCheckTest, MissingOrMalformedFieldIsNamed) {
  const std::string good = read(config_);
  write(config_, without_line(good, "device = "));
  expect_refused("listen.device: missing");
  write(config_, without_line(good, "data_dir = "));
  expect_refused("gateway.data_dir: missing");
  write(config_, good + "[gateway.extra]\n");
  expect_refused("gateway.extra");
  std::string bad_index = good;
  bad_index.replace(bad_index.find("index = 0"), 9, "index = 'zero'");
  write(config_, bad_index);
  expect_refused("gateway.index");
  std::string unknown_gateway = good;
  unknown_gateway.replace(unknown_gateway.find("index = 0"), 9, "index = 7");
  write(config_, unknown_gateway);
  expect_refused("gateway.index: the genesis has gateways 0..2");
}

TEST_F(ConfigCheckTest, FilesThatDoNotBelongTogetherAreRefused) {
  const fs::path home = dir_ / "gateway-0";
  const std::string own_key = read(home / "identity.key");
  // Another gateway's key in this gateway's place.
  write(home / "identity.key", read(dir_ / "gateway-1" / "identity.key"));
  expect_refused("gateway.identity_key: not the genesis key of gateway 0");
  write(home / "identity.key", own_key);
  // Another gateway's certificate.
  const std::string own_cert = read(home / "identity.crt");
  write(home / "identity.crt", read(dir_ / "gateway-1" / "identity.crt"));
  expect_refused("gateway.certificate: not a certificate of the identity key");
  write(home / "identity.crt", own_cert);
  // A listen address the genesis does not list for this gateway.
  const std::string good = read(home / "gateway.toml");
  std::string moved = good;
  moved.replace(moved.find("22000"), 5, "22099");
  write(home / "gateway.toml", moved);
  expect_refused("listen.gateway: the genesis lists 127.0.0.1:22000");
  write(home / "gateway.toml", good);
  EXPECT_EQ(kmchain("config check --config " + config_.string()), 0) << read(root_ / "out.txt");
}

TEST_F(ConfigCheckTest, EditedGenesisAndOpenKeyFileAreRefused) {
  const std::string genesis = read(dir_ / "genesis.json");
  std::string edited = genesis;
  edited.replace(edited.find("\"power\": 1"), 10, "\"power\": 2");
  write(dir_ / "genesis.json", edited);
  expect_refused("gateway.genesis: ../genesis.json: chain_id");
  write(dir_ / "genesis.json", genesis);
  fs::permissions(dir_ / "gateway-0" / "identity.key", fs::perms::group_read,
                  fs::perm_options::add);
  expect_refused("gateway.identity_key: " + (dir_ / "gateway-0" / "identity.key").string() +
                 " is readable by others");
}

// `config check` refuses exactly what the daemon refuses: a listening host that is a name (the
// daemon used to stop with only "Invalid argument"), and an admin endpoint with no operator key.
// An admin endpoint beyond loopback is accepted by both: only listed operators may use it.
TEST_F(ConfigCheckTest, ListenAddressesAndOperatorKeysAreCheckedAsTheDaemonChecksThem) {
  const std::string good = read(config_);
  std::string named = good;
  named.replace(named.find("admin = '127.0.0.1:"), 19, "admin = 'localhost:");
  write(config_, named);
  expect_refused("listen.admin: \"localhost\" is not an IP address");
  std::string anywhere = good;
  anywhere.replace(anywhere.find("admin = '127.0.0.1:"), 19, "admin = '0.0.0.0:");
  write(config_, anywhere);
  EXPECT_EQ(kmchain("config check --config " + config_.string()), 0) << read(root_ / "out.txt");
  write(config_, without_line(good, "operator_keys = "));
  expect_refused("admin.operator_keys: missing");
}

TEST_F(ConfigCheckTest, MissingFilesAreNamed) {
  fs::remove(dir_ / "gateway-0" / "identity.crt");
  expect_refused("gateway.certificate: cannot read");
  EXPECT_EQ(kmchain("config check --config " + (dir_ / "nowhere.toml").string()), 2);
  EXPECT_NE(read(root_ / "out.txt").find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace kmchain::config
