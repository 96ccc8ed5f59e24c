// The credential file (enroll/credential.h): render and parse round-trip for random credentials,
// the rendered layout is the documented one, member order, whitespace and hex case are free, and
// every malformed file is refused with the error code and the member it names. The hex decoder,
// which runs without branching on the digits, is checked against every byte value.
#include "enroll/credential.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "enroll_fixture.h"

namespace kmchain::enroll {
namespace {

using Code = CredentialFileErrorCode;

constexpr std::string_view kId = "101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kPsk =
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

std::string file(std::string_view format, std::string_view id, std::string_view psk) {
  return "{\"format\": \"" + std::string(format) + "\", \"id\": \"" + std::string(id) +
         "\", \"psk\": \"" + std::string(psk) + "\"}";
}

std::string good_file() {
  return file(kCredentialFileFormat, kId, kPsk);
}

TEST(CredentialFile, RenderedLayoutIsTheDocumentedOne) {
  const SecretText text = render_credential_file(fixture::credential());
  EXPECT_EQ(text.view(), "{\n  \"format\": \"kmchain-credential/1\",\n  \"id\": \"" +
                             std::string(kId) + "\",\n  \"psk\": \"" + std::string(kPsk) +
                             "\"\n}\n");
}

TEST(CredentialFile, RandomCredentialsRoundTrip) {
  crypto::DeterministicRng rng(7);
  for (int i = 0; i < 64; ++i) {
    const DeviceCredential c = DeviceCredential::generate(rng);
    const SecretText text = render_credential_file(c);
    auto parsed = parse_credential_file(text.view());
    ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
    EXPECT_TRUE(*parsed == c);
  }
}

TEST(CredentialFile, GeneratedCredentialsDiffer) {
  crypto::DeterministicRng rng(8);
  const DeviceCredential a = DeviceCredential::generate(rng);
  const DeviceCredential b = DeviceCredential::generate(rng);
  EXPECT_NE(a.id, b.id);
  EXPECT_FALSE(a.psk == b.psk);
}

TEST(CredentialFile, MemberOrderWhitespaceAndHexCaseAreFree) {
  std::string upper_psk(kPsk);
  for (char& c : upper_psk)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string text = " \r\n\t{ \"psk\" :\"" + upper_psk + "\" ,\n\"id\":\"" +
                           std::string(kId) + "\",\"format\":\"kmchain-credential/1\"}\n\n";
  auto parsed = parse_credential_file(text);
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_TRUE(*parsed == fixture::credential());
}

struct Malformed {
  std::string_view name;
  std::string text;
  Code code;
  std::string_view field;
};

std::vector<Malformed> malformed_files() {
  const std::string format(kCredentialFileFormat);
  const std::string id(kId);
  const std::string psk(kPsk);
  return {
      {"Empty", "", Code::kSyntax, ""},
      {"NotAnObject", "[\"format\"]", Code::kSyntax, ""},
      {"EmptyObject", "{}", Code::kMissingField, "format"},
      {"MissingFormat", "{\"id\": \"" + id + "\", \"psk\": \"" + psk + "\"}", Code::kMissingField,
       "format"},
      {"MissingId", "{\"format\": \"" + format + "\", \"psk\": \"" + psk + "\"}",
       Code::kMissingField, "id"},
      {"MissingPsk", "{\"format\": \"" + format + "\", \"id\": \"" + id + "\"}",
       Code::kMissingField, "psk"},
      {"UnknownField", "{\"format\": \"" + format + "\", \"colour\": \"red\"}", Code::kUnknownField,
       "colour"},
      {"DuplicateId", "{\"id\": \"" + id + "\", \"id\": \"" + id + "\"}", Code::kDuplicateField,
       "id"},
      {"IdNotAString", "{\"format\": \"" + format + "\", \"id\": 12}", Code::kNotAString, "id"},
      {"PskNotAString", "{\"psk\": [\"" + psk + "\"]}", Code::kNotAString, "psk"},
      {"EscapeInPsk", file(format, id, "\\u0030" + psk.substr(1)), Code::kEscape, "psk"},
      {"EscapeInName", "{\"ps\\u006b\": \"" + psk + "\"}", Code::kEscape, ""},
      {"OtherFormat", file("kmchain-credential/2", id, psk), Code::kWrongFormat, "format"},
      {"IdTooShort", file(format, id.substr(2), psk), Code::kWrongLength, "id"},
      {"IdTooLong", file(format, id + "00", psk), Code::kWrongLength, "id"},
      {"IdOddDigits", file(format, id.substr(1), psk), Code::kWrongLength, "id"},
      {"PskTooShort", file(format, id, psk.substr(2)), Code::kWrongLength, "psk"},
      {"PskEmpty", file(format, id, ""), Code::kWrongLength, "psk"},
      {"IdBadHex", file(format, std::string("g").append(id, 1), psk), Code::kBadHex, "id"},
      {"PskBadHex", file(format, id, psk.substr(0, 63) + "z"), Code::kBadHex, "psk"},
      {"PskNonAscii", file(format, id, psk.substr(0, 62) + "\xc3\xa9"), Code::kBadHex, "psk"},
      {"PskAllZero", file(format, id, std::string(64, '0')), Code::kAllZero, "psk"},
      {"MissingColon", "{\"format\" \"" + format + "\"}", Code::kSyntax, "format"},
      {"MissingComma", "{\"format\": \"" + format + "\" \"id\": \"" + id + "\"}", Code::kSyntax,
       "format"},
      {"TrailingComma", "{\"format\": \"" + format + "\",}", Code::kSyntax, ""},
      {"Unterminated", "{\"format\": \"" + format, Code::kSyntax, "format"},
      {"ControlCharacter", file(format, id, psk.substr(0, 63) + "\n"), Code::kSyntax, "psk"},
      {"TrailingText", good_file() + " x", Code::kSyntax, ""},
      {"TwoObjects", good_file() + good_file(), Code::kSyntax, ""},
  };
}

TEST(CredentialFile, EachMalformedFileIsRefusedNamingItsField) {
  for (const Malformed& m : malformed_files()) {
    auto parsed = parse_credential_file(m.text);
    ASSERT_FALSE(parsed.ok()) << m.name;
    EXPECT_EQ(parsed.error().code, m.code) << m.name << ": " << to_string(parsed.error());
    EXPECT_EQ(parsed.error().field, m.field) << m.name << ": " << to_string(parsed.error());
  }
}

TEST(CredentialFile, ErrorsReadAsMessages) {
  EXPECT_EQ(to_string(CredentialFileError{Code::kWrongLength, "psk"}),
            "psk: wrong number of hex digits (expected 64)");
  EXPECT_EQ(to_string(CredentialFileError{Code::kWrongLength, "id"}),
            "id: wrong number of hex digits (expected 32)");
  EXPECT_EQ(to_string(CredentialFileError{Code::kUnknownField, "colour"}), "colour: unknown field");
  EXPECT_EQ(to_string(CredentialFileError{Code::kSyntax, ""}),
            "not a JSON object of string members");
  for (std::uint8_t c = 1; c <= 10; ++c) {
    EXPECT_STRNE(to_string(static_cast<Code>(c)), "unknown credential file error") << int{c};
  }
}

// Every byte value in the first digit of the psk: the sixteen digits of either case decode to
// their value, everything else is refused (as bad hex, or earlier by the JSON scanner for the
// quote, the backslash and control characters).
TEST(CredentialFile, HexDecoderAgreesWithTheDigitsForEveryByte) {
  const std::string psk_tail(std::string(kPsk).substr(1));
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    auto parsed =
        parse_credential_file(file(kCredentialFileFormat, kId, std::string(1, ch) + psk_tail));
    const bool digit =
        (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (digit) {
      ASSERT_TRUE(parsed.ok()) << c;
      Bytes expected;
      ASSERT_TRUE(from_hex(std::string(1, ch) + "0", expected));
      EXPECT_EQ(parsed->psk.view()[0] & 0xf0, expected[0]) << c;
      continue;
    }
    ASSERT_FALSE(parsed.ok()) << c;
    EXPECT_EQ(parsed.error().field, "psk") << c;
    if (ch == '"') {
      EXPECT_EQ(parsed.error().code, Code::kSyntax) << c;
    } else if (ch == '\\') {
      EXPECT_EQ(parsed.error().code, Code::kEscape) << c;
    } else if (c < 0x20) {
      EXPECT_EQ(parsed.error().code, Code::kSyntax) << c;
    } else {
      EXPECT_EQ(parsed.error().code, Code::kBadHex) << c;
    }
  }
}

TEST(CredentialFile, SecretTextMovesItsContent) {
  SecretText a = render_credential_file(fixture::credential());
  const std::string copy(a.view());
  SecretText b(std::move(a));
  EXPECT_EQ(b.view(), copy);
  EXPECT_TRUE(a.view().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
}

}  // namespace
}  // namespace kmchain::enroll
