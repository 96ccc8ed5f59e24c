#!/usr/bin/env bash
# Smoke-runs every libFuzzer target of a KMCHAIN_FUZZ build for a bounded time.
#
#   scripts/fuzz-smoke.sh BUILD_DIR          (FUZZ_SECONDS=8 per target by default)
#
# Budget: about 95 s for the ten targets. It was 20 s for each of the first three (Layer 1);
# with the four ledger decoders it was 10 s each, which kept the smoke run within its budget of
# 60-80 s. In 20 s runs from their seeds, fuzz_transaction and fuzz_block found no new edge after
# their first second, fuzz_certificate none after 5 s, fuzz_vote_proposal 7 more (of 1672) at
# 13 s: a smoke test, not a campaign. With the three consensus targets (fuzz_message,
# fuzz_signer_state, fuzz_replica) the budget is 90-110 s, and 10 s each came to 112 s (every
# target also spends about 1.2 s starting and leak-checking), so it is 8 s each now: about 93 s.
# fuzz_replica runs whole replica scripts (a few hundred execs/s against tens of thousands for
# the decoders), so 8 s is some 3000 scripts from its seeds. fuzz_config (the genesis file and
# gateway config parsers) adds about 9 s, and so does fuzz_join_messages (the join hello and
# accept, device requests and the credential file). fuzz_d2d_record (the D2D channel's receiver)
# adds about 9 s more, and fuzz_device_replies (rekey batches, join refusals, status replies)
# as much, as does fuzz_admin_request (the operator endpoint's requests). Longer runs:
# FUZZ_SECONDS=300.
#
# Each target starts from a temporary copy of its committed seeds (tests/fuzz/corpus/<target>),
# so the corpus in the tree is never modified. Prints one line per target with the figures of
# libFuzzer's final stats line, then "N passed, M failed"; exits non-zero if any target failed.
# A crashing input is kept under BUILD_DIR/fuzz-artifacts/ with the target's log.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-8}
targets=(fuzz_rekey_header fuzz_keyring_apply fuzz_rekey_body
  fuzz_transaction fuzz_block fuzz_vote_proposal fuzz_certificate
  fuzz_message fuzz_signer_state fuzz_replica fuzz_config fuzz_join_messages
  fuzz_d2d_record fuzz_device_replies fuzz_admin_request)

# Symbolized stack traces in crash reports: clang-16's runtime does not find llvm-14's
# llvm-symbolizer (the one Debian installs) by itself.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]]; then
  for s in llvm-symbolizer-16 llvm-symbolizer llvm-symbolizer-14; do
    if command -v "$s" >/dev/null; then
      ASAN_SYMBOLIZER_PATH=$(readlink -f "$(command -v "$s")")
      export ASAN_SYMBOLIZER_PATH
      break
    fi
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

passed=0
failed=0
for target in "${targets[@]}"; do
  bin="$build/tests/fuzz/$target"
  if [[ ! -x "$bin" ]]; then
    echo "$target: FAILED (no executable at $bin)"
    failed=$((failed + 1))
    continue
  fi
  corpus="$work/$target"
  mkdir -p "$corpus"
  if [[ -d "$root/tests/fuzz/corpus/$target" ]]; then
    cp -R "$root/tests/fuzz/corpus/$target/." "$corpus/"
  fi
  seeds=$(find "$corpus" -type f | wc -l)
  log="$work/$target.log"
  start=$(date +%s.%N)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" "$corpus" >"$log" 2>&1
  rc=$?
  elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

  # The final stats line: "#1234567	DONE   cov: 345 ft: 789 corp: 40/2Kb ... exec/s: 61728 ..."
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  execs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')
  [[ -z "$execs" ]] && execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | awk '{print $2}')
  rate=$(echo "$last" | grep -oE 'exec/s: [0-9]+' | awk '{print $2}')
  figures=$(printf '%s execs in %s s (%s/s), cov %s, ft %s, corpus %s -> %s' \
    "${execs:-?}" "$elapsed" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$seeds" "${corp:-?}")

  if [[ $rc -eq 0 ]]; then
    echo "$target: ok, $figures"
    passed=$((passed + 1))
  else
    cp "$log" "$artifacts/$target.log"
    echo "$target: FAILED (exit $rc), $figures; log: $artifacts/$target.log"
    grep -E 'ERROR|SUMMARY|Test unit written|invariant broken' "$log" | head -n 5 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
