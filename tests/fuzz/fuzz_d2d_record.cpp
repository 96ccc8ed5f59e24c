// The D2D channel's receiver (channel/receiver.h) on arbitrary input: a saved replay state, then
// a stream of records opened at advancing times by a device holding a pairwise node key in two
// versions (a rekey's grace period running) and a pairwise set key. Never crashes; a saved state
// decodes only in its canonical form; a refused record leaves the replay state exactly as it was;
// an accepted one carries the fields of its header, is addressed to this device, and is refused
// as a replay when it comes again; the table of senders stays within its bound.
//
// Input, big-endian:
//   u16 n, then n bytes of saved replay state (ReplayState::encode; anything else starts empty)
//   then records, each: u8 advance (the clock moves advance * 100 ms), u16 length, the record
//
// Built a second time with KMCHAIN_MAKE_D2D_CORPUS, this file writes the seed corpus instead
// (run once by hand, output committed):
//   build-fuzz/tests/fuzz/make_d2d_corpus tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "channel/channel_fixture.h"
#include "channel/dek_history.h"
#include "channel/receiver.h"
#include "channel/record.h"
#include "channel/replay_window.h"
#include "channel/sender.h"
#include "codec/byte_reader.h"
#include "corpus_writer.h"
#include "fuzz_assert.h"
#include "keys/key_id.h"
#include "support/memory_counter_store.h"

using namespace kmchain;
using channel::ChannelError;
using channel::fixture::context;
using channel::fixture::counting_key;
using channel::fixture::set_of;

namespace {

constexpr NodeId kSelf{0x01000002};     // the receiver, in set 0x01000000
constexpr NodeId kPeer{0x01000001};     // same set: pairwise node key
constexpr NodeId kFarPeer{0x02000007};  // set 0x02000000: pairwise set key
constexpr std::uint64_t kGraceMs = 10'000;
constexpr std::uint64_t kRekeyAtMs = 1'000;
constexpr std::uint64_t kTickMs = 100;

// The node key's old version (epoch 1), its new version (epoch 2, from kRekeyAtMs on; the old
// one stays a candidate until kRekeyAtMs + kGraceMs) and the set key (epoch 1).
const crypto::Key128 kOldNodeDek = counting_key(0x10);
const crypto::Key128 kNewNodeDek = counting_key(0x20);
const crypto::Key128 kSetDek = counting_key(0x60);

const channel::DekHistory& history() {
  static const channel::DekHistory h = [] {
    channel::DekHistory built(kGraceMs);
    const auto node = keys::KeyId::pairwise_node_key(kSelf, kPeer);
    built.update(node, kOldNodeDek, 1, 0);
    built.update(node, kNewNodeDek, 2, kRekeyAtMs);
    built.update(keys::KeyId::pairwise_set_key(set_of(kSelf), set_of(kFarPeer)), kSetDek, 1, 0);
    return built;
  }();
  return h;
}

struct Summary {
  bool state_restored = false;
  std::size_t opened = 0;
  std::size_t refused = 0;
};

Summary run(ByteView input) {
  Summary summary;
  codec::ByteReader r(input);
  const std::size_t state_bytes = r.u16();
  const ByteView saved = r.view(state_bytes);
  if (!r.ok()) return summary;

  channel::ReplayState state;
  if (auto decoded = channel::ReplayState::decode(saved)) {
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(decoded->encode(), saved));
    state = std::move(*decoded);
    summary.state_restored = true;
  }
  channel::ChannelReceiver receiver(kSelf, context(), std::move(state));
  // Pairwise node keys with members of the own set, pairwise set keys with other sets.
  const channel::KeyLookup keys = channel::fixture::lookup_in(history(), kSelf);

