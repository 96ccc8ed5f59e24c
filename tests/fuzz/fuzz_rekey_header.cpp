// parse_header on arbitrary bytes: never crashes, and accepts only what the wire format allows
// (at least a header plus a tag, version 1, known kind and audience), with every field read from
// its documented offset.
#include <cstddef>
#include <cstdint>

#include "fuzz_fixture.h"
#include "keys/rekey_message.h"

using namespace kmchain;

namespace {

std::uint64_t be(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView wire(data, size);
  auto parsed = keys::parse_header(wire);
  if (!parsed) {
    if (size < keys::kRekeyHeaderBytes + crypto::tag_bytes(keys::kRekeyTag)) {
      KMCHAIN_FUZZ_ASSERT(parsed.error() == keys::RekeyError::kTruncated);
    }
    return 0;
  }
  const keys::Header& h = *parsed;
  KMCHAIN_FUZZ_ASSERT(size >= 44);
  KMCHAIN_FUZZ_ASSERT(data[0] == keys::kRekeyVersion);
  KMCHAIN_FUZZ_ASSERT(static_cast<std::uint8_t>(h.kind) == data[1]);
  KMCHAIN_FUZZ_ASSERT(data[1] >= 1 &&
                      data[1] <= static_cast<std::uint8_t>(keys::MessageKind::kEarlyBundle));
  KMCHAIN_FUZZ_ASSERT(static_cast<std::uint8_t>(h.audience) == data[2]);
  KMCHAIN_FUZZ_ASSERT(data[2] == 1 || data[2] == 2);
  KMCHAIN_FUZZ_ASSERT(h.target == be(data + 3, 4));
  KMCHAIN_FUZZ_ASSERT(h.position.value() == be(data + 7, 8));
  for (std::size_t i = 0; i < h.nonce.size(); ++i) {
    KMCHAIN_FUZZ_ASSERT(h.nonce[i] == data[15 + i]);
  }
  return 0;
}
