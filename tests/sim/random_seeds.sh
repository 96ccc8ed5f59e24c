#!/usr/bin/env bash
# A few consensus seeds never run before: a fresh range on every run, printed first by the
# simulator, so that any failure replays with `kmchain sim consensus --seed S`.
set -euo pipefail
kmchain=$1
count=$2
first=$(( (($(od -An -N4 -tu4 /dev/urandom)) % 1000000000) + 1000000 ))
exec "$kmchain" sim consensus --gateways 4 --byzantine 1 --seeds "$first-$((first + count - 1))" --verbose
