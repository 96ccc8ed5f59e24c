#!/usr/bin/env bash
# Bans what must never appear in the deterministic cores: clocks, global randomness,
# exceptions, and non-constant-time comparison of memory (secrets compare through
# CRYPTO_memcmp in crypto/secret.h); and holds the layering: cores never include the shell
# (io, daemon), the simulators or the configuration files; configuration knows no engine; io
# knows no protocol flows; apps/ reach io only through the daemon. Prints offending lines and exits non-zero if any.
set -euo pipefail
cd "$(dirname "$0")/.."

cores=(src/base src/codec src/keys src/ledger src/enroll src/channel src/gateway src/device)
# The deterministic cores and the consensus engine: no shell, no simulator, no config files.
layered=("${cores[@]}" src/crypto src/consensus)
status=0

check() {
  local what=$1 pattern=$2
  shift 2
  local hits
  # Whole-line comments are prose, not code.
  hits=$(grep -rnE "$pattern" "$@" --include='*.h' --include='*.cpp' |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
  if [[ -n "$hits" ]]; then
    echo "lint: $what:"
    echo "$hits"
    status=1
  fi
}

check "clock read in a deterministic core" \
  'std::chrono::(system|steady|high_resolution)_clock|\btime\(|gettimeofday|clock_gettime' "${cores[@]}"
check "global or unseeded randomness in a deterministic core" \
  '\brand\(|\bsrand\(|std::random_device|RAND_bytes|RAND_priv_bytes' "${cores[@]}"
check "exception thrown in a deterministic core" '\bthrow\b' "${cores[@]}"
check "memcmp (use crypto::ct_equal or Secret's operator==)" '\bmemcmp\(' src
check "a core includes the shell, a simulator or a config parser" \
  '#include "(io|daemon|sim|config)/' "${layered[@]}"
check "configuration includes the consensus engine" '#include "consensus/' src/config
check "io includes the gateway or device flows" '#include "(gateway|device|daemon|sim)/' src/io
check "the simulator includes the shell" '#include "(io|daemon)/' src/sim
check "apps/ reaches io without the daemon" '#include "io/' apps

if [[ $status -eq 0 ]]; then
  echo "lint: clean"
fi
exit $status
