// Writes the seed corpora of the ledger fuzz targets: valid encodings of every ledger message of
// the fixed consortium (ledger_fuzz_fixture.h), plus a few near misses for each error. Built only
// with KMCHAIN_FUZZ; run once by hand and its output committed:
//   build-fuzz/tests/fuzz/make_ledger_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <string>

#include "corpus_writer.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;
namespace fs = std::filesystem;
using fuzz::write_seed;

int main(int argc, char** argv) {
  const auto root = fuzz::corpus_root(argc, argv);
  if (!root) return 2;
  const auto& f = fuzz::ledger_fixture();

  // Transactions: one per operation, an unknown operation, one byte short.
  const fs::path tx_dir = *root / "fuzz_transaction";
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto tx = fuzz::sample_transaction(i);
    write_seed(tx_dir, std::string(ledger::to_string(tx.op)), ledger::encode(tx));
  }
  auto encoded_tx = ledger::encode(fuzz::sample_transaction(0));
  encoded_tx[0] = 4;
  write_seed(tx_dir, "unknown-operation", encoded_tx);
  write_seed(tx_dir, "truncated-56", ByteView(encoded_tx).first(56));
  // Signed envelopes: a join, a leave with its consent.
  for (std::uint32_t i = 0; i < 2; ++i) {
    const auto stx = fuzz::sample_signed_transaction(i);
    write_seed(tx_dir, std::string("signed-") + ledger::to_string(stx.transaction.op),
               ledger::encode(stx));
  }

  // Blocks: empty, one, three and nine transactions; a wrong root; a bad transaction.
  const fs::path block_dir = *root / "fuzz_block";
  for (std::uint32_t n : {0u, 1u, 3u, 9u}) {
    write_seed(block_dir, "block-" + std::to_string(n) + "-tx",
               ledger::encode(fuzz::sample_block(1, n)));
  }
  Bytes block = ledger::encode(fuzz::sample_block(2, 3));
  block[41] ^= 1;  // the transactions root
  write_seed(block_dir, "root-mismatch", block);
  block = ledger::encode(fuzz::sample_block(2, 3));
  block[ledger::kBlockBytesMin + ledger::kSignedTransactionBytes] = 0;  // transaction 1's version
  write_seed(block_dir, "bad-transaction-1", block);

  // Votes of both types for a block and for nil, and proposals with and without a valid round.
  const fs::path vp_dir = *root / "fuzz_vote_proposal";
  const ledger::Block proposed = fuzz::sample_block(5, 3);
  const ledger::Hash256 hash = ledger::block_hash(proposed);
  for (const auto& [name, vote] : fuzz::sample_votes(hash))
    write_seed(vp_dir, name, ledger::encode(vote));
  for (const auto& [name, proposal] : fuzz::sample_proposals(proposed))
    write_seed(vp_dir, name, ledger::encode(proposal));

  // Certificates: a quorum (9 of 10), everyone, short of a quorum (6 of 10: 3 * 6 <= 2 * 10), a bad
  // signature, an unknown validator; and the genesis itself for the genesis decoder.
  const fs::path cert_dir = *root / "fuzz_certificate";
  write_seed(cert_dir, "quorum-1-2-3",
             ledger::encode(fuzz::sample_certificate(5, 1, hash, {1, 2, 3})));
  write_seed(cert_dir, "everyone",
             ledger::encode(fuzz::sample_certificate(5, 1, hash, {0, 1, 2, 3})));
  write_seed(cert_dir, "insufficient-0-1-2",
             ledger::encode(fuzz::sample_certificate(5, 1, hash, {0, 1, 2})));
  auto bad = fuzz::sample_certificate(5, 1, hash, {0, 2, 3});
  bad.precommits[1].second[0] ^= 1;
  write_seed(cert_dir, "bad-signature-2", ledger::encode(bad));
  auto unknown = fuzz::sample_certificate(5, 1, hash, {2, 3});
  unknown.precommits.emplace_back(GatewayId{4}, unknown.precommits[1].second);
  write_seed(cert_dir, "unknown-validator-4", ledger::encode(unknown));
  write_seed(cert_dir, "genesis", ledger::encode(f.genesis));

  // The seeds must verify where they should: the targets rebuild the same consortium.
  KMCHAIN_FUZZ_ASSERT(
      ledger::verify_certificate(f.genesis, fuzz::sample_certificate(5, 1, hash, {1, 2, 3})).ok());
  KMCHAIN_FUZZ_ASSERT(
      !ledger::verify_certificate(f.genesis, fuzz::sample_certificate(5, 1, hash, {0, 1, 2})).ok());
  std::printf("%zu seeds\n", fuzz::seeds_written);
  return 0;
}
