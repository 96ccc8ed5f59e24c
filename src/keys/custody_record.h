// CustodyRecord: every key a gateway ever held, and when (docs/protocol.md section 4, key custody).
//
// A captured gateway leaks every key it ever held, so its exposure is not what it holds now but
// what it held over time. The record keeps, per holding, the key's identity, the refresh
// position at which the gateway came to hold it, and, once dropped, the position at which it
// dropped it. It names keys, never values: the values a key took while held follow from the
// ledger (its refresh keys) and the value at the start of the holding.
//
// What an entry stands for:
//   node key NK(u):          the node key of a device homed at the gateway;
//   set key SK(S):           the owned set S: its set key and the pairwise seed from which every
//                            pairwise node key of S derives (both are held for exactly as long);
//   pairwise set key PSK:    a pair of sets of which the gateway owns at least one.
//
// Growth: one span per holding, appended when a key is first held and closed, never removed,
// when it is dropped. A gateway g therefore records one span per device that joined it (a device
// that leaves and joins again opens a second one), one per set it opened, and one per pair of
// sets one of which is its own: at most O(S_g * S_max) pairwise spans over a lifetime in which it
// opened S_g sets while at most S_max sets existed at a time. Spans are about 40 bytes; the
// record grows linearly with the operations that touch g's keys and is bounded by nothing else,
// which is what an exposure measurement needs (persisting and truncating it is the daemon's
// choice). The index of open spans is bounded by what the gateway holds now.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "base/ids.h"
#include "keys/key_id.h"

namespace kmchain::keys {

struct CustodySpan {
  KeyId key;
  Position held_from;                  // the step at which the gateway came to hold the key
  std::optional<Position> dropped_at;  // the step at which it dropped it; nullopt while held

  bool held_at(Position p) const { return held_from <= p && (!dropped_at || p < *dropped_at); }
  bool operator==(const CustodySpan&) const = default;
};

class CustodyRecord {
 public:
  // Opens a span for `key` unless one is open already (a key replaced in place is one holding).
  void hold(const KeyId& key, Position position);
  // Closes the open span of `key`, if any.
  void drop(const KeyId& key, Position position);

  // Every span, in the order the holdings began.
  const std::vector<CustodySpan>& spans() const { return spans_; }
  // Keys held now.
  std::size_t held_count() const { return open_.size(); }
  bool holds(const KeyId& key) const { return open_.contains(key); }
  // Keys held at position `p`, in KeyId order.
  std::vector<KeyId> held_at(Position p) const;

  bool operator==(const CustodyRecord& other) const { return spans_ == other.spans_; }

 private:
  std::vector<CustodySpan> spans_;
  std::map<KeyId, std::size_t> open_;  // key -> index of its open span in spans_
};

}  // namespace kmchain::keys
