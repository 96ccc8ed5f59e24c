#include "enroll/credential.h"

#include <openssl/crypto.h>

#include <optional>

#include "base/check.h"

namespace kmchain::enroll {

namespace {

using Code = CredentialFileErrorCode;

Err<CredentialFileError> error(Code code, std::string_view field = {}) {
  return Err{CredentialFileError{code, std::string(field)}};
}

// The value of a hex digit (either case) in the low nibble; `invalid` gains a bit when `c` is
// not one. No branch and no table lookup depends on `c`: the psk's digits are secret (the
// technique of libsodium's sodium_hex2bin).
std::uint8_t hex_digit(std::uint8_t c, unsigned& invalid) {
  const unsigned num = c ^ 48u;                                      // '0'..'9' -> 0..9
  const unsigned num_mask = (num - 10u) >> 8;                        // 0xffffff if num < 10, else 0
  const unsigned alpha = (c & ~32u) - 55u;                           // 'A'..'F', 'a'..'f' -> 10..15
  const unsigned alpha_mask = ((alpha - 10u) ^ (alpha - 16u)) >> 8;  // 0xffffff if 10..15, else 0
  invalid |= ~(num_mask | alpha_mask) & 1u;
  return static_cast<std::uint8_t>(((num_mask & num) | (alpha_mask & alpha)) & 0x0fu);
}

// Decodes exactly 2 * out.size() hex digits into `out`.
Status<Code> decode_hex(std::string_view hex, MutableByteView out) {
  if (hex.size() != 2 * out.size()) return Err{Code::kWrongLength};
  unsigned invalid = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t hi = hex_digit(static_cast<std::uint8_t>(hex[2 * i]), invalid);
    const std::uint8_t lo = hex_digit(static_cast<std::uint8_t>(hex[2 * i + 1]), invalid);
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  if (invalid != 0) {
    OPENSSL_cleanse(out.data(), out.size());
    return Err{Code::kBadHex};
  }
  return {};
}

// Appends the hex of `bytes` to `out`, whose capacity the caller reserved.
void append_hex(std::string& out, ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
}

// Reads the JSON subset of the credential file in place: whitespace, punctuation and strings
// without escapes. Strings are views into the caller's text, never copies.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skip_whitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_whitespace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool next_is(char c) {
    skip_whitespace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool at_end() {
    skip_whitespace();
    return pos_ == text_.size();
  }

  // A string starting at the next token. kEscape for a backslash, kSyntax for a missing quote,
  // an unterminated string or a control character (JSON allows none unescaped).
  Result<std::string_view, Code> string() {
    if (!consume('"')) return Err{Code::kSyntax};
    const std::size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') return text_.substr(start, pos_++ - start);
      if (c == '\\') return Err{Code::kEscape};
      if (static_cast<unsigned char>(c) < 0x20) return Err{Code::kSyntax};
      ++pos_;
    }
    return Err{Code::kSyntax};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

struct Members {
  std::optional<std::string_view> format;
  std::optional<std::string_view> id;
  std::optional<std::string_view> psk;

  std::optional<std::string_view>* slot(std::string_view name) {
    if (name == "format") return &format;
    if (name == "id") return &id;
    if (name == "psk") return &psk;
    return nullptr;
  }
};

Result<Members, CredentialFileError> scan_members(std::string_view text) {
  Scanner s(text);
  Members members;
  if (!s.consume('{')) return error(Code::kSyntax);
  if (s.consume('}')) return members;
  for (;;) {
    auto name = s.string();
    if (!name) return error(name.error());
    std::optional<std::string_view>* slot = members.slot(*name);
    if (slot == nullptr) return error(Code::kUnknownField, *name);
    if (slot->has_value()) return error(Code::kDuplicateField, *name);
    if (!s.consume(':')) return error(Code::kSyntax, *name);
    if (!s.next_is('"')) return error(Code::kNotAString, *name);
    auto value = s.string();
    if (!value) return error(value.error(), *name);
    *slot = *value;
    if (s.consume(',')) continue;
    if (s.consume('}')) break;
    return error(Code::kSyntax, *name);
  }
  if (!s.at_end()) return error(Code::kSyntax);
  return members;
}

}  // namespace

DeviceCredential DeviceCredential::generate(crypto::Rng& rng) {
  DeviceCredential c;
  rng.fill(c.id);
  rng.fill(c.psk.mutable_view());
  return c;
}

SecretText::~SecretText() {
  if (!text_.empty()) OPENSSL_cleanse(text_.data(), text_.size());
}

const char* to_string(CredentialFileErrorCode code) {
  switch (code) {
    case Code::kSyntax:
      return "not a JSON object of string members";
    case Code::kUnknownField:
      return "unknown field";
    case Code::kMissingField:
      return "missing";
    case Code::kDuplicateField:
      return "given twice";
    case Code::kNotAString:
      return "expected a string";
    case Code::kEscape:
      return "escape sequences are not allowed";
    case Code::kWrongFormat:
      return "expected \"kmchain-credential/1\"";
    case Code::kWrongLength:
      return "wrong number of hex digits";
    case Code::kBadHex:
      return "not a hex digit";
    case Code::kAllZero:
      return "all zero: not a key";
  }
  return "unknown credential file error";
}

std::string to_string(const CredentialFileError& e) {
  std::string message = to_string(e.code);
  if (e.code == Code::kWrongLength)
    message += e.field == "id" ? " (expected 32)" : " (expected 64)";
  return e.field.empty() ? message : e.field + ": " + message;
}

SecretText render_credential_file(const DeviceCredential& credential) {
  static constexpr std::string_view kOpen = "{\n  \"format\": \"";
  static constexpr std::string_view kId = "\",\n  \"id\": \"";
  static constexpr std::string_view kPsk = "\",\n  \"psk\": \"";
  static constexpr std::string_view kClose = "\"\n}\n";
  const std::size_t size = kOpen.size() + kCredentialFileFormat.size() + kId.size() +
                           2 * credential.id.size() + kPsk.size() + 2 * credential.psk.kSize +
                           kClose.size();
  // Reserved once, so no reallocation leaves a copy of the psk's digits behind.
  std::string text;
  text.reserve(size);
  text.append(kOpen).append(kCredentialFileFormat).append(kId);
  append_hex(text, credential.id);
  text.append(kPsk);
  append_hex(text, credential.psk.view());
  text.append(kClose);
  KMCHAIN_CHECK(text.size() == size);
  return SecretText(std::move(text));
}

Result<DeviceCredential, CredentialFileError> parse_credential_file(std::string_view text) {
  auto scanned = scan_members(text);
  if (!scanned) return Err{scanned.error()};
  const Members& m = *scanned;
  if (!m.format) return error(Code::kMissingField, "format");
  if (!m.id) return error(Code::kMissingField, "id");
  if (!m.psk) return error(Code::kMissingField, "psk");
  if (*m.format != kCredentialFileFormat) return error(Code::kWrongFormat, "format");
  DeviceCredential credential;
  if (auto id = decode_hex(*m.id, credential.id); !id) return error(id.error(), "id");
  if (auto psk = decode_hex(*m.psk, credential.psk.mutable_view()); !psk)
    return error(psk.error(), "psk");
  if (credential.psk == crypto::Secret256{}) return error(Code::kAllZero, "psk");
  return credential;
}

}  // namespace kmchain::enroll
