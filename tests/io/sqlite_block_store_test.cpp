// SqliteBlockStore against real database files: append and reopen, the height check, the
// chain-id binding, rows damaged behind its back through SQL (each a typed error from read(),
// an abort from get()), gaps, foreign files, and the WAL journal mode.
#include "io/sqlite_block_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "../ledger/ledger_fixture.h"
#include "consensus/storage.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "support/temp_dir_test.h"

namespace kmchain::io {
namespace {

using consensus::StoredBlock;
using ledger::Hash256;

Hash256 test_chain_id() {
  return ledger::fixture::make_genesis({1, 1, 1, 1}).chain_id();
}

// Blocks 1..n chained by hash, with 0-3 transactions each and certificates signed by three of
// four validators.
std::vector<StoredBlock> make_chain(const Hash256& chain_id, std::size_t n) {
  using namespace ledger::fixture;
  std::vector<StoredBlock> chain;
  Hash256 previous{};
  for (std::size_t i = 1; i <= n; ++i) {
    ledger::BlockHeader header;
    header.height = Height{i};
    header.previous_hash = previous;
    header.state_hash = counting_hash(static_cast<std::uint8_t>(i));
    header.proposer = GatewayId{static_cast<std::uint16_t>(i % 4)};
    header.timestamp_ms = kGenesisTimeMs + 1000 * i;
    std::vector<ledger::SignedTransaction> txs;
    for (std::size_t t = 0; t < i % 4; ++t)
      txs.push_back(numbered_signed_tx(static_cast<std::uint32_t>(10 * i + t)));
    ledger::Block block = ledger::make_block(header, std::move(txs));
    const Hash256 hash = ledger::block_hash(block);
    ledger::CommitCertificate certificate =
        certify(chain_id, Height{i}, Round{static_cast<std::uint32_t>(i % 3)}, hash, {0, 1, 2});
    chain.push_back(StoredBlock{std::move(block), std::move(certificate),
                                counting_hash(static_cast<std::uint8_t>(i + 1))});
    previous = hash;
  }
  return chain;
}

class SqliteBlockStoreTest : public kmchain::testing::TempDirTest {
 protected:
  SqliteBlockStoreTest() : TempDirTest("kmchain-store") {}

  static constexpr std::size_t kChainLength = 12;

  static void SetUpTestSuite() {
    chain_ = new std::vector<StoredBlock>(make_chain(test_chain_id(), kChainLength));
  }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }

  std::string path(const std::string& name = "blocks.db") const { return (dir_ / name).string(); }
  static const StoredBlock& block(std::size_t height) { return (*chain_)[height - 1]; }

  static std::unique_ptr<SqliteBlockStore> open_ok(const std::string& p,
                                                   const Hash256& chain_id = test_chain_id()) {
    auto store = SqliteBlockStore::open(p, chain_id);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : to_string(store.error()));
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // A store at `p` holding blocks 1..n, closed again.
  static void fill(const std::string& p, std::size_t n) {
    auto store = open_ok(p);
    ASSERT_NE(store, nullptr);
    for (std::size_t h = 1; h <= n; ++h)
      store->append(block(h));
  }

  // Runs `sql` on its own connection, as an operator or a damaged disk would.
  static void raw_sql(const std::string& p, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (message != nullptr ? message : "");
    sqlite3_free(message);
    sqlite3_close_v2(db);
  }

  static std::string journal_mode(const std::string& p) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string mode;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close_v2(db);
    return mode;
  }

  static std::vector<StoredBlock>* chain_;
};

std::vector<StoredBlock>* SqliteBlockStoreTest::chain_ = nullptr;

TEST_F(SqliteBlockStoreTest, NewStoreIsEmpty) {
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->height(), Height{0});
  EXPECT_EQ(store->get(Height{0}), std::nullopt);
  EXPECT_EQ(store->get(Height{1}), std::nullopt);
  auto read = store->read(Height{1});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, std::nullopt);
}

