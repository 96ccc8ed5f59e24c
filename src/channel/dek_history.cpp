#include "channel/dek_history.h"

#include <algorithm>

#include "base/check.h"

namespace kmchain::channel {

void DekCandidates::push_back(const DekVersion& version) {
  KMCHAIN_CHECK(size_ < kDekVersionsMax);
  versions_[size_++] = version;
}

const DekVersion& DekCandidates::operator[](std::size_t i) const {
  KMCHAIN_CHECK(i < size_);
  return versions_[i];
}

void DekHistory::update(const keys::KeyId& id, const crypto::Key128& key, std::uint64_t epoch,
                        std::uint64_t now_ms) {
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    entries_.emplace(id, Entry{DekVersion{key, epoch}, {}});
    return;
  }
  Entry& entry = it->second;
  KMCHAIN_CHECK(epoch >= entry.current.epoch);
  if (epoch == entry.current.epoch) {
    KMCHAIN_CHECK(key == entry.current.key);
    return;
  }
  drop_expired(entry, now_ms);
  // Saturating: a grace that reaches past the clock's range never ends.
  const std::uint64_t until = now_ms > UINT64_MAX - grace_ms_ ? UINT64_MAX : now_ms + grace_ms_;
  // Shift the older versions down one slot; with all slots taken the oldest falls off the end.
  const std::size_t kept = std::min(entry.older_count, entry.older.size() - 1);
  for (std::size_t i = kept; i > 0; --i)
    entry.older[i] = entry.older[i - 1];
  entry.older[0] = Version{entry.current, until};
  entry.older_count = kept + 1;
  entry.current = DekVersion{key, epoch};
}

DekCandidates DekHistory::candidates(const keys::KeyId& id, std::uint64_t now_ms) const {
  DekCandidates out;
  const auto it = entries_.find(id);
  if (it == entries_.end()) return out;
  const Entry& entry = it->second;
  out.push_back(entry.current);
  for (std::size_t i = 0; i < entry.older_count; ++i) {
    if (now_ms < entry.older[i].valid_until_ms) out.push_back(entry.older[i].dek);
  }
  return out;
}

void DekHistory::erase(const keys::KeyId& id) {
  entries_.erase(id);
}

void DekHistory::expire(std::uint64_t now_ms) {
  for (auto& [id, entry] : entries_)
    drop_expired(entry, now_ms);
}

std::size_t DekHistory::versions(const keys::KeyId& id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? 0 : 1 + it->second.older_count;
}

void DekHistory::drop_expired(Entry& entry, std::uint64_t now_ms) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < entry.older_count; ++i) {
    if (now_ms < entry.older[i].valid_until_ms) entry.older[kept++] = entry.older[i];
  }
  // Overwrite the slots left behind: an expired key does not stay in memory.
  for (std::size_t i = kept; i < entry.older_count; ++i)
    entry.older[i] = Version{};
  entry.older_count = kept;
}

}  // namespace kmchain::channel