  std::uint64_t now = 0;
  while (r.remaining() > 0) {
    now += kTickMs * r.u8();
    const std::size_t length = r.u16();
    const ByteView record = r.view(length);
    if (!r.ok()) break;

    const Bytes before = receiver.replay_state().encode();
    auto opened = receiver.open(record, keys, now);
    if (!opened) {
      ++summary.refused;
      KMCHAIN_FUZZ_ASSERT(receiver.replay_state().encode() == before);
      if (record.size() < channel::kRecordBytesMin) {
        KMCHAIN_FUZZ_ASSERT(opened.error() == ChannelError::kTruncated);
      }
      if (record.size() > channel::kRecordBytesMax) {
        KMCHAIN_FUZZ_ASSERT(opened.error() == ChannelError::kTooLarge);
      }
      continue;
    }
    ++summary.opened;
    auto header = channel::parse_header(record);
    KMCHAIN_FUZZ_ASSERT(header.ok());
    KMCHAIN_FUZZ_ASSERT(header->receiver == kSelf);
    KMCHAIN_FUZZ_ASSERT(header->sender == opened->sender);
    KMCHAIN_FUZZ_ASSERT(header->key_class == opened->key_class);
    KMCHAIN_FUZZ_ASSERT(header->epoch == opened->epoch);
    KMCHAIN_FUZZ_ASSERT(header->counter == opened->counter);
    KMCHAIN_FUZZ_ASSERT(opened->plaintext.size() == record.size() - channel::kRecordBytesMin);
    KMCHAIN_FUZZ_ASSERT(receiver.replay_state().size() <= channel::kReplaySendersMax);
    KMCHAIN_FUZZ_ASSERT(receiver.replay_state().check(opened->sender, opened->counter) ==
                        channel::Freshness::kReplayed);

    const Bytes after = receiver.replay_state().encode();
    auto again = receiver.open(record, keys, now);
    KMCHAIN_FUZZ_ASSERT(!again.ok() && again.error() == ChannelError::kReplayed);
    KMCHAIN_FUZZ_ASSERT(receiver.replay_state().encode() == after);
  }

  // What the receiver would save decodes back to itself.
  const Bytes saved_now = receiver.replay_state().encode();
  auto back = channel::ReplayState::decode(saved_now);
  KMCHAIN_FUZZ_ASSERT(back.ok() && back->encode() == saved_now);
  return summary;
}

}  // namespace

#ifndef KMCHAIN_MAKE_D2D_CORPUS

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)run(ByteView(data, size));
  return 0;
}

#else

namespace {

// Seals records as one peer, from a given counter on.
class Peer {
 public:
  Peer(NodeId self, std::uint64_t first_counter)
      : store_(first_counter), sender_(self, context(), store_) {}
  Bytes node(const crypto::Key128& key, std::uint64_t epoch, std::size_t plaintext_bytes) {
    return seal(kSelf, keys::KeyClass::kPairwiseNodeKey, epoch, key, plaintext_bytes);
  }
  Bytes set(std::size_t plaintext_bytes) {
    return seal(kSelf, keys::KeyClass::kPairwiseSetKey, 1, kSetDek, plaintext_bytes);
  }

 private:
  Bytes seal(NodeId to, keys::KeyClass key_class, std::uint64_t epoch, const crypto::Key128& key,
             std::size_t plaintext_bytes) {
    auto record = sender_.seal(to, key_class, epoch, key, channel::fixture::text(plaintext_bytes));
    KMCHAIN_FUZZ_ASSERT(record.ok());
    return std::move(*record);
  }

