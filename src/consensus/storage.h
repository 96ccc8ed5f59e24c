// What a replica keeps on disk, as two narrow interfaces the shell implements: SQLite and a
// file WAL in the daemon (src/io), an in-memory disk with crash faults in the simulator
// (src/sim). The consensus core never touches a file itself.
//
//   ConsensusWal  the signer's state (consensus/wal_state.h), written before any message it
//                 signs leaves the process ("persist before you speak"). Only the last record
//                 matters; a torn or corrupt tail is ignored, so the previous record stands.
//   BlockStore    the decided chain: each block with its commit certificate and the state hash
//                 after it, appended in height order. Replaying it rebuilds the ledger state.
//
// Both are durable when a call returns. A failure to write is not recoverable in place (the
// process cannot know what reached the disk): implementations abort, and the restart reads
// back what is there.
#pragma once

#include <optional>

#include "base/bytes.h"
#include "base/ids.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/hashing.h"

namespace kmchain::consensus {

class ConsensusWal {
 public:
  virtual ~ConsensusWal() = default;
  // Appends one record; durable (fsync'd) on return.
  virtual void write(ByteView record) = 0;
  // The last complete, intact record, if any.
  virtual std::optional<Bytes> read_last() const = 0;
};

struct StoredBlock {
  ledger::Block block;
  ledger::CommitCertificate certificate;
  ledger::Hash256 state_hash_after{};

  friend bool operator==(const StoredBlock&, const StoredBlock&) = default;
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;
  // Height of the last stored block; 0 when only the genesis exists.
  virtual Height height() const = 0;
  // Appends the block at height() + 1 (checked); durable on return.
  virtual void append(const StoredBlock& stored) = 0;
  // The block at `height` (1..height()), or nullopt.
  virtual std::optional<StoredBlock> get(Height height) const = 0;
};

}  // namespace kmchain::consensus