TEST_F(SqliteBlockStoreTest, AppendThenGet) {
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  for (std::size_t h = 1; h <= 3; ++h) {
    store->append(block(h));
    EXPECT_EQ(store->height(), Height{h});
    EXPECT_EQ(store->get(Height{h}), block(h));
  }
  EXPECT_EQ(store->get(Height{4}), std::nullopt);
}

TEST_F(SqliteBlockStoreTest, ReopenKeepsHeightAndBlocks) {
  fill(path(), kChainLength);
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->height(), Height{kChainLength});
  for (std::size_t h = 1; h <= kChainLength; ++h)
    EXPECT_EQ(store->get(Height{h}), block(h)) << h;
  EXPECT_EQ(store->get(Height{kChainLength + 1}), std::nullopt);
  // And the chain goes on from there.
  store.reset();
  fill(path("second.db"), 5);
  store = open_ok(path("second.db"));
  ASSERT_NE(store, nullptr);
  store->append(block(6));
  store.reset();
  store = open_ok(path("second.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->height(), Height{6});
  EXPECT_EQ(store->get(Height{6}), block(6));
}

TEST_F(SqliteBlockStoreTest, AppendAtWrongHeightAborts) {
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  EXPECT_DEATH(store->append(block(2)), "invariant broken");
  store->append(block(1));
  EXPECT_DEATH(store->append(block(1)), "invariant broken");
  EXPECT_DEATH(store->append(block(3)), "invariant broken");
  EXPECT_EQ(store->height(), Height{1});
}

TEST_F(SqliteBlockStoreTest, WrongChainIdIsRefused) {
  fill(path(), 2);
  const Hash256 other =
      ledger::fixture::make_genesis({1, 1, 1, 1}, "another-consortium").chain_id();
  ASSERT_NE(other, test_chain_id());
  auto refused = SqliteBlockStore::open(path(), other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), StoreError::kWrongChain);
  // Refusing did not stamp or damage anything.
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->height(), Height{2});
}

TEST_F(SqliteBlockStoreTest, WalJournalModeIsActive) {
  auto store = open_ok(path());
  ASSERT_NE(store, nullptr);
  store->append(block(1));
  EXPECT_EQ(journal_mode(path()), "wal");
  store.reset();
  EXPECT_EQ(journal_mode(path()), "wal");  // persistent in the file
}

struct Corruption {
  const char* name;
  const char* sql;  // applied to the row at height 2
  StoreError expected;
};

TEST_F(SqliteBlockStoreTest, CorruptRowIsATypedErrorFromRead) {
  const Corruption cases[] = {
      {"block byte", "UPDATE blocks SET block = X'00' WHERE height = 2", StoreError::kCorruptBlock},
      {"block empty", "UPDATE blocks SET block = X'' WHERE height = 2", StoreError::kCorruptBlock},
      {"block text", "UPDATE blocks SET block = 'block' WHERE height = 2",
       StoreError::kCorruptBlock},
      {"block truncated",
       "UPDATE blocks SET block = substr(block, 1, length(block) - 1) "
       "WHERE height = 2",
       StoreError::kCorruptBlock},
      {"block of another height",
       "UPDATE blocks SET block = (SELECT block FROM blocks WHERE height = 3) WHERE height = 2",
       StoreError::kHeightMismatch},
      {"hash zero", "UPDATE blocks SET hash = zeroblob(32) WHERE height = 2",
       StoreError::kHashMismatch},
      {"hash short", "UPDATE blocks SET hash = X'01' WHERE height = 2", StoreError::kHashMismatch},
      {"certificate byte", "UPDATE blocks SET certificate = X'00' WHERE height = 2",
       StoreError::kCorruptCertificate},
      {"certificate integer", "UPDATE blocks SET certificate = 7 WHERE height = 2",
       StoreError::kCorruptCertificate},
      {"state hash short", "UPDATE blocks SET state_hash = X'0102' WHERE height = 2",
       StoreError::kCorruptStateHash},
      {"state hash long", "UPDATE blocks SET state_hash = zeroblob(33) WHERE height = 2",
       StoreError::kCorruptStateHash},
  };
  int n = 0;
  for (const Corruption& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string p = path("corrupt-" + std::to_string(n++) + ".db");
    fill(p, 3);
    raw_sql(p, c.sql);
    auto store = open_ok(p);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->height(), Height{3});
    auto damaged = store->read(Height{2});
    ASSERT_FALSE(damaged.ok());
    EXPECT_EQ(damaged.error(), c.expected) << to_string(damaged.error());
    // The neighbours are untouched.
    EXPECT_EQ(store->get(Height{1}), block(1));
    EXPECT_EQ(store->get(Height{3}), block(3));
  }
}

