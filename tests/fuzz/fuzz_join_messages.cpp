// The enrollment decoders on arbitrary bytes: the join hello and accept, the device request and
// the credential file. The first input byte picks the decoder (0 hello, 1 accept, 2 request,
// 3 credential file; modulo 4), the rest is its input. None crashes; a refusal is the one the
// structure explains (length and version before anything else); whatever parses encodes back to
// the same bytes; the device accepts only the genuine accept of its own hello, and a verified
// request carries the fixture's node.
//
// The fixture is the one of tests/enroll (known_values.py): credential id 0x10.., PSK 0x20..,
// nonce 0x30.., context 0x40.., RFC 7748's Alice as the device's ephemeral key and Bob as the
// gateway's, gateway 3, node 0x03000007. The seeds under corpus/fuzz_join_messages are that
// script's hello, accept and requests (leave, catch-up, status) and a credential file, each
// behind its selector byte, so they authenticate and the fuzzer starts past every MAC.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/dh.h"
#include "enroll/credential.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"

#ifndef KMCHAIN_FUZZ_ASSERT
// Aborts the process so libFuzzer records the input as a crash.
#define KMCHAIN_FUZZ_ASSERT(cond) \
  do {                            \
    if (!(cond)) {                \
      __builtin_trap();           \
    }                             \
  } while (false)
#endif

using namespace kmchain;
using namespace kmchain::enroll;

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t first) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

// RFC 7748 section 6.1 private keys.
constexpr std::array<std::uint8_t, 32> kAlice = {
    0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
    0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
constexpr std::array<std::uint8_t, 32> kBob = {
    0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
    0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb};
constexpr GatewayId kGateway{3};
constexpr NodeId kNode{0x03000007};
constexpr std::uint16_t kReplyPort = 5683;

struct Fixture {
  DeviceCredential credential{counting<16>(0x10), crypto::Secret256(counting<32>(0x20))};
  ContextId context = counting<32>(0x40);
  Commitment commitment = commitment_of(SecretCode(counting<32>(0x00)));
  crypto::X25519KeyPair device_key = crypto::X25519KeyPair::from_private(crypto::Secret256(kAlice));
  crypto::X25519KeyPair gateway_key = crypto::X25519KeyPair::from_private(crypto::Secret256(kBob));
  Bytes accept;
  crypto::Key128 node_key;
  crypto::Secret256 request_key;

  Fixture() {
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
    return JoinInitiator(credential, commitment, kReplyPort, context, device_key,
                         counting<kDeviceNonceBytes>(0x30));
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void hello(ByteView wire) {
  const Fixture& f = fixture();
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
  KMCHAIN_FUZZ_ASSERT(again.size() == wire.size() &&
                      std::equal(again.begin(), again.end(), wire.begin()));
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
  const Fixture& f = fixture();
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
  KMCHAIN_FUZZ_ASSERT(again.size() == wire.size() &&
                      std::equal(again.begin(), again.end(), wire.begin()));
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
  const Fixture& f = fixture();
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
  KMCHAIN_FUZZ_ASSERT(again.size() == wire.size() &&
                      std::equal(again.begin(), again.end(), wire.begin()));
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
