// Inputs shared by the enrollment tests, the same as in known_values.py: counting bytes for
// every id and key, RFC 7748's Alice and Bob as the device's and the gateway's ephemeral keys.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/dh.h"
#include "crypto/secret.h"
#include "enroll/credential.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"
#include "test_util.h"

namespace kmchain::enroll::fixture {

template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t first) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

inline SecretCode code() {
  return SecretCode(counting<32>(0x00));
}
inline DeviceCredential credential() {
  return DeviceCredential{counting<16>(0x10), crypto::Secret256(counting<32>(0x20))};
}
inline DeviceNonce nonce() {
  return counting<16>(0x30);
}
inline ContextId context() {
  return counting<32>(0x40);
}
inline constexpr std::uint16_t kReplyPort = 5683;
inline constexpr GatewayId kGateway{3};
inline constexpr NodeId kNode{0x03000007};

// RFC 7748 section 6.1.
inline crypto::X25519KeyPair alice() {
  return crypto::X25519KeyPair::from_private(crypto::Secret256(testutil::unhex_array<32>(
      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")));
}
inline crypto::X25519KeyPair bob() {
  return crypto::X25519KeyPair::from_private(crypto::Secret256(testutil::unhex_array<32>(
      "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")));
}

}  // namespace kmchain::enroll::fixture
