#include "daemon/admin_request.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "base/bytes.h"

namespace kmchain::daemon {

namespace {

using nlohmann::json;

std::string in_quotes(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  out.append(name);
  out.push_back('"');
  return out;
}

// Every key of `request` is "op" or one of `allowed`.
std::optional<std::string> unknown_field(const json& request,
                                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : request.items()) {
    if (key == "op") continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string shown = key.size() > 64 ? key.substr(0, 64) + "..." : key;
      return "unknown field " + in_quotes(shown);
    }
  }
  return std::nullopt;
}

// An unsigned field in [min, max], or `fallback` when absent and one is given.
Result<std::uint64_t, std::string> unsigned_field(const json& request, std::string_view name,
                                                  std::optional<std::uint64_t> fallback,
                                                  std::uint64_t min, std::uint64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  const auto it = request.find(name);
  if (it == request.end()) {
    if (fallback) return *fallback;
    return Err{in_quotes(name) + " is required: an unsigned integer in " + range};
  }
  // A negative number is is_number_integer but not unsigned; a float or a string is neither.
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() < min ||
      it->get<std::uint64_t>() > max) {
    return Err{in_quotes(name) + " must be an unsigned integer in " + range};
  }
  return it->get<std::uint64_t>();
}

// A string of exactly 2 * `bytes` hex digits, decoded into `out`.
Status<std::string> hex_field(const json& request, std::string_view name, std::size_t bytes,
                              Bytes& out) {
  const auto it = request.find(name);
  if (it == request.end() || !it->is_string() ||
      it->get_ref<const std::string&>().size() != 2 * bytes ||
      !from_hex(it->get_ref<const std::string&>(), out) || out.size() != bytes) {
    OPENSSL_cleanse(out.data(), out.size());
    out.clear();
    return Err{in_quotes(name) + " must be a string of " + std::to_string(2 * bytes) +
               " hex digits"};
  }
  return {};
}

Result<AdminRequest, std::string> parse_admit(const json& request) {
  if (auto unknown = unknown_field(request, {"credential_id", "psk"})) return Err{*unknown};
  Bytes id;
  if (auto st = hex_field(request, "credential_id", enroll::kCredentialIdBytes, id); !st)
    return Err{st.error()};
  Bytes psk;
  if (auto st = hex_field(request, "psk", crypto::Secret256::kSize, psk); !st)
    return Err{st.error()};
  AdmitRequest admit;
  std::copy(id.begin(), id.end(), admit.credential.id.begin());
  admit.credential.psk = crypto::Secret256::from_view(psk);
  OPENSSL_cleanse(psk.data(), psk.size());
  return AdminRequest{std::move(admit)};
}

}  // namespace

Result<AdminRequest, std::string> parse_admin_request(const json& request) {
  if (!request.is_object()) return Err{std::string("a request is a JSON object")};
  const auto op_it = request.find("op");
  if (op_it == request.end() || !op_it->is_string())
    return Err{std::string("\"op\" is required: a string")};
  const std::string& op = op_it->get_ref<const std::string&>();
  if (op == "status" || op == "members") {
    if (auto unknown = unknown_field(request, {})) return Err{*unknown};
    return op == "status" ? AdminRequest{StatusRequest{}} : AdminRequest{MembersRequest{}};
  }
  if (op == "chain") {
    if (auto unknown = unknown_field(request, {"from", "count"})) return Err{*unknown};
    auto from = unsigned_field(request, "from", 1, 1, kChainFromMax);
    if (!from) return Err{from.error()};
    auto count = unsigned_field(request, "count", 100, 1, kChainBlocksMax);
    if (!count) return Err{count.error()};
    return AdminRequest{ChainRequest{*from, *count}};
  }
  if (op == "evict") {
    if (auto unknown = unknown_field(request, {"node"})) return Err{*unknown};
    auto node = unsigned_field(request, "node", std::nullopt, 1, UINT32_MAX);
    if (!node) return Err{node.error()};
    return AdminRequest{EvictRequest{NodeId{static_cast<std::uint32_t>(*node)}}};
  }
  if (op == "admit") return parse_admit(request);
  const std::string shown = op.size() > 64 ? op.substr(0, 64) + "..." : op;
  return Err{"unknown op " + in_quotes(shown) + " (status, members, chain, evict, admit)"};
}

Result<AdminRequest, std::string> parse_admin_request(std::string_view line) {
  // nlohmann's parser keeps its nesting on the heap, and the endpoint bounds the line
  // (kAdminLineBytesMax), so deep nesting costs memory in proportion, never the stack.
  const json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return Err{std::string("the request is not valid JSON")};
  return parse_admin_request(request);
}

const char* op_name(const AdminRequest& request) {
  struct Name {
    const char* operator()(const StatusRequest&) const { return "status"; }
    const char* operator()(const MembersRequest&) const { return "members"; }
    const char* operator()(const ChainRequest&) const { return "chain"; }
    const char* operator()(const EvictRequest&) const { return "evict"; }
    const char* operator()(const AdmitRequest&) const { return "admit"; }
  };
  return std::visit(Name{}, request);
}

}  // namespace kmchain::daemon
