// D2D records: application data one device sends another under their shared DEK
// (docs/protocol.md section 5). Wire format, big-endian (27-byte header, then the sealed body):
//
//   offset size field
//   0      1    version      1
//   1      1    purpose      1 application data (other values refused)
//   2      1    key class    3 pairwise node key, 4 pairwise set key (keys::KeyClass)
//   3      4    sender       node id
//   7      4    receiver     node id
//   11     8    key epoch    the sender's keyring position of the key version it used
//   19     8    counter      the sender's record counter
//   27     ..   AES-128-CCM ciphertext || 8-byte tag
//
// Nonce (13 bytes) = sender (4) || counter (8) || 0x00. The counter is one per sending device
// across all of its keys, so a nonce never repeats under any key, even a pairwise set key that
// every member of two sets holds: the sender id keeps their nonce spaces apart. The last byte is
// 0 for records; any other use of a DEK with this AEAD must set it non-zero.
//
// Associated data = "kmchain/v1/d2d" || context id (32, the chain id) || the 27 header bytes, so
// a record moved to another sender, receiver, key class, epoch, purpose, counter or consortium
// fails authentication.
//
// Insider limit (docs/protocol.md section 5): every member of two sets holds their pairwise set key
// and can forge a record under it claiming any sender of those sets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/aead.h"
#include "keys/key_id.h"

namespace kmchain::channel {

inline constexpr std::uint8_t kRecordVersion = 1;
inline constexpr std::size_t kRecordHeaderBytes = 27;
static_assert(kRecordHeaderBytes == 1 + 1 + 1 + 4 + 4 + 8 + 8);
// 8 bytes, as in OSCORE's default AES-CCM-16-64-128 (RFC 8613): a forgery succeeds with
// probability 2^-64 per attempt.
inline constexpr crypto::CcmTag kRecordTag = crypto::CcmTag::k8;
inline constexpr std::size_t kRecordTagBytes = crypto::tag_bytes(kRecordTag);
// The shortest record: a header and the tag of an empty plaintext.
inline constexpr std::size_t kRecordBytesMin = kRecordHeaderBytes + kRecordTagBytes;

// A whole record fits the payload of one CoAP message without block-wise transfer (RFC 7252
// section 4.6: 1024 payload bytes within the 1152-byte message size of a constrained link). It
// is also what a peer can make a receiver buffer and decrypt per record.
inline constexpr std::size_t kRecordBytesMax = 1024;
inline constexpr std::size_t kRecordPlaintextMax = kRecordBytesMax - kRecordBytesMin;
// AES-CCM with a 13-byte nonce encodes the plaintext length in 15 - 13 = 2 bytes.
static_assert(kRecordPlaintextMax < (std::size_t{1} << (8 * (15 - crypto::kCcmNonceBytes))));

// Starts the associated data, so a record's authentication can never be confused with that of
// another message a DEK might protect.
inline constexpr std::string_view kRecordDomain = "kmchain/v1/d2d";

// The consortium a record belongs to: the chain id (the genesis hash, ledger::Genesis::chain_id).
using ContextId = std::array<std::uint8_t, 32>;

enum class Purpose : std::uint8_t {
  kApplicationData = 1,
};

enum class ChannelError : std::uint8_t {
  kTruncated = 1,          // shorter than a header and a tag
  kBadVersion = 2,         // unknown version byte
  kUnknownPurpose = 3,     // unknown purpose byte
  kBadKeyClass = 4,        // not a DEK class (pairwise node key or pairwise set key)
  kNotForMe = 5,           // addressed to another device
  kNoKey = 6,              // no DEK shared with the sender under that class
  kAuthFailed = 7,         // the tag verifies under no candidate version of the DEK
  kReplayed = 8,           // authentic, counter already accepted
  kTooOld = 9,             // authentic, counter left of the replay window
  kTooLarge = 10,          // record or plaintext above kRecordBytesMax / kRecordPlaintextMax
  kCounterExhausted = 11,  // the sender's counter would wrap: it must never send again
};
// "truncated", "bad version", ..., "counter exhausted".
const char* to_string(ChannelError e);

// Whether `key_class` is one a record may use: the DEKs, never a KEK.
bool is_dek_class(keys::KeyClass key_class);

struct RecordHeader {
  Purpose purpose = Purpose::kApplicationData;
  keys::KeyClass key_class = keys::KeyClass::kPairwiseNodeKey;
  NodeId sender;
  NodeId receiver;
  std::uint64_t epoch = 0;
  std::uint64_t counter = 0;
};

// Appends the 27 header bytes.
void encode_header(const RecordHeader& header, Bytes& out);

// Parses the cleartext header of a record (no authentication yet): kTooLarge, kTruncated,
// kBadVersion, kUnknownPurpose or kBadKeyClass, checked in that order.
Result<RecordHeader, ChannelError> parse_header(ByteView record);

crypto::CcmNonce record_nonce(NodeId sender, std::uint64_t counter);

// kRecordDomain || context || header_bytes.
Bytes associated_data(const ContextId& context, ByteView header_bytes);

}  // namespace kmchain::channel
