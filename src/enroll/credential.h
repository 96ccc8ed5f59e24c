// Enrollment credentials (docs/protocol.md section 4): the operator admits a device by issuing it a
// credential that the device and its gateways hold. Its id (16 random bytes) travels in the
// clear in the join hello so that the gateway can find the key; its pre-shared key (256 bits)
// authenticates both ends of the join handshake (join.h) and never travels.
//
// Credential file, a strict subset of JSON: one object whose members are strings.
//
//   {
//     "format": "kmchain-credential/1",
//     "id": "<32 hex digits>",
//     "psk": "<64 hex digits>"
//   }
//
// Members may come in any order with any JSON whitespace between tokens; hex digits in either
// case (rendered lowercase). Refused, with an error naming the member: a missing, unknown or
// repeated member, a value that is not a string, a string with an escape or a control character,
// another format, a wrong number of digits, a non-hex digit, an all-zero psk.
//
// The parser is our own rather than nlohmann_json because the file holds a key: nlohmann's lexer
// copies every token into buffers it frees without wiping. This one reads the caller's text in
// place and writes the psk only into a Secret256, decoding its hex without branching on the
// digits. The caller reads the file into memory it wipes (io/gateway_files.cpp does the same
// for the gateway's identity key).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace kmchain::enroll {

inline constexpr std::size_t kCredentialIdBytes = 16;
using CredentialId = std::array<std::uint8_t, kCredentialIdBytes>;

inline constexpr std::string_view kCredentialFileFormat = "kmchain-credential/1";

struct DeviceCredential {
  CredentialId id{};
  crypto::Secret256 psk;

  // A fresh credential: random id and key (the operator's tool, with OsRng).
  static DeviceCredential generate(crypto::Rng& rng);

  friend bool operator==(const DeviceCredential&, const DeviceCredential&) = default;
};

// Text that holds a key (a rendered credential file): wiped when destroyed.
class SecretText {
 public:
  explicit SecretText(std::string text) : text_(std::move(text)) {}
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;
  SecretText(SecretText&& other) noexcept : text_(std::move(other.text_)) { other.text_.clear(); }
  SecretText& operator=(SecretText&&) = delete;
  ~SecretText();
  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

enum class CredentialFileErrorCode : std::uint8_t {
  kSyntax = 1,          // not one JSON object of string members (field: where it broke, if known)
  kUnknownField = 2,    // a member this format does not have (a typo must not pass silently)
  kMissingField = 3,    // a member the format needs
  kDuplicateField = 4,  // the same member twice (which one would count?)
  kNotAString = 5,      // a member whose value is not a string
  kEscape = 6,          // a string with a backslash escape: no value of this format needs one
  kWrongFormat = 7,     // "format" is not kCredentialFileFormat
  kWrongLength = 8,     // "id" not 32 hex digits, "psk" not 64
  kBadHex = 9,          // a character that is not a hex digit
  kAllZero = 10,        // an all-zero psk: a placeholder, not a key
};
const char* to_string(CredentialFileErrorCode code);

struct CredentialFileError {
  CredentialFileErrorCode code{};
  std::string field;  // "format", "id", "psk", an unknown member's name; empty for the whole file
  friend bool operator==(const CredentialFileError&, const CredentialFileError&) = default;
};
// "psk: wrong number of hex digits (expected 64)", "colour: unknown field".
std::string to_string(const CredentialFileError& e);

// The file, pretty-printed with a trailing newline, built in one allocation.
SecretText render_credential_file(const DeviceCredential& credential);
Result<DeviceCredential, CredentialFileError> parse_credential_file(std::string_view text);

}  // namespace kmchain::enroll
