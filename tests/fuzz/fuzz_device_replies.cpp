// What reaches a device from its gateway besides the accept, on arbitrary bytes: a push (a rekey
// batch), a join refusal and a status reply. The first input byte picks the decoder (0 batch,
// 1 refusal, 2 status reply; modulo 3), the rest is its input. None crashes; a batch that parses
// encodes back to the same bytes; a refusal or a status reply opens only under the fixture's
// keys and for its hello or request, and then encodes back to the same bytes.
//
// The fixture is the one of tests/enroll (enroll_fixture.h): its credential, context and hello,
// node 0x03000007 and a node key of counting bytes from 0x50; the status replies answer request
// counter 7. Built with KMCHAIN_MAKE_DEVICE_REPLIES_CORPUS, this file is a main that writes the
// seeds under corpus/fuzz_device_replies: a batch of three messages, each refusal reason, and a
// reply of each status, so that the fuzzer starts past every MAC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "enroll/enroll_fixture.h"
#include "enroll/join_refusal.h"
#include "enroll/status_reply.h"
#include "fuzz_assert.h"
#include "keys/rekey_batch.h"

using namespace kmchain;
using namespace kmchain::enroll;

namespace {

constexpr std::uint64_t kCounter = 7;

struct Known {
  DeviceCredential credential = fixture::credential();
  ContextId context = fixture::context();
  Bytes hello = JoinInitiator(credential, commitment_of(fixture::code()), fixture::kReplyPort,
                              context, fixture::alice(), fixture::nonce())
                    .hello();
  crypto::Secret256 reply =
      reply_key(crypto::Key128(kmchain::testing::counting<16>(0x50)), context, fixture::kNode);
};

const Known& known() {
  static const Known k;
  return k;
}

[[maybe_unused]] void batch(ByteView input) {
  auto messages = keys::decode_batch(input);
  if (!messages) return;
  KMCHAIN_FUZZ_ASSERT(!messages->empty() && messages->size() <= keys::kRekeyBatchCountMax);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(keys::encode_batch(*messages), input));
}

[[maybe_unused]] void refusal(ByteView input) {
  const Known& k = known();
  auto reason = open_refusal(input, k.hello, k.credential.psk, k.context);
  if (!reason) return;
  KMCHAIN_FUZZ_ASSERT(
      fuzz::same_bytes(encode_refusal(*reason, k.hello, k.credential.psk, k.context), input));
}

[[maybe_unused]] void status(ByteView input) {
  const Known& k = known();
  auto reply = open_status_reply(input, fixture::kNode, kCounter, k.reply);
  if (!reply) return;
  KMCHAIN_FUZZ_ASSERT(reply->node == fixture::kNode && reply->counter == kCounter);
  KMCHAIN_FUZZ_ASSERT(reply->reason.size() <= kReplyReasonBytesMax);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(encode_status_reply(*reply, k.reply), input));
}

}  // namespace

#ifndef KMCHAIN_MAKE_DEVICE_REPLIES_CORPUS
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      batch(input);
      break;
    case 1:
      refusal(input);
      break;
    default:
      status(input);
      break;
  }
  return 0;
}
#else
#include "corpus_writer.h"

int main(int argc, char** argv) {
  const auto root = kmchain::fuzz::corpus_root(argc, argv);
  if (!root) return 2;
  const std::filesystem::path dir = *root / "fuzz_device_replies";
  const auto write = [&dir](const std::string& name, const Bytes& seed) {
    kmchain::fuzz::write_seed(dir, name, seed);
  };
  const Known& k = known();
  const auto with = [](std::uint8_t selector, const Bytes& body) {
    Bytes seed{selector};
    seed.insert(seed.end(), body.begin(), body.end());
    return seed;
  };
  write("batch", with(0, keys::encode_batch({Bytes(40, 1), Bytes(3, 2), Bytes(1, 3)})));
  for (RefusalReason r : {RefusalReason::kCommitmentUsed, RefusalReason::kCredentialUsed,
                          RefusalReason::kUnavailable, RefusalReason::kRefused}) {
    write(std::string("refusal-") + std::to_string(static_cast<int>(r)),
          with(1, encode_refusal(r, k.hello, k.credential.psk, k.context)));
  }
  for (JoinStatus s : {JoinStatus::kMember, JoinStatus::kPending, JoinStatus::kFailed}) {
    const StatusReply reply{s, fixture::kNode, kCounter,
                            s == JoinStatus::kFailed ? "commitment already used" : ""};
    write(std::string("status-") + std::to_string(static_cast<int>(s)),
          with(2, encode_status_reply(reply, k.reply)));
  }
  return 0;
}
#endif
