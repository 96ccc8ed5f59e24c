#include "keys/custody_record.h"

#include <algorithm>

#include "base/check.h"

namespace kmchain::keys {

void CustodyRecord::hold(const KeyId& key, Position position) {
  if (open_.contains(key)) return;
  // Positions only grow: a holding never begins before the one recorded last.
  KMCHAIN_CHECK(spans_.empty() || spans_.back().held_from <= position);
  open_.emplace(key, spans_.size());
  spans_.push_back(CustodySpan{key, position, std::nullopt});
}

void CustodyRecord::drop(const KeyId& key, Position position) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  CustodySpan& span = spans_.at(it->second);
  KMCHAIN_CHECK(span.held_from <= position);
  span.dropped_at = position;
  open_.erase(it);
}

std::vector<KeyId> CustodyRecord::held_at(Position p) const {
  std::vector<KeyId> out;
  for (const CustodySpan& span : spans_) {
    if (span.held_at(p)) out.push_back(span.key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kmchain::keys
