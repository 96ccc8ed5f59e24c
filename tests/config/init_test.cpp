// `kmchain init` as an operator runs it: the files it writes, their permissions, and that they
// describe one consistent consortium (each private key matches its certificate and the
// genesis key of its gateway; configs point at the genesis and the listed addresses).
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

  int run(const std::string& args) {
    const std::string command = std::string(KMCHAIN_BINARY) + " init " + args + " >" +
                                (root_ / "out.txt").string() + " 2>&1";
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
    auto key = crypto::parse_private_key_pem(read(home / config->identity_key));
    ASSERT_TRUE(key.ok());
    auto pinned = crypto::certificate_public_key(read(home / config->certificate));
    ASSERT_TRUE(pinned.ok());
    EXPECT_EQ(key->public_key(), genesis->genesis.validators[i].public_key);
    EXPECT_EQ(*pinned, genesis->genesis.validators[i].public_key);
  }
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

}  // namespace
}  // namespace kmchain::config
