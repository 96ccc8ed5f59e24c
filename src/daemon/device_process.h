// The shell of one device process (`kmchain device`): it owns the device's CoAP endpoint, its
// clock, its state directory (daemon/device_state.h) and the control channel, and drives the
// device agent (device/agent.h), which decides everything.
//
// It is driven over stdin/stdout, one JSON object per line (the demo and the tests are its
// operators; only the parent holds the pipe):
//
//   in   {"cmd":"send","peer":N,"set":S,"to":"host:port","text":"...","tag":K,
//         "copy_to":["host:port",...]}  (copies for eavesdroppers: the demo's attacker)
//        {"cmd":"burst","peer":N,"set":S,"to":"host:port","count":C}  (throughput)
//        {"cmd":"leave"}   {"cmd":"status"}   {"cmd":"quit"}
//   out  {"event":"accepted","node":N,...}  {"event":"keys","set":S,"position":P,"join_ms":T}
//        {"event":"join_failed","reason":...}  {"event":"d2d","from":N,...}
//        {"event":"sent","tag":K,"ok":true,"ms":T}  {"event":"status",...}
//        {"event":"sniffed","decrypted":false,...}  (with --eavesdrop only)
// Every command is checked field by field; a wrong one gets {"event":"error","error":...}.
// Logs go to stderr (daemon/log.h). SIGTERM stops it.
#pragma once

#include <cstdint>
#include <string>

namespace kmchain::daemon {

struct DeviceOptions {
  std::string gateway;     // the home gateway's device endpoint, host:port
  std::string genesis;     // the consortium's genesis file
  std::string state;       // the state directory
  std::string listen;      // where the device receives, host:port
  std::string credential;  // default: STATE/credential.json
  std::uint64_t grace_ms = 10'000;
  std::uint64_t check_interval_ms = 30'000;
  // The demo's attacker: keep a copy of every key this device holds, and try them on records
  // addressed to other devices (device/eavesdropper.h).
  bool eavesdrop = false;
};

// Runs the device until SIGTERM, "quit" or the end of stdin; the process exit code.
int run_device(const DeviceOptions& options);

}  // namespace kmchain::daemon
