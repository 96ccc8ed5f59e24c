// The gateway's device store (daemon/device_store.h) against real SQLite files: what the node's
// actions write reads back the same after a reopen; a record and its credential's use change
// in one write; a database of another schema version, or a row a crash or an editor damaged,
// is refused with the file and row named.
#include "daemon/device_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "crypto/random.h"
#include "enroll/join.h"
#include "enroll/secret_code.h"
#include "support/temp_dir_test.h"

namespace kmchain::daemon {
namespace {

class DeviceStoreTest : public kmchain::testing::TempDirTest {
 protected:
  DeviceStoreTest() : TempDirTest("kmchain-device-store") {}
  std::string path() const { return (dir_ / "devices.sqlite").string(); }

  std::unique_ptr<DeviceStore> open() {
    auto store = DeviceStore::open(path());
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  gateway::DeviceRecord record(NodeId node, const enroll::DeviceCredential& credential) {
    gateway::DeviceRecord r;
    r.node = node;
    r.node_key = rng_.key128();
    r.endpoint = Endpoint{"127.0.0.1", 7000};
    r.credential = credential.id;
    r.hello =
        enroll::JoinInitiator(credential, enroll::commitment_of(enroll::draw_secret_code(rng_)),
                              7000, enroll::ContextId{}, rng_)
            .hello();
    r.accept = Bytes(71, 2);
    r.request_counter = 5;
    return r;
  }

  crypto::DeterministicRng rng_{3};
};

TEST_F(DeviceStoreTest, WhatIsWrittenReadsBackAfterAReopen) {
  const auto a = enroll::DeviceCredential::generate(rng_);
  const auto b = enroll::DeviceCredential::generate(rng_);
  const gateway::DeviceRecord first = record(NodeId{1}, a);
  gateway::DeviceRecord failed = record(NodeId{2}, b);
  failed.join_failure = "commitment already used";
  const auto key = crypto::Ed25519KeyPair::generate(rng_);
  const ledger::Hash256 chain_id{};
  const ledger::SignedTransaction tx = ledger::sign_transaction(
      key, chain_id, GatewayId{0},
      ledger::Transaction{ledger::Operation::kJoin, NodeId{1}, SetId{0}, {}, rng_.key128()});
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    store->put_credential(gateway::CredentialRecord{a, std::nullopt});
    store->put_credential(gateway::CredentialRecord{b, std::nullopt});
    store->put_device(first);
    store->put_device(failed);
    store->put_pending(tx);
    // A leave with a device's consent: stored with it.
    ledger::Transaction body = tx.transaction;
    body.op = ledger::Operation::kLeave;
    store->put_pending(
        ledger::sign_transaction(key, chain_id, GatewayId{0}, body, crypto::Ed25519Signature{}));
    body.op = ledger::Operation::kEvict;
    store->put_pending(ledger::sign_transaction(key, chain_id, GatewayId{0}, body));
    store->erase_pending(NodeId{1}, ledger::Operation::kEvict);
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto data = store->load();
  ASSERT_TRUE(data.ok()) << data.error();
  ASSERT_EQ(data->credentials.size(), 2u);
  ASSERT_EQ(data->devices.size(), 2u);
  ASSERT_EQ(data->pending.size(), 2u);
  EXPECT_EQ(data->pending[0], tx);
  EXPECT_EQ(data->pending[1].transaction.op, ledger::Operation::kLeave);
  EXPECT_TRUE(data->pending[1].device_signature.has_value());
  for (const auto& c : data->credentials) {
    // In the same write as the record: used by the device, free again after a failed join.
    if (c.credential.id == a.id) {
      EXPECT_EQ(c.used_by, NodeId{1});
    } else {
      EXPECT_FALSE(c.used_by.has_value());
    }
  }
  EXPECT_EQ(data->devices[0].node_key, first.node_key);
  EXPECT_EQ(data->devices[0].hello, first.hello);
  EXPECT_EQ(data->devices[0].request_counter, 5u);
  EXPECT_EQ(data->devices[1].join_failure, "commitment already used");
}

TEST_F(DeviceStoreTest, AdmittingAgainKeepsWhoUsedTheCredentialAndReleaseFreesIt) {
  const auto a = enroll::DeviceCredential::generate(rng_);
  auto store = open();
  ASSERT_NE(store, nullptr);
  store->put_credential(gateway::CredentialRecord{a, std::nullopt});
  store->put_device(record(NodeId{7}, a));
  store->put_credential(gateway::CredentialRecord{a, std::nullopt});
  auto data = store->load();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->credentials.at(0).used_by, NodeId{7});
  // A departed device's credential stays used; a join refused before its accept frees it.
  store->erase_device(NodeId{7}, std::nullopt);
  EXPECT_EQ(store->load()->credentials.at(0).used_by, NodeId{7});
  store->put_device(record(NodeId{8}, a));
  store->erase_device(NodeId{8}, a.id);
  data = store->load();
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->devices.empty());
  EXPECT_FALSE(data->credentials.at(0).used_by.has_value());
}

TEST_F(DeviceStoreTest, AnotherSchemaVersionIsRefusedWithItsNumber) {
  { ASSERT_NE(open(), nullptr); }
  sql("PRAGMA user_version = 1");
  auto store = DeviceStore::open(path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().find("schema version 1, expected 3"), std::string::npos) << store.error();
}

TEST_F(DeviceStoreTest, DamagedRowsAreNamedNotTrusted) {
  const auto a = enroll::DeviceCredential::generate(rng_);
  const gateway::DeviceRecord stored = record(NodeId{3}, a);
  const std::string hello = "x'" + to_hex(stored.hello) + "'";
  {
    auto store = open();
    store->put_credential(gateway::CredentialRecord{a, std::nullopt});
    store->put_device(stored);
  }
  const std::pair<std::string, std::string> damages[] = {
      {"UPDATE devices SET node_key = x'0102'", "node key is not 16 bytes"},
      {"UPDATE devices SET port = 70000", "port"},
      {"UPDATE devices SET counter = -1", "counter"},
      {"UPDATE credentials SET psk = x'00'", "psk is not 32 bytes"},
      {"UPDATE credentials SET used_by = 'x'", "used_by"},
      {"INSERT INTO pending VALUES (9, 1, x'0102')", "transaction"},
      {"UPDATE devices SET hello = x'0102'", "hello"},
      {"UPDATE devices SET credential = zeroblob(16)", "credential not admitted"},
  };
  for (const auto& [statement, named] : damages) {
    SCOPED_TRACE(statement);
    sql(statement);
    auto store = DeviceStore::open(path());
    ASSERT_TRUE(store.ok());
    auto data = (*store)->load();
    ASSERT_FALSE(data.ok());
    EXPECT_NE(data.error().find(named), std::string::npos) << data.error();
    EXPECT_NE(data.error().find(path()), std::string::npos) << data.error();
    // Undo the damage for the next one.
    sql("DELETE FROM pending");
    sql("UPDATE devices SET node_key = zeroblob(16), port = 7000, counter = 5, hello = " + hello +
        ", credential = x'" + to_hex(a.id) + "'");
    sql("UPDATE credentials SET psk = zeroblob(32), used_by = 3");
  }
}

}  // namespace
}  // namespace kmchain::daemon
