// Writes the seed corpora of the fuzz targets: real sealed messages of the fuzz network
// (fuzz_fixture.h), for its richest device. Built only with KMCHAIN_FUZZ; run once by hand and
// its output committed:   build-fuzz/tests/fuzz/make_corpus tests/fuzz/corpus
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "corpus_writer.h"
#include "crypto/aead.h"
#include "fuzz_fixture.h"
#include "keys/rekey_message.h"

using namespace kmchain;
namespace fs = std::filesystem;
using fuzz::write_file;

namespace {

// A fuzz_rekey_body input: selector bytes (fuzz_fixture.h), then the opened body.
Bytes body_input(const keys::Header& h, std::uint8_t flags, ByteView wire,
                 const crypto::Key128& kek) {
  Bytes in{static_cast<std::uint8_t>(static_cast<std::uint8_t>(h.kind) - 1), flags,
           h.kind == keys::MessageKind::kPairwiseNodeKey ? fuzz::kAt : fuzz::kNext, 0};
  Bytes plaintext;
  const bool opened =
      crypto::aes128_ccm_open(kek, h.nonce, wire.first(keys::kRekeyHeaderBytes),
                              wire.subspan(keys::kRekeyHeaderBytes), keys::kRekeyTag, plaintext);
  KMCHAIN_FUZZ_ASSERT(opened);
  in.insert(in.end(), plaintext.begin(), plaintext.end());
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  const auto root = fuzz::corpus_root(argc, argv);
  if (!root) return 2;
  const fs::path header_dir = *root / "fuzz_rekey_header";
  const fs::path apply_dir = *root / "fuzz_keyring_apply";
  const fs::path body_dir = *root / "fuzz_rekey_body";

  fuzz::Network net;
  net.build();
  const NodeId me = net.richest();
  keys::Keyring ring = net.device(me);
  // The fuzz targets rebuild the same network: the fixture must be this keyring.
  KMCHAIN_FUZZ_ASSERT(fuzz::snapshot(fuzz::fixture().placed) == fuzz::snapshot(ring));
  std::printf("device %u in set %08x at position %llu, %zu keys\n", me.value(), ring.set()->value(),
              static_cast<unsigned long long>(ring.position().value()), ring.key_count());

  // Membership changes around `me`: joins through both gateways, then leaves of the devices
  // that joined first (but never `me`), until every message kind has reached it twice.
  std::map<std::pair<int, int>, int> seen;  // (kind, audience) -> messages written
  std::size_t written = 0;
  Bytes pairwise_body;  // the first pairwise node key's fuzz_rekey_body input
  auto collect = [&](const std::vector<keys::Envelope>& messages) {
    for (const auto& e : messages) {
      if (std::find(e.recipients.begin(), e.recipients.end(), me) == e.recipients.end()) continue;
      const bool to_set = e.header.audience == keys::Audience::kSet;
      const crypto::Key128& kek = to_set ? *ring.set_key() : ring.node_key();
      int& count = seen[{static_cast<int>(e.header.kind), static_cast<int>(e.header.audience)}];
      if (count < 2) {
        ++count;
        const std::string name = std::string(keys::to_string(e.header.kind)) +
                                 (to_set ? "-to-set-" : "-to-device-") + "p" +
                                 std::to_string(e.header.position.value());
        write_file(apply_dir, name, e.wire);
        write_file(body_dir, name,
                   body_input(e.header, to_set ? fuzz::kFlagSetAudience : 0, e.wire, kek));
        if (count == 1) write_file(header_dir, name, e.wire);
        if (e.header.kind == keys::MessageKind::kPairwiseNodeKey && pairwise_body.empty()) {
          pairwise_body = body_input(e.header, 0, e.wire, kek);
        }
        std::printf("  %s (%zu bytes)\n", name.c_str(), e.wire.size());
        ++written;
      }
      auto applied = ring.apply(e.wire);
      KMCHAIN_FUZZ_ASSERT(applied.ok());
    }
  };
  for (int round = 0; round < 6; ++round) {
    collect(net.join(GatewayId{0}));
    collect(net.join(GatewayId{1}));
  }
  for (int round = 0; round < 12; ++round) {
    NodeId victim{0};
    for (const auto& [node, r] : net.devices()) {
      if (node != me) {
        victim = node;
        break;
      }
    }
    collect(net.remove(victim));
  }
  KMCHAIN_FUZZ_ASSERT(fuzz::snapshot(net.device(me)) == fuzz::snapshot(ring));

  // A bundle of everything `me` holds now: ahead of the fixture's position, so the placed
  // fixture accepts it, and it places the unplaced one.
  auto bundle = net.manager().bundle_for(me);
  KMCHAIN_FUZZ_ASSERT(bundle.ok());
  write_file(apply_dir, "key-bundle-catch-up", bundle->wire);
  write_file(header_dir, "key-bundle-catch-up", bundle->wire);
  write_file(body_dir, "key-bundle-catch-up",
             body_input(bundle->header, 0, bundle->wire, ring.node_key()));
  write_file(body_dir, "key-bundle-unplaced",
             body_input(bundle->header, fuzz::kFlagUnplaced, bundle->wire, ring.node_key()));
  // Regression: a bundle or a pairwise node key under the set key (any member could forge it)
  // was once accepted; the keyring must refuse both.
  write_file(body_dir, "regression-key-bundle-to-set",
             body_input(bundle->header, fuzz::kFlagSetAudience, bundle->wire, ring.node_key()));
  KMCHAIN_FUZZ_ASSERT(!pairwise_body.empty());
  pairwise_body[1] = fuzz::kFlagSetAudience;
  write_file(body_dir, "regression-pairwise-node-key-to-set", pairwise_body);
  // Header edge cases: one byte short of header + tag, and an unknown version.
  Bytes wire = bundle->wire;
  write_file(header_dir, "truncated-43", ByteView(wire.data(), 43));
  wire[0] = 2;
  write_file(header_dir, "bad-version", ByteView(wire.data(), 44));
  std::printf("%zu messages for device %u, plus the bundle; kinds reached:", written, me.value());
  for (const auto& [key, count] : seen) {
    std::printf(" %s/%s", keys::to_string(static_cast<keys::MessageKind>(key.first)),
                key.second == 1 ? "device" : "set");
  }
  std::printf("\n");
  return 0;
}
