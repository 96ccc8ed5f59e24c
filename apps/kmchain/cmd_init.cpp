// kmchain init: creates a consortium on this machine - identities, certificates, genesis and
// configs (daemon/consortium_init.h).
#include <memory>

#include "daemon/consortium_init.h"
#include "kmchain/commands.h"

namespace kmchain::app {

void add_init_command(CLI::App& app, int& exit_code) {
  auto* init =
      app.add_subcommand("init", "Create a consortium: identities, certificates, genesis, configs");
  auto o = std::make_shared<daemon::InitOptions>();
  init->add_option("--gateways", o->gateways, "Gateways (validators)")->check(CLI::Range(1, 256));
  init->add_option("--dir", o->dir, "Directory to create (must not exist or be empty)")->required();
  init->add_option("--name", o->name, "Consortium name (part of the chain id)");
  init->add_option("--host", o->host, "Host every gateway listens on");
  init->add_option("--base-port", o->base_port,
                   "Gateway i listens on base+3i (links), +1 (devices), +2 (admin)")
      ->check(CLI::Range(1, 65535));
  init->add_option("--certificate-days", o->certificate_days, "Certificate validity")
      ->check(CLI::Range(1, 36500));
  init->add_option("--submission-mode", o->submission_mode,
                   "commit: keys once the join is final; sync: once it passed the contract check")
      ->check(CLI::IsMember({"commit", "sync"}));
  init->add_option("--timeout-commit-ms", o->timeout_commit_ms,
                   "Pause after a decision before the next height starts")
      ->check(CLI::Range(1, 60000));
  init->callback([o, &exit_code] { exit_code = daemon::run_init(*o); });
}

}  // namespace kmchain::app
