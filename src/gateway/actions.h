// What a gateway node asks of its shell (gateway/gateway_node.h), executed in order. The consensus
// actions come from the replica unchanged (consensus/replica.h); the node adds its own:
//
//   PutCredential  store an admitted credential                             - durable on return
//   PutDevice      store a device record (insert or replace) and, in the same write, mark its
//                  credential used by it (free, for a record of a failed join) - durable on return
//   EraseDevice    delete a device record (and free its credential, when told) - durable on return
//   PutPending     store a transaction this gateway submitted, until final - durable on return
//   ErasePending   forget it: it is final (or refused for good)
//   PushToDevice   send a key message to a device; report the outcome with on_push_result()
//   ScheduleTick   call on_tick() at `at_ms`
//   Note           a line for the log (no effect on the node); the clock's, as warnings
//
// Order is the contract: a Put precedes the gossip of what it protects and the reply that
// acknowledges it, so a crash after any action loses nothing that was acknowledged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/ids.h"
#include "consensus/replica.h"
#include "gateway/device_record.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"

namespace kmchain::gateway {

struct PutCredential {
  CredentialRecord record;
};
struct PutDevice {
  DeviceRecord record;
};
struct EraseDevice {
  NodeId node;
  // A join refused before the device heard of it: its credential is free again, in the same
  // write. Otherwise the credential stays used (it admitted a device that came and went).
  std::optional<enroll::CredentialId> free_credential;
};
struct PutPending {
  ledger::SignedTransaction transaction;  // as submitted: signed, with a leave's consent
};
struct ErasePending {
  NodeId node;
  ledger::Operation op;
};
struct PushToDevice {
  NodeId node;
  Endpoint to;
  Bytes wire;
};
struct ScheduleTick {
  std::uint64_t at_ms;
};
struct Note {
  std::string event;
  std::vector<std::pair<std::string, std::string>> fields;
  bool warning = false;  // something the operator should look at
};

using Action = std::variant<consensus::WriteWal, consensus::StoreBlock, consensus::SendTo,
                            consensus::BroadcastAll, consensus::Schedule, consensus::ServeBlocks,
                            consensus::Committed, PutCredential, PutDevice, EraseDevice, PutPending,
                            ErasePending, PushToDevice, ScheduleTick, Note>;

// A replica's action as the node's: unchanged, but for a clock note, which becomes a warning.
Action from_replica(consensus::Action&& action);

}  // namespace kmchain::gateway
