// The enrollment decoders on arbitrary bytes: the join hello and accept, the device request, the
// credential file and the four re-attachment messages. The first input byte picks the decoder
// (0 hello, 1 accept, 2 request, 3 credential file, 4 attach hello, 5 attach challenge, 6 attach
// proof, 7 attach done; modulo 8), the rest is its input. None crashes; a refusal is the one the
// structure explains (length and version before anything else); whatever parses encodes back to
// the same bytes; the device accepts only the genuine accept of its own hello (and the genuine
// challenge and done of its own attachment), the gateway only the genuine proof, and a verified
// request carries the fixture's node.
//
// The fixture is the one of tests/enroll (enroll_fixture.h, known_values.py): credential id
// 0x10.., PSK 0x20.., nonce 0x30.., context 0x40.., RFC 7748's Alice as the device's ephemeral key
// and Bob as the gateway's, gateway 3, node 0x03000007. The seeds under corpus/fuzz_join_messages
// are that script's hello, accept and requests (leave, catch-up, status) and a credential file,
// each behind its selector byte, so they authenticate and the fuzzer starts past every MAC; the
// attach-* seeds are the script's attachment of that node to gateway 3 (identity seed 0x60..,
// challenge 0x50.., placed at 42).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/dh.h"
#include "enroll/attach.h"
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

  // The attachment of the fixture's node to gateway 3.
  crypto::Ed25519KeyPair identity =
      crypto::Ed25519KeyPair::from_seed(crypto::Secret256(kmchain::testing::counting<32>(0x60)));
  AttachInitiator attacher() const {
    return AttachInitiator(fixture::code(), kNode, kGateway, identity.public_key(),
                           fixture::kReplyPort, context, device_key, fixture::nonce());
  }
  AttachResponder attach_responder(const AttachHello& hello) const {
    return AttachResponder(hello, commitment, Position{42}, kGateway, identity, context,
                           gateway_key, kmchain::testing::counting<32>(0x50));
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

// The refusal of a parser is the one the structure explains.
void expect_structural(AttachError e, ByteView wire, std::size_t size) {
  switch (e) {
    case AttachError::kWrongLength:
      KMCHAIN_FUZZ_ASSERT(wire.size() != size);
      break;
    case AttachError::kBadVersion:
      KMCHAIN_FUZZ_ASSERT(!wire.empty() && wire[0] != kAttachVersion);
      break;
    case AttachError::kMalformed:
      KMCHAIN_FUZZ_ASSERT(wire.size() == size && wire[0] == kAttachVersion);
      break;
    default:
      KMCHAIN_FUZZ_ASSERT(false);
  }
}

void attach_hello(ByteView wire) {
  const Known& f = known();
  auto parsed = parse_attach_hello(wire);
  if (!parsed) return expect_structural(parsed.error(), wire, kAttachHelloBytes);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(encode(*parsed), wire));
  const AttachResponder gateway = f.attach_responder(*parsed);
  if (!gateway.status()) {
    KMCHAIN_FUZZ_ASSERT(gateway.status().error() == AttachError::kWeakKey);
    return;
  }
  KMCHAIN_FUZZ_ASSERT(parse_attach_challenge(gateway.challenge()).ok());
}

void attach_challenge(ByteView wire) {
  const Known& f = known();
  auto parsed = parse_attach_challenge(wire);
  AttachInitiator device = f.attacher();
  auto proof = device.on_challenge(wire);
  if (!parsed) {
    expect_structural(parsed.error(), wire, kAttachChallengeBytes);
    KMCHAIN_FUZZ_ASSERT(!proof.ok() && proof.error() == parsed.error());
    return;
  }
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(encode(*parsed), wire));
  if (!proof) {
    KMCHAIN_FUZZ_ASSERT(proof.error() == AttachError::kAuthFailed ||
                        proof.error() == AttachError::kWeakKey);
    return;
  }
  // Only gateway 3's key signs a challenge for this hello: the genuine one.
  const AttachResponder gateway = f.attach_responder(*parse_attach_hello(device.hello()));
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(gateway.challenge(), wire));
  KMCHAIN_FUZZ_ASSERT(gateway.on_proof(*proof).ok());
}

void attach_proof(ByteView wire) {
  const Known& f = known();
  AttachInitiator device = f.attacher();
  const AttachResponder gateway = f.attach_responder(*parse_attach_hello(device.hello()));
  auto parsed = parse_attach_proof(wire);
  auto verified = gateway.on_proof(wire);
  if (!parsed) {
    expect_structural(parsed.error(), wire, kAttachProofBytes);
    KMCHAIN_FUZZ_ASSERT(!verified.ok() && verified.error() == parsed.error());
    return;
  }
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(encode(*parsed), wire));
  if (!verified) {
    KMCHAIN_FUZZ_ASSERT(verified.error() == AttachError::kAuthFailed);
    return;
  }
  // Only the device's code signs the proof and the consent: the genuine ones.
  auto genuine = device.on_challenge(gateway.challenge());
  KMCHAIN_FUZZ_ASSERT(genuine.ok() && fuzz::same_bytes(*genuine, wire));
}

void attach_done(ByteView wire) {
  const Known& f = known();
  AttachInitiator device = f.attacher();
  const AttachResponder gateway = f.attach_responder(*parse_attach_hello(device.hello()));
  auto proof = device.on_challenge(gateway.challenge());
  KMCHAIN_FUZZ_ASSERT(proof.ok());
  auto parsed = parse_attach_done(wire);
  auto attached = device.on_done(wire);
  if (!parsed) {
    expect_structural(parsed.error(), wire, kAttachDoneBytes);
    KMCHAIN_FUZZ_ASSERT(!attached.ok() && attached.error() == parsed.error());
    KMCHAIN_FUZZ_ASSERT(!device.finished());
    return;
  }
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(encode(*parsed), wire));
  if (!attached) {
    KMCHAIN_FUZZ_ASSERT(attached.error() == AttachError::kAuthFailed && !device.finished());
    return;
  }
  auto verified = gateway.on_proof(*proof);
  KMCHAIN_FUZZ_ASSERT(verified.ok() && fuzz::same_bytes(verified->done, wire));
  KMCHAIN_FUZZ_ASSERT(attached->node_key == verified->node_key && device.finished());
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
  switch (data[0] % 8) {
    case 0:
      hello(input);
      break;
    case 1:
      accept(input);
      break;
    case 2:
      request(input);
      break;
    case 3:
      credential_file(input);
      break;
    case 4:
      attach_hello(input);
      break;
    case 5:
      attach_challenge(input);
      break;
    case 6:
      attach_proof(input);
      break;
    default:
      attach_done(input);
      break;
  }
  return 0;
}
