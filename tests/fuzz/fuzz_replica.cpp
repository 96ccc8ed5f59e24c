// consensus::Replica as a state machine under arbitrary peer traffic. Each input is a script run
// against a fresh replica of gateway 0 in the fixed four-gateway consortium
// (ledger_fuzz_fixture.h), started at kScriptStartMs with no WAL record. The script is a sequence
// of operations, each introduced by one byte t:
//
//   t >= 0xf0   fire the (t & 0x0f)-th earliest (mod their count) of the timeouts the replica
//               has scheduled and not yet seen fired, at max(now, its time); nothing if none.
//               Only timeouts the replica asked for are delivered, as its shell would, but in
//               any order and late.
//   t < 0xf0    a message from GatewayId{t & 3}, after advancing the clock by (t >> 2) * 50 ms;
//               then a big-endian u16 length and that many bytes (fewer if the input ends).
//
// At most kPendingMax timeouts are kept; beyond that the earliest is forgotten.
// make_consensus_corpus writes scripts in this format from a simulated run of four replicas; both
// run them with replica_script.h.
//
// The replica must never crash or trip a KMCHAIN_CHECK, whatever the bytes. Checked on its
// actions: every message it sends decodes, every WAL record decodes, blocks are stored and
// committed one height after the other, nothing is sent or served to itself, and it never signs
// two different proposals or votes for one height, round and step.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "consensus/message.h"
#include "consensus/replica.h"
#include "consensus/signer_state.h"
#include "ledger_fuzz_fixture.h"
#include "replica_script.h"

using namespace kmchain;

namespace {

class Checker {
 public:
  explicit Checker(GatewayId self) : self_(self) {}

  void run(const std::vector<consensus::Action>& out) {
    for (const consensus::Action& action : out) {
      if (const auto* wal = std::get_if<consensus::WriteWal>(&action)) {
        KMCHAIN_FUZZ_ASSERT(consensus::decode_signer_state(wal->record).ok());
      } else if (const auto* store = std::get_if<consensus::StoreBlock>(&action)) {
        KMCHAIN_FUZZ_ASSERT(store->stored.block.header.height.value() == stored_ + 1);
        stored_ = store->stored.block.header.height.value();
      } else if (const auto* send = std::get_if<consensus::SendTo>(&action)) {
        KMCHAIN_FUZZ_ASSERT(send->to != self_);
        sent(send->bytes, false);
      } else if (const auto* all = std::get_if<consensus::BroadcastAll>(&action)) {
        sent(all->bytes, true);
      } else if (const auto* serve = std::get_if<consensus::ServeBlocks>(&action)) {
        KMCHAIN_FUZZ_ASSERT(serve->to != self_);
        KMCHAIN_FUZZ_ASSERT(serve->from.value() >= 1 && serve->from <= serve->to_height);
        KMCHAIN_FUZZ_ASSERT(serve->to_height.value() <= stored_);
      } else if (const auto* committed = std::get_if<consensus::Committed>(&action)) {
        KMCHAIN_FUZZ_ASSERT(committed->height.value() == committed_ + 1);
        KMCHAIN_FUZZ_ASSERT(committed->height.value() == stored_);
        committed_ = committed->height.value();
      }
    }
  }

 private:
  void sent(const Bytes& bytes, bool broadcast) {
    auto decoded = consensus::decode_message(bytes);
    KMCHAIN_FUZZ_ASSERT(decoded.ok());
    if (!broadcast) return;
    // What it signs itself: one proposal per (height, round), one vote per (height, round, type).
    if (const auto* p = std::get_if<ledger::Proposal>(&*decoded)) {
      KMCHAIN_FUZZ_ASSERT(p->proposer == self_);
      const auto key = std::make_tuple(p->height.value(), p->round.value(), std::uint8_t{0});
      const Bytes mine = ledger::encode(*p);
      auto [it, added] = signed_.emplace(key, mine);
      KMCHAIN_FUZZ_ASSERT(added || it->second == mine);
    } else if (const auto* v = std::get_if<ledger::Vote>(&*decoded)) {
      KMCHAIN_FUZZ_ASSERT(v->validator == self_);
      const auto key =
          std::make_tuple(v->height.value(), v->round.value(), static_cast<std::uint8_t>(v->type));
      const Bytes mine = ledger::encode(*v);
      auto [it, added] = signed_.emplace(key, mine);
      KMCHAIN_FUZZ_ASSERT(added || it->second == mine);
    }
  }

  GatewayId self_;
  std::uint64_t stored_ = 0;
  std::uint64_t committed_ = 0;
  std::map<std::tuple<std::uint64_t, std::uint32_t, std::uint8_t>, Bytes> signed_;
};

}  // namespace

// libFuzzer's entropic scheduler keeps every feature "rare" until the most abundant one has been
// seen more than -entropic_feature_frequency_threshold (255) times, and looks each feature of
// each run up in that list: with the ~30000 features of a replica run it spent 80% of the time
// there (110 execs/s from the seeds; 560/s with the threshold at 16, entropic still on). The
// threshold is lowered here unless given on the command line (libFuzzer parses flags after this).
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static constexpr std::string_view kFlag = "-entropic_feature_frequency_threshold=";
  static char lowered[] = "-entropic_feature_frequency_threshold=16";
  static std::vector<char*> args;
  const std::span<char*> given(*argv, static_cast<std::size_t>(*argc));
  for (const char* arg : given)
    if (std::string_view(arg).starts_with(kFlag)) return 0;
  args.assign(given.begin(), given.end());
  args.insert(args.begin() + (args.empty() ? 0 : 1), lowered);
  args.push_back(nullptr);
  *argc += 1;
  *argv = args.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& f = fuzz::ledger_fixture();
  const GatewayId self{0};
  consensus::Replica replica(f.genesis, fuzz::ledger_key(self.value()), self,
                             consensus::ReplicaConfig{});
  Checker checker(self);
  fuzz::run_script(replica, ByteView(data, size),
                   [&](const std::vector<consensus::Action>& out) { checker.run(out); });
  return 0;
}
