#!/usr/bin/env bash
# End-to-end figures of a consortium on loopback: 4 gateway processes and N devices run by
# `kmchain loadgen` (one process, one CoAP endpoint per device). Prints the loadgen's join
# figures, then each gateway's resident memory (VmRSS, and its peak VmHWM) and what it holds.
#   scripts/bench-net.sh [devices=1000] [commit|sync] [build dir=build]
set -euo pipefail
devices=${1:-1000}
mode=${2:-commit}
build=${3:-build}
kmchain="$(cd "$(dirname "$0")/.." && pwd)/$build/kmchain"
dir=$(mktemp -d /tmp/kmchain-bench-XXXXXX)
# Below the kernel's ephemeral range (32768 up); devices take base+50 .. base+50+N.
base=$((20000 + (RANDOM % 20) * 100))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$kmchain" init --gateways 4 --dir "$dir/c" --base-port "$base" --submission-mode "$mode" \
  --timeout-commit-ms 200 >/dev/null
for g in 0 1 2 3; do
  "$kmchain" gateway --config "$dir/c/gateway-$g/gateway.toml" 2>"$dir/gw$g.log" &
  pids+=($!)
done
sleep 1
admins=()
for g in 0 1 2 3; do admins+=(--admin "127.0.0.1:$((base + 3 * g + 2))"); done
echo "loadgen: $("$kmchain" loadgen --genesis "$dir/c/genesis.json" --key "$dir/c/operator.key" "${admins[@]}" \
  --devices "$devices" --base-port $((base + 50)))"
for g in 0 1 2 3; do
  pid=${pids[$g]}
  rss=$(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")
  homed=$("$kmchain" ctl --gateway "127.0.0.1:$((base + 3 * g + 2))" --consortium "$dir/c" --json status |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["devices"]["homed"], d["members"], d["sets"], d["height"], d["devices"]["join_ms"]["t_k"], d["devices"]["join_ms"]["t_e"], d["devices"]["join_ms"]["t_a"])')
  echo "gateway $g: VmRSS $rss (peak $hwm); homed, members, sets, height, T_k, T_e, T_a: $homed"
done
