// Structure-aware: the first bytes choose kind, audience, starting keyring and position (see
// fuzz_fixture.h); the rest is the body plaintext, sealed under the keyring's real KEK with the
// header as associated data, exactly as seal_message does. So every input authenticates and the
// fuzzer works on the body decoder and the keyring's semantic checks behind authentication.
//
// Invariants: no crash; a rejected message changes nothing; an accepted one leaves the keyring
// well-formed (fuzz::well_formed), never moves its position backwards and came under the KEK
// its kind requires; and a body that decodes re-encodes to exactly the same wire message (the
// encoding is canonical).
#include <cstddef>
#include <cstdint>

#include "codec/byte_writer.h"
#include "crypto/aead.h"
#include "fuzz_fixture.h"
#include "keys/rekey_message.h"

using namespace kmchain;

namespace {
constexpr std::size_t kCcmPlaintextMax =
    (std::size_t{1} << (8 * (15 - crypto::kCcmNonceBytes))) - 1;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < fuzz::kBodySelectorBytes) return 0;
  const fuzz::Fixture& f = fuzz::fixture();
  static const Bytes placed_before = fuzz::snapshot(f.placed);
  static const Bytes unplaced_before = fuzz::snapshot(f.unplaced);

  const auto kind = static_cast<keys::MessageKind>(1 + data[0] % 5);
  const bool to_set = (data[1] & fuzz::kFlagSetAudience) != 0;
  const bool unplaced = (data[1] & fuzz::kFlagUnplaced) != 0;
  const keys::Keyring& start = unplaced ? f.unplaced : f.placed;
  const Bytes& before = unplaced ? unplaced_before : placed_before;

  keys::Header h{kind,
                 to_set ? keys::Audience::kSet : keys::Audience::kDevice,
                 0,
                 Position{fuzz::body_position(data[2], start.position().value())},
                 {}};
  h.nonce.fill(data[3]);
  // The KEK the header names; an unplaced device has no set key, so its "set" message is
  // sealed under the node key and addressed to set 0 (it must be rejected as not for it).
  const crypto::Key128* kek = &start.node_key();
  if (!to_set) {
    h.target = start.self().value();
  } else if (start.placed()) {
    h.target = start.set()->value();
    kek = start.set_key();
  }

  Bytes wire;
  codec::ByteWriter w(wire);
  w.u8(keys::kRekeyVersion);
  w.u8(static_cast<std::uint8_t>(h.kind));
  w.u8(static_cast<std::uint8_t>(h.audience));
  w.u32(h.target);
  w.u64(h.position.value());
  w.raw(h.nonce);
  const ByteView plaintext(data + fuzz::kBodySelectorBytes, size - fuzz::kBodySelectorBytes);
  // AES-CCM with a 13-byte nonce cannot seal more (a 2-byte length field): sealing is the
  // sender's precondition, not something a received message can violate.
  if (plaintext.size() > kCcmPlaintextMax) return 0;
  Bytes sealed;
  crypto::aes128_ccm_seal(*kek, h.nonce, ByteView(wire.data(), keys::kRekeyHeaderBytes), plaintext,
                          keys::kRekeyTag, sealed);
  wire.insert(wire.end(), sealed.begin(), sealed.end());

  // The codec on its own: a body that decodes must re-encode to the same bytes.
  auto header = keys::parse_header(wire);
  KMCHAIN_FUZZ_ASSERT(header.ok());
  auto body = keys::open_body(*header, wire, *kek);
  if (body) {
    KMCHAIN_FUZZ_ASSERT(keys::kind_of(*body) == kind);
    KMCHAIN_FUZZ_ASSERT(keys::seal_message(*header, *body, *kek) == wire);
  } else {
    KMCHAIN_FUZZ_ASSERT(body.error() == keys::RekeyError::kMalformed);
  }

  keys::Keyring ring = start;
  auto applied = ring.apply(wire);
  if (!applied) {
    KMCHAIN_FUZZ_ASSERT(fuzz::snapshot(ring) == before);
    return 0;
  }
  KMCHAIN_FUZZ_ASSERT(body.ok());
  // Bundles and pairwise node keys are sealed under the device's node key (docs/key-scheme.md):
  // under the set key, which every member holds, any member could forge them for the others.
  KMCHAIN_FUZZ_ASSERT(!to_set || (kind != keys::MessageKind::kKeyBundle &&
                                  kind != keys::MessageKind::kPairwiseNodeKey));
  KMCHAIN_FUZZ_ASSERT(ring.placed());
  KMCHAIN_FUZZ_ASSERT(ring.position() >= start.position());
  KMCHAIN_FUZZ_ASSERT(fuzz::well_formed(ring));
  return 0;
}
