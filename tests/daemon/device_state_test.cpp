// A device's state file (daemon/device_state.h): what is saved loads back the same; every field
// is checked on the way in (hex lengths, numbers and their ranges, fields that go together, no
// unknown key), and a counter file that does not read is not taken for zero.
#include "daemon/device_state.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "crypto/random.h"
#include "support/temp_dir_test.h"

namespace kmchain::daemon {
namespace {

class DeviceStateTest : public kmchain::testing::TempDirTest {
 protected:
  DeviceStateTest() : TempDirTest("kmchain-device-state") {}
  std::filesystem::path path() const { return dir_ / "device.state"; }
  void write(const std::string& text) { std::ofstream(path()) << text; }
  std::string load_error() {
    std::string error;
    EXPECT_FALSE(load_device_state(path(), error).has_value());
    return error;
  }
};

TEST_F(DeviceStateTest, WhatIsSavedLoadsBack) {
  crypto::DeterministicRng rng(4);
  DeviceStateFile state{enroll::draw_secret_code(rng), {}};
  state.durable.join = device::JoinAttempt{rng.secret<32>(), {}, 5683};
  rng.fill(state.durable.join->nonce);
  state.durable.request_counter = 41;
  ASSERT_TRUE(save_device_state(path(), state));
  std::string error;
  auto loaded = load_device_state(path(), error);
  ASSERT_TRUE(loaded) << error;
  EXPECT_EQ(loaded->code, state.code);
  ASSERT_TRUE(loaded->durable.join.has_value());
  EXPECT_EQ(loaded->durable.join->ephemeral, state.durable.join->ephemeral);
  EXPECT_EQ(loaded->durable.join->nonce, state.durable.join->nonce);
  EXPECT_EQ(loaded->durable.join->reply_port, 5683);
  EXPECT_FALSE(loaded->durable.identity.has_value());
  EXPECT_EQ(loaded->durable.request_counter, 41u);
  // Joined: the identity replaces the join attempt.
  state.durable.join.reset();
  state.durable.identity = device::Identity{NodeId{0x03000007}, GatewayId{3}, rng.key128()};
  ASSERT_TRUE(save_device_state(path(), state));
  loaded = load_device_state(path(), error);
  ASSERT_TRUE(loaded) << error;
  ASSERT_TRUE(loaded->durable.identity.has_value());
  EXPECT_EQ(loaded->durable.identity->node, NodeId{0x03000007});
  EXPECT_EQ(loaded->durable.identity->gateway, GatewayId{3});
  EXPECT_EQ(loaded->durable.identity->node_key, state.durable.identity->node_key);
  EXPECT_FALSE(loaded->durable.join.has_value());
}

TEST_F(DeviceStateTest, NoFileIsNoStateAndNoError) {
  std::string error;
  EXPECT_FALSE(load_device_state(path(), error).has_value());
  EXPECT_TRUE(error.empty());
}

TEST_F(DeviceStateTest, EveryMalformedFieldIsNamed) {
  const std::string code = "secret_code=" + std::string(64, 'a') + "\n";
  const std::string key = "node_key=" + std::string(32, 'b') + "\n";
  const std::pair<std::string, std::string> cases[] = {
      {"", "secret_code: missing"},
      {"secret_code=abc\n", "secret_code: expected 64 hex"},
      {code + "node=4294967296\ngateway=1\n" + key, "node: expected a number up to 4294967295"},
      {code + "node=1\ngateway=65536\n" + key, "gateway: expected a number up to 65535"},
      {code + "node=-1\ngateway=1\n" + key, "node: expected a number"},
      {code + "request_counter=x\n", "request_counter: expected a number"},
      {code + "node=1\n" + key, "node, gateway and node_key go together"},
      {code + "join_key=" + std::string(64, 'c') + "\n",
       "join_key, join_nonce and join_port go together"},
      {code + "join_port=65536\n", "join_port: expected a number up to 65535"},
      {code + "request_counter=9223372036854775808\n",
       "request_counter: expected a number up to 9223372036854775807"},
      {code + "colour=blue\n", "unknown key colour"},
      {code + "just words\n", "not key=value"},
  };
  for (const auto& [text, named] : cases) {
    SCOPED_TRACE(text);
    write(text);
    const std::string error = load_error();
    EXPECT_NE(error.find(named), std::string::npos) << error;
  }
}

TEST_F(DeviceStateTest, ACounterThatDoesNotReadIsFatalNotZero) {
  const auto counter = dir_ / "send.counter";
  const DeviceStateFile state{};
  std::ofstream(counter) << "12\n";
  FileCounterStore store(counter, state);
  EXPECT_EQ(store.load(), 12u);
  store.reserve(4096);
  EXPECT_EQ(FileCounterStore(counter, state).load(), 4096u);
  std::ofstream(counter) << "garbage\n";
  EXPECT_DEATH((void)FileCounterStore(counter, state).load(), "not a counter");
}

// The counter file comes with the identity; once the device joined, losing it is fatal, since
// counting again from 0 would reuse nonces. Before any join, no file is 0.
TEST_F(DeviceStateTest, TheCounterFileComesWithTheIdentity) {
  crypto::DeterministicRng rng(5);
  const auto counter = dir_ / "send.counter";
  DeviceStateFile state{enroll::draw_secret_code(rng), {}};
  FileCounterStore counters(counter, state);
  EXPECT_EQ(counters.load(), 0u);
  FileStateSink sink(path(), dir_ / "replay.state", state, counters);
  sink.save_identity(device::Identity{NodeId{0x01000001}, GatewayId{1}, rng.key128()});
  EXPECT_TRUE(std::filesystem::exists(counter));
  EXPECT_EQ(counters.load(), 0u);
  counters.reserve(64);
  sink.save_identity(device::Identity{NodeId{0x01000002}, GatewayId{1}, rng.key128()});
  EXPECT_EQ(counters.load(), 64u);  // never counted back
  std::filesystem::remove(counter);
  EXPECT_DEATH((void)counters.load(), "missing");
}

}  // namespace
}  // namespace kmchain::daemon
