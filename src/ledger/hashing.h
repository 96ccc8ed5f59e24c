// Hashes of the ledger and the domain tags that separate them. Every hash and every signed
// message of the ledger starts with one of these tags, so a digest or signature made for one
// purpose is never valid for another (a transaction hash is not a block hash; a vote signature
// is not a proposal signature). No tag is a prefix of another (checked below), so the tag
// boundary is unambiguous without a length byte.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/bytes.h"
#include "crypto/hash.h"

namespace kmchain::ledger {

using Hash256 = crypto::Digest256;

namespace domain {
inline constexpr std::string_view kTransaction = "kmchain/v1/tx";
inline constexpr std::string_view kBlock = "kmchain/v1/block";
inline constexpr std::string_view kVote = "kmchain/v1/vote";
inline constexpr std::string_view kProposal = "kmchain/v1/proposal";
inline constexpr std::string_view kGenesis = "kmchain/v1/genesis";
inline constexpr std::string_view kState = "kmchain/v1/state";
inline constexpr std::string_view kSubmission = "kmchain/v1/submission";
inline constexpr std::string_view kLeaveConsent = "kmchain/v1/leave";
inline constexpr std::string_view kMoveConsent = "kmchain/v1/move";

namespace detail {
inline constexpr std::string_view kAll[] = {kTransaction, kBlock,        kVote,
                                            kProposal,    kGenesis,      kState,
                                            kSubmission,  kLeaveConsent, kMoveConsent};
constexpr bool prefix_free() {
  for (std::string_view a : kAll) {
    for (std::string_view b : kAll) {
      if (a != b && b.substr(0, a.size()) == a) return false;
    }
  }
  return true;
}
}  // namespace detail
static_assert(detail::prefix_free(), "a domain tag must not be a prefix of another");
}  // namespace domain

// SHA-256(tag || data).
inline Hash256 tagged_hash(std::string_view tag, ByteView data) {
  crypto::Sha256 h;
  h.update(as_bytes(tag));
  h.update(data);
  return h.finish();
}

}  // namespace kmchain::ledger
