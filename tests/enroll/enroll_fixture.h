// Inputs shared by the enrollment tests and fuzz_join_messages, the same as in known_values.py:
// counting bytes for every id and key, RFC 7748's Alice and Bob as the device's and the
// gateway's ephemeral keys. No gtest here: the fuzz target uses it too.
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/dh.h"
#include "crypto/secret.h"
#include "enroll/credential.h"
#include "enroll/join.h"
#include "enroll/key_schedule.h"
#include "enroll/secret_code.h"
#include "support/counting.h"

namespace kmchain::enroll::fixture {

using kmchain::testing::counting;

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

// RFC 7748 section 6.1's private keys.
inline constexpr std::array<std::uint8_t, 32> kAlicePrivate = {
    0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
    0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
inline constexpr std::array<std::uint8_t, 32> kBobPrivate = {
    0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
    0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb};
inline crypto::X25519KeyPair alice() {
  return crypto::X25519KeyPair::from_private(crypto::Secret256(kAlicePrivate));
}
inline crypto::X25519KeyPair bob() {
  return crypto::X25519KeyPair::from_private(crypto::Secret256(kBobPrivate));
}

}  // namespace kmchain::enroll::fixture
