// The configuration parsers on arbitrary text: the genesis file (JSON) and the gateway config
// (TOML). Neither crashes nor throws; an error always says something; what the genesis parser
// accepts renders back to a file it accepts again as the same genesis, and an accepted gateway
// config re-renders to one that parses to the same values. The first input byte picks the
// parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/gateway_config.h"
#include "config/genesis_file.h"
#include "fuzz_assert.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    auto genesis = config::parse_genesis_file(text);
    if (!genesis) {
      KMCHAIN_FUZZ_ASSERT(!genesis.error().message.empty());
      return 0;
    }
    auto again = config::parse_genesis_file(config::render_genesis_file(*genesis));
    KMCHAIN_FUZZ_ASSERT(again.ok() && *again == *genesis);
    return 0;
  }
  auto gateway = config::parse_gateway_config(text);
  if (!gateway) {
    KMCHAIN_FUZZ_ASSERT(!gateway.error().message.empty());
    return 0;
  }
  auto again = config::parse_gateway_config(config::render_gateway_config(*gateway));
  KMCHAIN_FUZZ_ASSERT(again.ok());
  KMCHAIN_FUZZ_ASSERT(again->index == gateway->index && again->genesis == gateway->genesis &&
                      again->data_dir == gateway->data_dir &&
                      again->listen_device == gateway->listen_device &&
                      again->timeouts.commit_ms == gateway->timeouts.commit_ms &&
                      again->submission_mode == gateway->submission_mode &&
                      again->listen_admin == gateway->listen_admin &&
                      again->operator_keys == gateway->operator_keys);
  return 0;
}
