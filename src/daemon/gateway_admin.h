// The operator's requests to a gateway (daemon/admin_server.h carries them): each is checked
// field by field, type and range, and answered {"ok": true, ...} or {"ok": false, "error": ...}
// naming the field that is wrong; none can crash the gateway.
//
//   {"op":"status"}                                  height, hashes, members, peers, figures
//   {"op":"members"}                                 every set with its owner and members
//   {"op":"chain","from":H,"count":C}                blocks from H (default 1), at most C
//                                                    (default 100, at most kChainBlocksMax)
//   {"op":"evict","node":N}                          submits the eviction of member N
//   {"op":"admit","credential_id":HEX,"psk":HEX}     admits a device credential
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "gateway/gateway_node.h"
#include "io/coap_node.h"
#include "io/gateway_files.h"
#include "io/peer_mesh.h"
#include "io/sqlite_block_store.h"

namespace kmchain::daemon {

// Blocks one chain request may return.
inline constexpr std::uint64_t kChainBlocksMax = 1000;

// What a gateway's status shows, besides its node.
struct GatewayView {
  const gateway::GatewayNode& node;
  const io::SqliteBlockStore& store;
  const io::PeerMesh& mesh;
  const io::CoapNode& coap;
  const io::GatewayFiles& files;
  std::uint64_t started_ms;
};

// Answers one request; admit and evict change the node, whose actions go to `out` (to be
// executed before the answer is sent).
nlohmann::json handle_admin(const nlohmann::json& request, const GatewayView& view,
                            gateway::GatewayNode& node, std::uint64_t now_ms,
                            std::vector<gateway::Action>& out);

}  // namespace kmchain::daemon
