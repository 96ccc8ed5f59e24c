// What a gateway does with the operator's requests (daemon/admin_request.h parses them,
// daemon/admin_server.h carries them): each is answered {"ok": true, ...} or
// {"ok": false, "error": ...}.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "daemon/admin_request.h"
#include "daemon/admin_server.h"
#include "gateway/gateway_node.h"
#include "io/coap_node.h"
#include "io/gateway_files.h"
#include "io/peer_mesh.h"
#include "io/sqlite_block_store.h"

namespace kmchain::daemon {

// What a gateway's status shows, besides its node.
struct GatewayView {
  const gateway::GatewayNode& node;
  const io::SqliteBlockStore& store;
  const io::PeerMesh& mesh;
  const io::CoapNode& coap;
  const io::GatewayFiles& files;
  const AdminServerStats& admin;
  std::uint64_t started_ms;
};

// Answers one request; admit and evict change the node, whose actions go to `out` (to be
// executed before the answer is sent).
nlohmann::json handle_admin(const AdminRequest& request, const GatewayView& view,
                            gateway::GatewayNode& node, std::uint64_t now_ms,
                            std::vector<gateway::Action>& out);

}  // namespace kmchain::daemon
