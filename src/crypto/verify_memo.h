// VerifyMemo: remembered Ed25519 verdicts, for a simulator that runs one signed message
// through every replica of a consortium in one thread. Installed for the current thread by a
// ScopedVerifyMemo, it lets ed25519_verify answer a (key, message, signature) it has checked
// before from memory; nothing installs one outside the simulators, where each message is
// checked once per receiver anyway. The key is the SHA-256 of all three, so a different byte
// anywhere is a different entry: the verdict is the same as without the memo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "crypto/hash.h"

namespace kmchain::crypto {

class VerifyMemo {
 public:
  // Entries kept; when full the memo starts over (a seed's messages are mostly recent).
  static constexpr std::size_t kCapacity = 1 << 17;

  std::optional<bool> find(const Digest256& key) const;
  void remember(const Digest256& key, bool verdict);
  std::uint64_t hits() const { return hits_; }

 private:
  struct KeyHash {
    std::size_t operator()(const Digest256& d) const;
  };
  std::unordered_map<Digest256, bool, KeyHash> verdicts_;
  mutable std::uint64_t hits_ = 0;
};

// Installs `memo` for the current thread until destroyed (then the previous one, if any).
class ScopedVerifyMemo {
 public:
  explicit ScopedVerifyMemo(VerifyMemo& memo);
  ~ScopedVerifyMemo();
  ScopedVerifyMemo(const ScopedVerifyMemo&) = delete;
  ScopedVerifyMemo& operator=(const ScopedVerifyMemo&) = delete;

 private:
  VerifyMemo* previous_;
};

// The memo installed for this thread, if any (for ed25519_verify).
VerifyMemo* current_verify_memo();

}  // namespace kmchain::crypto
