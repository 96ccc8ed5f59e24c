// When a gateway hands a device the keys of a membership change it submitted (docs/protocol.md
// section 3): after the block holding the transaction is final (commit), or as soon as the
// transaction passed the contract check and entered the mempool, repairing the keys if the block
// later orders things otherwise (sync).
#pragma once

#include <cstdint>

namespace kmchain::ledger {

enum class SubmissionMode : std::uint8_t {
  kCommit = 1,  // keys once the transaction's block is final
  kSync = 2,    // keys once the transaction passed the contract check; repair if it fails later
};

// "commit", "sync".
inline const char* to_string(SubmissionMode m) {
  switch (m) {
    case SubmissionMode::kCommit:
      return "commit";
    case SubmissionMode::kSync:
      return "sync";
  }
  return "unknown";
}

}  // namespace kmchain::ledger
