// Rekey messages: what a gateway sends a device (or a whole set) when membership changes.
// Wire format (docs/wire-formats.md), big-endian:
//
//   header (28 bytes, authenticated as AES-CCM associated data)
//     u8  version (1)        u8  kind         u8  audience (1 device, 2 set)
//     u32 target (node or set id)             u64 position (refresh position)
//     u8[13] nonce
//   sealed body: AES-128-CCM ciphertext || 16-byte tag, under the target's KEK: the node key
//   of a device audience, the set key of a set audience.
//
// The header binds recipient, key identity and refresh position; a message moved to another
// recipient, key or position fails authentication.
#pragma once

#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "crypto/aead.h"
#include "crypto/secret.h"
#include "keys/key_id.h"
#include "keys/set_table.h"

namespace kmchain::keys {

using crypto::Key128;

inline constexpr std::uint8_t kRekeyVersion = 1;
inline constexpr std::size_t kRekeyHeaderBytes = 28;
inline constexpr crypto::CcmTag kRekeyTag = crypto::CcmTag::k16;
// AES-CCM with a 13-byte nonce encodes the plaintext length in 15 - 13 = 2 bytes.
inline constexpr std::size_t kRekeyPlaintextMax =
    (std::size_t{1} << (8 * (15 - crypto::kCcmNonceBytes))) - 1;

namespace detail {
constexpr std::size_t ceil_sqrt(std::size_t n) {
  std::size_t c = 1;
  while (c * c < n)
    ++c;
  return c;
}
// The largest bundle a network within the limits needs: a set of cap + slack members (one
// pairwise node key per other member) and cap + gateways + 1 sets (one pairwise set key per
// other set), with cap = ceil(sqrt(kDevicesMax)); set id, set key and two counts besides.
inline constexpr std::size_t kLargestBundleBytes =
    4 + 16 + 2 + 2 +
    20 * ((ceil_sqrt(limits::kDevicesMax) + limits::kSetSlack - 1) +
          (ceil_sqrt(limits::kDevicesMax) + limits::kGatewaysMax));
}  // namespace detail
// Otherwise a join into a large network would abort in seal_message.
static_assert(detail::kLargestBundleBytes <= kRekeyPlaintextMax);

enum class MessageKind : std::uint8_t {
  kRefresh = 1,          // apply refresh key R to the keys of a set (a place or remove step)
  kSetAdded = 2,         // a new set exists: here is our pairwise set key with it
  kSetRemoved = 3,       // a set is gone: delete the pairwise set key with it
  kPairwiseNodeKey = 4,  // a new member of my set: here is our pairwise node key
  kKeyBundle = 5,        // every key a device placed into a set needs
  // Sync mode's early answer: the bundle a joining device would get if the pending
  // transactions became final in the order its gateway guessed. Provisional: the device uses
  // it until the bundle of its committed join (kKeyBundle) replaces it, whatever its position,
  // and takes none once it holds final keys. The body is a key bundle's.
  kEarlyBundle = 6,
};

// "refresh", "set-added", "set-removed", "pairwise-node-key", "key-bundle".
const char* to_string(MessageKind kind);

enum class Audience : std::uint8_t { kDevice = 1, kSet = 2 };

enum class RekeyError : std::uint8_t {
  kTruncated = 1,     // shorter than a header plus a tag
  kBadVersion = 2,    // unknown version byte
  kUnknownKind = 3,   // unknown kind or audience byte
  kNotForMe = 4,      // addressed to another device or set
  kReplayed = 5,      // position already applied (or key already held)
  kGap = 6,           // a refresh position was skipped: catch-up needed
  kAuthFailed = 7,    // tag does not verify under the KEK the header names
  kMalformed = 8,     // authentic, but the body does not parse or exceeds a bound
  kInconsistent = 9,  // authentic and well-formed, but contradicts the keyring's state
};
const char* to_string(RekeyError e);

struct Header {
  MessageKind kind;
  Audience audience;
  std::uint32_t target = 0;
  Position position;
  crypto::CcmNonce nonce{};

  KeyId kek() const {
    return audience == Audience::kDevice ? KeyId::node_key(NodeId{target})
                                         : KeyId::set_key(SetId{target});
  }
};

struct RefreshBody {
  StepKind change;  // kPlace or kRemove
  Cause cause;
  NodeId node;
  SetId set;  // the set whose keys this refresh updates
  Key128 refresh_key;
};

struct SetAddedBody {
  SetId set;
  NodeId node;  // the device whose join opened it
  Key128 pairwise_set_key;
};

struct SetRemovedBody {
  SetId set;
  Cause cause;
  NodeId node;  // the last member that left, or 0 when Reorder dissolved the set
};

struct PairwiseNodeKeyBody {
  NodeId peer;
  Key128 key;
};

struct KeyBundleBody {
  SetId set;
  Key128 set_key;
  std::vector<std::pair<NodeId, Key128>> pairwise_node_keys;  // sorted by node
  std::vector<std::pair<SetId, Key128>> pairwise_set_keys;    // sorted by set
};

using Body =
    std::variant<RefreshBody, SetAddedBody, SetRemovedBody, PairwiseNodeKeyBody, KeyBundleBody>;

MessageKind kind_of(const Body& body);
bool is_bundle(MessageKind kind);

// Encodes and seals; the header's kind must match the body (a KeyBundleBody seals as a key
// bundle or as an early bundle).
Bytes seal_message(const Header& header, const Body& body, const Key128& kek);

// Parses the cleartext header of a wire message (no authentication yet).
Result<Header, RekeyError> parse_header(ByteView wire);

// Authenticates the message under `kek` and decodes its body.
Result<Body, RekeyError> open_body(const Header& header, ByteView wire, const Key128& kek);

}  // namespace kmchain::keys
