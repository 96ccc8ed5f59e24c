// The operator endpoint's request parser on arbitrary lines: it never crashes or throws, an
// error always says what is wrong, and what it accepts is in range (a node id that fits 32 bits
// and is not 0, a chain request of 1..kChainBlocksMax blocks).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "daemon/admin_request.h"
#include "fuzz_assert.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto request = daemon::parse_admin_request(line);
  if (!request) {
    KMCHAIN_FUZZ_ASSERT(!request.error().empty());
    return 0;
  }
  if (const auto* chain = std::get_if<daemon::ChainRequest>(&*request)) {
    KMCHAIN_FUZZ_ASSERT(chain->from >= 1 && chain->from <= daemon::kChainFromMax);
    KMCHAIN_FUZZ_ASSERT(chain->count >= 1 && chain->count <= daemon::kChainBlocksMax);
  }
  if (const auto* evict = std::get_if<daemon::EvictRequest>(&*request))
    KMCHAIN_FUZZ_ASSERT(evict->node.value() != 0);
  KMCHAIN_FUZZ_ASSERT(daemon::op_name(*request) != nullptr);
  return 0;
}
