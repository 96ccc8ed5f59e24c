// Keyring::apply on arbitrary bytes, against a copy of a keyring placed in a set of a real
// network (fuzz_fixture.h). Never crashes; a rejected message leaves the keyring exactly as it
// was (position, key count, every key); an accepted one leaves it well-formed.
#include <cstddef>
#include <cstdint>

#include "fuzz_fixture.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Fixture& f = fuzz::fixture();
  static const Bytes before = fuzz::snapshot(f.placed);

  keys::Keyring ring = f.placed;
  auto applied = ring.apply(ByteView(data, size));
  if (!applied) {
    KMCHAIN_FUZZ_ASSERT(fuzz::snapshot(ring) == before);
    return 0;
  }
  KMCHAIN_FUZZ_ASSERT(ring.placed());
  KMCHAIN_FUZZ_ASSERT(ring.position() >= f.placed.position());
  KMCHAIN_FUZZ_ASSERT(fuzz::well_formed(ring));
  return 0;
}
