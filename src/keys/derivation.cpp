#include "keys/derivation.h"

#include <string_view>

#include "codec/byte_writer.h"
#include "crypto/kdf.h"

namespace kmchain::keys {

void KeyId::encode(Bytes& out) const {
  codec::ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(key_class));
  w.u32(a);
  w.u32(b);
}

namespace {
Bytes label(std::string_view name) {
  Bytes out(name.begin(), name.end());
  return out;
}
}  // namespace

Key128 refresh(const Key128& current, const Key128& refresh_key, const KeyId& id,
               Position position) {
  Bytes info = label("kmchain/v1/refresh");
  id.encode(info);
  codec::ByteWriter(info).u64(position.value());
  return crypto::hkdf_sha256_key128(refresh_key.view(), current.view(), info);
}

Key128 pairwise_node_key(const Secret256& set_seed, SetId set, NodeId x, NodeId y,
                         Position placed_at) {
  Bytes info = label("kmchain/v1/pairwise-node");
  KeyId::pairwise_node_key(x, y).encode(info);
  codec::ByteWriter w(info);
  w.u32(set.value());
  w.u64(placed_at.value());
  return crypto::hkdf_sha256_key128({}, set_seed.view(), info);
}

Key128 step_refresh_key(const Key128& operation_refresh_key, std::uint32_t step_index) {
  Bytes info = label("kmchain/v1/step");
  codec::ByteWriter(info).u32(step_index);
  return crypto::hkdf_sha256_key128({}, operation_refresh_key.view(), info);
}

}  // namespace kmchain::keys
