#include "crypto/verify_memo.h"

#include <cstring>

namespace kmchain::crypto {

namespace {
thread_local VerifyMemo* t_memo = nullptr;
}  // namespace

std::size_t VerifyMemo::KeyHash::operator()(const Digest256& d) const {
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

std::optional<bool> VerifyMemo::find(const Digest256& key) const {
  auto it = verdicts_.find(key);
  if (it == verdicts_.end()) return std::nullopt;
  ++hits_;
  return it->second;
}

void VerifyMemo::remember(const Digest256& key, bool verdict) {
  if (verdicts_.size() >= kCapacity) verdicts_.clear();
  verdicts_.emplace(key, verdict);
}

ScopedVerifyMemo::ScopedVerifyMemo(VerifyMemo& memo) : previous_(t_memo) {
  t_memo = &memo;
}

ScopedVerifyMemo::~ScopedVerifyMemo() {
  t_memo = previous_;
}

VerifyMemo* current_verify_memo() {
  return t_memo;
}

}  // namespace kmchain::crypto
