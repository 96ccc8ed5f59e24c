#include "enroll/key_schedule.h"

#include "codec/byte_writer.h"
#include "crypto/kdf.h"

namespace kmchain::enroll {

namespace {

// label || context || tail: the HKDF info of every derivation here.
Bytes info(std::string_view label, const ContextId& context, ByteView tail = {}) {
  Bytes out;
  out.reserve(label.size() + context.size() + tail.size());
  codec::ByteWriter w(out);
  w.raw(as_bytes(label));
  w.raw(context);
  w.raw(tail);
  return out;
}

}  // namespace

crypto::Secret256 hello_key(const crypto::Secret256& psk, const ContextId& context) {
  return crypto::hkdf_sha256_secret<32>({}, psk.view(), info(label::kJoinHello, context));
}

crypto::Secret256 refusal_key(const crypto::Secret256& psk, const ContextId& context) {
  return crypto::hkdf_sha256_secret<32>({}, psk.view(), info(label::kJoinRefusal, context));
}

crypto::Secret256 accept_key(const crypto::Secret256& psk, const crypto::Secret256& shared,
                             const ContextId& context, const crypto::Digest256& hello_hash) {
  return crypto::hkdf_sha256_secret<32>(psk.view(), shared.view(),
                                        info(label::kJoinAccept, context, hello_hash));
}

crypto::Key128 node_key(const crypto::Secret256& psk, const crypto::Secret256& shared,
                        const ContextId& context, const crypto::Digest256& transcript) {
  return crypto::hkdf_sha256_key128(psk.view(), shared.view(),
                                    info(label::kJoinNodeKey, context, transcript));
}

crypto::Secret256 request_key(const crypto::Key128& node_key, const ContextId& context,
                              NodeId node) {
  Bytes node_bytes;
  codec::ByteWriter(node_bytes).u32(node.value());
  return crypto::hkdf_sha256_secret<32>({}, node_key.view(),
                                        info(label::kRequest, context, node_bytes));
}

crypto::Secret256 reply_key(const crypto::Key128& node_key, const ContextId& context, NodeId node) {
  Bytes node_bytes;
  codec::ByteWriter(node_bytes).u32(node.value());
  return crypto::hkdf_sha256_secret<32>({}, node_key.view(),
                                        info(label::kReply, context, node_bytes));
}

}  // namespace kmchain::enroll
