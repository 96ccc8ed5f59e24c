// DekHistory: the versions of each DEK a receiver accepts records under. During a rekey the
// two ends of a channel switch to the new version at slightly different times, so the version a
// rekey replaces stays valid for a bounded grace period (docs/protocol.md section 5); after it, a
// record under that version fails authentication. A peer's departure drops every version at
// once, without grace.
//
// Time is an argument (milliseconds on the device's monotonic clock, stamped by the shell). There
// is one entry per DEK the device holds, so its keyring bounds the size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include "crypto/secret.h"
#include "keys/key_id.h"

namespace kmchain::channel {

// Versions of one DEK held at once: the current one and up to two it replaced within their
// grace periods. A third rekey inside one grace period ends the oldest version's grace early.
inline constexpr std::size_t kDekVersionsMax = 3;

struct DekVersion {
  crypto::Key128 key;
  std::uint64_t epoch = 0;  // the keyring position that produced it
};

// What a receiver tries, in order: the current version, then older ones newest first. A fixed
// array, so looking up keys for a record allocates nothing; the keys wipe themselves.
class DekCandidates {
 public:
  void push_back(const DekVersion& version);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const DekVersion& operator[](std::size_t i) const;
  const DekVersion* begin() const { return versions_.data(); }
  const DekVersion* end() const { return versions_.data() + size_; }

 private:
  std::array<DekVersion, kDekVersionsMax> versions_{};
  std::size_t size_ = 0;
};

class DekHistory {
 public:
  explicit DekHistory(std::uint64_t grace_ms) : grace_ms_(grace_ms) {}

  // Makes (key, epoch) the current version of `id`. The version it replaces stays a candidate
  // until now_ms + grace_ms. Epochs only grow: an update at the current epoch must carry the
  // same key (a repeated update changes nothing), one below it is a broken invariant.
  void update(const keys::KeyId& id, const crypto::Key128& key, std::uint64_t epoch,
              std::uint64_t now_ms);

  // The current version of `id`, then the older versions still in their grace period at now_ms
  // (valid while now_ms < the end of their grace), newest first. Empty when `id` is unknown.
  DekCandidates candidates(const keys::KeyId& id, std::uint64_t now_ms) const;

  // Drops every version of `id` (the peer left, or the device no longer holds the key).
  void erase(const keys::KeyId& id);

  // Wipes older versions whose grace ended by now_ms, so an expired key does not linger.
  void expire(std::uint64_t now_ms);

  // Keys with at least one version.
  std::size_t size() const { return entries_.size(); }
  // Versions held for `id`, expired ones not yet wiped included.
  std::size_t versions(const keys::KeyId& id) const;

 private:
  struct Version {
    DekVersion dek;
    std::uint64_t valid_until_ms = 0;  // older versions only
  };
  struct Entry {
    DekVersion current;
    // Newest first. A fixed array: a replaced key is overwritten in place when it expires
    // rather than left in freed heap memory.
    std::array<Version, kDekVersionsMax - 1> older{};
    std::size_t older_count = 0;
  };

  static void drop_expired(Entry& entry, std::uint64_t now_ms);

  std::uint64_t grace_ms_;
  std::map<keys::KeyId, Entry> entries_;
};

}  // namespace kmchain::channel