  kmchain::testing::MemoryCounterStore store_;
  channel::ChannelSender sender_;
};

// Builds one input: a saved state, then (advance, record) pairs.
class Input {
 public:
  explicit Input(ByteView saved_state = {}) {
    put_u16(saved_state.size());
    bytes_.insert(bytes_.end(), saved_state.begin(), saved_state.end());
  }
  Input& add(std::uint8_t advance, ByteView record) {
    bytes_.push_back(advance);
    put_u16(record.size());
    bytes_.insert(bytes_.end(), record.begin(), record.end());
    return *this;
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  void put_u16(std::size_t v) {
    KMCHAIN_FUZZ_ASSERT(v <= UINT16_MAX);
    bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
    bytes_.push_back(static_cast<std::uint8_t>(v));
  }
  Bytes bytes_;
};

// Writes the seed after checking it opens and refuses as many records as intended.
void write(const std::filesystem::path& dir, const std::string& name, const Input& input,
           std::size_t opened, std::size_t refused) {
  const Summary s = run(input.bytes());
  if (s.opened != opened || s.refused != refused) {
    std::fprintf(stderr, "%s: opened %zu refused %zu, expected %zu and %zu\n", name.c_str(),
                 s.opened, s.refused, opened, refused);
    KMCHAIN_FUZZ_ASSERT(false);
  }
  fuzz::write_file(dir, name, input.bytes());
  std::printf("  %s (%zu bytes)\n", name.c_str(), input.bytes().size());
}

}  // namespace

int main(int argc, char** argv) {
  const auto root = fuzz::corpus_root(argc, argv);
  if (!root) return 2;
  const std::filesystem::path dir = *root / "fuzz_d2d_record";
  constexpr std::uint8_t kToRekey = kRekeyAtMs / kTickMs;  // now = kRekeyAtMs
  constexpr std::uint8_t kPastGrace = kGraceMs / kTickMs;  // then grace expired

  {
    Peer peer(kPeer, 0);
    write(dir, "node-key-old-version", Input().add(0, peer.node(kOldNodeDek, 1, 12)), 1, 0);
  }
  {
    Peer peer(kPeer, 0);
    write(dir, "node-key-new-version", Input().add(kToRekey, peer.node(kNewNodeDek, 2, 12)), 1, 0);
  }
  {
    Peer peer(kPeer, 0);
    const Bytes old_record = peer.node(kOldNodeDek, 1, 4);
    const Bytes late_record = peer.node(kOldNodeDek, 1, 4);
    write(dir, "grace-then-expired", Input().add(kToRekey, old_record).add(kPastGrace, late_record),
          1, 1);
  }
  {
    Peer far(kFarPeer, 0);
    write(dir, "set-key", Input().add(0, far.set(30)).add(1, far.set(0)), 2, 0);
  }
  {
    Peer peer(kPeer, 0);
    std::vector<Bytes> r;
    for (int i = 0; i < 4; ++i)
      r.push_back(peer.node(kOldNodeDek, 1, 6));
    write(dir, "in-order-then-replay",
          Input().add(0, r[0]).add(0, r[1]).add(0, r[2]).add(0, r[3]).add(0, r[1]), 4, 1);
    write(dir, "reordered-in-window", Input().add(0, r[3]).add(0, r[0]).add(0, r[2]).add(0, r[1]),
          4, 0);
  }
  {
    Peer early(kPeer, 0);
    Peer late(kPeer, 100);
    const Bytes old_record = early.node(kOldNodeDek, 1, 3);
    write(dir, "too-old", Input().add(0, late.node(kOldNodeDek, 1, 3)).add(0, old_record), 1, 1);
  }
  {
    Peer peer(kPeer, 5000);
    Peer far(kFarPeer, 7);
    const Bytes a = peer.node(kOldNodeDek, 1, 8);
    const Bytes b = far.set(8);
    channel::ReplayState saved;
    saved.accept(kPeer, 5000);
    saved.accept(kFarPeer, 2);
    write(dir, "saved-state-then-replay", Input(saved.encode()).add(0, a).add(0, b), 1, 1);
  }
  {
    Peer peer(kPeer, 0);
    const Bytes record = peer.node(kOldNodeDek, 1, 5);
    Bytes bad_version = record;
    bad_version[0] = 2;
    Bytes wrong_receiver = record;
    wrong_receiver[10] = 0x09;
    write(dir, "refusals",
          Input()
              .add(0, ByteView(record).first(channel::kRecordBytesMin - 1))
              .add(0, bad_version)
              .add(0, wrong_receiver)
              .add(0, record),
          1, 3);
  }
  std::printf("seeds written to %s\n", dir.string().c_str());
  return 0;
}

#endif
