// The enrollment decoders on arbitrary bytes: the join hello and accept, the device request and
// the credential file. The first input byte picks the decoder (0 hello, 1 accept, 2 request,
// 3 credential file; modulo 4), the rest is its input. None crashes; a refusal is the one the
// structure explains (length and version before anything else); whatever parses encodes back to
// the same bytes; the device accepts only the genuine accept of its own hello, and a verified
// request carries the fixture's node.
//
// The fixture is the one of tests/enroll (enroll_fixture.h, known_values.py): credential id
// 0x10.., PSK 0x20.., nonce 0x30.., context 0x40.., RFC 7748's Alice as the device's ephemeral key
// and Bob as the gateway's, gateway 3, node 0x03000007. The seeds under corpus/fuzz_join_messages
// are that script's hello, accept and requests (leave, catch-up, status) and a credential file,
// each behind its selector byte, so they authenticate and the fuzzer starts past every MAC.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/dh.h"
#include "enroll/credential.h"
#include "enroll/device_request.h"
#include "enroll/enroll_fixture.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"
#include "fuzz_assert.h"

using namespace kmchain;
using namespace kmchain::enroll;
using fixture::kGateway;
using fixture::kNode;

namespace {

// The known values, and the genuine accept of the known hello with what it gives the device.
struct Known {
  DeviceCredential credential = fixture::credential();
  ContextId context = fixture::context();
  Commitment commitment = commitment_of(fixture::code());
  crypto::X25519KeyPair device_key = fixture::alice();
  crypto::X25519KeyPair gateway_key = fixture::bob();
  Bytes accept;
  crypto::Key128 node_key;
  crypto::Secret256 request_key;

  Known() {
    const JoinInitiator device = initiator();
    auto hello = parse_hello(device.hello());
    KMCHAIN_FUZZ_ASSERT(hello.ok());
    auto accepted =
        JoinResponder(context).accept(*hello, credential.psk, kGateway, kNode, gateway_key);
    KMCHAIN_FUZZ_ASSERT(accepted.ok());
    accept = accepted->accept;
    node_key = accepted->node_key;
    request_key = enroll::request_key(node_key, context, kNode);
  }

  JoinInitiator initiator() const {
    return JoinInitiator(credential, commitment, fixture::kReplyPort, context, device_key,
                         fixture::nonce());
  }
};

const Known& known() {
  static const Known k;
  return k;
}

void hello(ByteView wire) {
  const Known& f = known();
  auto parsed = parse_hello(wire);
  if (!parsed) {
    switch (parsed.error()) {
      case JoinError::kWrongLength:
        KMCHAIN_FUZZ_ASSERT(wire.size() != kJoinHelloBytes);
        break;
      case JoinError::kBadVersion:
        KMCHAIN_FUZZ_ASSERT(!wire.empty() && wire[0] != kJoinVersion);
        break;
      case JoinError::kMalformed:
        KMCHAIN_FUZZ_ASSERT(wire.size() == kJoinHelloBytes && wire[97] == 0 && wire[98] == 0);
        break;
      default:
        KMCHAIN_FUZZ_ASSERT(false);
    }
    return;
  }
  KMCHAIN_FUZZ_ASSERT(wire.size() == kJoinHelloBytes && wire[0] == kJoinVersion);
  const Bytes again = encode(*parsed);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(again, wire));
  const JoinResponder gateway(f.context);
  const bool verified = gateway.verify_hello(*parsed, f.credential.psk).ok();
  auto accepted = gateway.accept(*parsed, f.credential.psk, kGateway, kNode, f.gateway_key);
  if (!verified) {
    KMCHAIN_FUZZ_ASSERT(!accepted.ok() && accepted.error() == JoinError::kAuthFailed);
    return;
  }
  KMCHAIN_FUZZ_ASSERT(accepted.ok() || accepted.error() == JoinError::kWeakKey);
}

void accept(ByteView wire) {
  const Known& f = known();
  auto parsed = parse_accept(wire);
  JoinInitiator device = f.initiator();
  auto result = device.on_accept(wire);
  if (!parsed) {
    KMCHAIN_FUZZ_ASSERT(!result.ok() && result.error() == parsed.error());
    KMCHAIN_FUZZ_ASSERT(parsed.error() == JoinError::kWrongLength ||
                        parsed.error() == JoinError::kBadVersion);
    KMCHAIN_FUZZ_ASSERT(!device.finished());
    return;
  }
  const Bytes again = encode(*parsed);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(again, wire));
  if (!result) {
    KMCHAIN_FUZZ_ASSERT(result.error() == JoinError::kAuthFailed ||
                        result.error() == JoinError::kWeakKey);
    KMCHAIN_FUZZ_ASSERT(!device.finished());
    return;
  }
  // Only the gateway that holds the PSK and Bob's key could have made it: the genuine accept.
  KMCHAIN_FUZZ_ASSERT(again == f.accept);
  KMCHAIN_FUZZ_ASSERT(result->node_key == f.node_key && result->node == kNode &&
                      result->gateway == kGateway);
  KMCHAIN_FUZZ_ASSERT(device.finished());
}

void request(ByteView wire) {
  const Known& f = known();
  auto parsed = parse_request(wire);
  if (!parsed) {
    if (wire.empty()) KMCHAIN_FUZZ_ASSERT(parsed.error() == RequestError::kWrongLength);
    if (parsed.error() == RequestError::kBadVersion) KMCHAIN_FUZZ_ASSERT(wire[0] != 1);
    KMCHAIN_FUZZ_ASSERT(parsed.error() != RequestError::kAuthFailed &&
                        parsed.error() != RequestError::kStaleCounter);
    return;
  }
  KMCHAIN_FUZZ_ASSERT(wire.size() == kRequestBytesMin + parsed->body.size());
  KMCHAIN_FUZZ_ASSERT(parsed->body.size() == body_bytes(parsed->kind));
  const Bytes again = encode(*parsed);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(again, wire));
  if (verify_request(*parsed, f.request_key).ok()) {
    KMCHAIN_FUZZ_ASSERT(parsed->node == kNode);
    if (parsed->kind == RequestKind::kCatchUp) (void)catch_up_position(*parsed);
    RequestCounterCheck counters;
    const bool first = counters.admit(parsed->node, parsed->counter).ok();
    KMCHAIN_FUZZ_ASSERT(first == (parsed->counter > 0));
    KMCHAIN_FUZZ_ASSERT(!counters.admit(parsed->node, parsed->counter).ok());
  }
}

void credential_file(ByteView input) {
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  auto parsed = parse_credential_file(text);
  if (!parsed) {
    KMCHAIN_FUZZ_ASSERT(!to_string(parsed.error()).empty());
    return;
  }
  const SecretText rendered = render_credential_file(*parsed);
  auto again = parse_credential_file(rendered.view());
  KMCHAIN_FUZZ_ASSERT(again.ok() && *again == *parsed);
  KMCHAIN_FUZZ_ASSERT(!(parsed->psk == crypto::Secret256{}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      hello(input);
      break;
    case 1:
      accept(input);
      break;
    case 2:
      request(input);
      break;
    default:
      credential_file(input);
      break;
  }
  return 0;
}