TEST_F(SqliteBlockStoreTest, GetAbortsOnACorruptRow) {
  fill(path(), 3);
  raw_sql(path(), "UPDATE blocks SET block = X'00' WHERE height = 2");
  // Opened inside the death test: an SQLite connection must not be used across fork().
  EXPECT_DEATH(
      {
        auto store = SqliteBlockStore::open(path(), test_chain_id());
        if (store.ok()) (void)store.value()->get(Height{2});
      },
      "height 2 cannot be read: corrupt block");
}

TEST_F(SqliteBlockStoreTest, GapInHeightsIsRefusedAtOpen) {
  fill(path(), 4);
  raw_sql(path(), "DELETE FROM blocks WHERE height = 2");
  auto store = SqliteBlockStore::open(path(), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kNotContiguous);

  fill(path("top.db"), 3);
  raw_sql(path("top.db"), "DELETE FROM blocks WHERE height = 1");
  store = SqliteBlockStore::open(path("top.db"), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kNotContiguous);
}

TEST_F(SqliteBlockStoreTest, SchemaProblemsAreTyped) {
  fill(path("version.db"), 1);
  raw_sql(path("version.db"), "UPDATE meta SET value = 2 WHERE key = 'schema_version'");
  auto store = SqliteBlockStore::open(path("version.db"), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kSchemaVersion);

  fill(path("no-chain.db"), 1);
  raw_sql(path("no-chain.db"), "DELETE FROM meta WHERE key = 'chain_id'");
  store = SqliteBlockStore::open(path("no-chain.db"), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kBadSchema);

  fill(path("short-chain.db"), 1);
  raw_sql(path("short-chain.db"), "UPDATE meta SET value = X'00' WHERE key = 'chain_id'");
  store = SqliteBlockStore::open(path("short-chain.db"), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kBadSchema);

  // Blocks without any meta: not a database this store made.
  fill(path("no-meta.db"), 1);
  raw_sql(path("no-meta.db"), "DELETE FROM meta");
  store = SqliteBlockStore::open(path("no-meta.db"), test_chain_id());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), StoreError::kBadSchema);
}

TEST_F(SqliteBlockStoreTest, OpenErrorsAreTyped) {
  std::string detail;
  auto missing = SqliteBlockStore::open((dir_ / "no-such-dir" / "blocks.db").string(),
                                        test_chain_id(), &detail);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), StoreError::kCannotOpen);
  // SQLite's words and the system's: what an operator can act on.
  EXPECT_NE(detail.find("unable to open database file"), std::string::npos) << detail;
  EXPECT_NE(detail.find("No such file or directory"), std::string::npos) << detail;

  {
    std::ofstream out(path("garbage.db"), std::ios::binary);
    for (int i = 0; i < 4096; ++i)
      out.put(static_cast<char>(i * 7 + 3));
  }
  auto garbage = SqliteBlockStore::open(path("garbage.db"), test_chain_id(), &detail);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error(), StoreError::kNotADatabase);
  EXPECT_NE(detail.find("not a database"), std::string::npos) << detail;
}

TEST_F(SqliteBlockStoreTest, ErrorsHaveNames) {
  for (int code = 1; code <= 14; ++code) {
    EXPECT_STRNE(to_string(static_cast<StoreError>(code)), "unknown store error") << code;
  }
}

}  // namespace
}  // namespace kmchain::io
