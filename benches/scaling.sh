#!/usr/bin/env bash
# The README's performance table: bench-1m at several fleet sizes and horizons, each run
# $REPEAT times (default 3), the fastest kept (the machine is shared, so slower runs measure
# the neighbours). Prints one markdown row per configuration.
#
#   cargo build --release && benches/scaling.sh            # the whole table (≈ 10 minutes)
#   benches/scaling.sh 1000000:P30D 100000:P90D            # chosen rows (devices:horizon)
#   BIN=target/pgo/release/rollsim benches/scaling.sh      # another build (benches/pgo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/rollsim}
repeat=${REPEAT:-3}
rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
  rows=(10000:P30D 100000:P30D 1000000:P30D 10000000:P30D 1000000:P90D 1000000:P180D)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| devices | horizon | events | wall time | simulate | kernel | peak memory | events/s |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  devices=${row%%:*}
  horizon=${row##*:}
  best=""
  for _ in $(seq "$repeat"); do
    start=$(date +%s.%N)
    stats=$("$bin" run scenarios/bench-1m.toml --devices "$devices" --set "simulation.horizon=$horizon" \
      --out "$out/run" --force --quiet --stats 2>&1 | grep '^stats:')
    wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    if [ -z "$best" ] || awk -v w="$wall" -v b="${best%% *}" 'BEGIN { exit !(w < b) }'; then
      best="$wall $stats"
    fi
  done
  wall=${best%% *}
  events=$(echo "$best" | sed -E 's/.* ([0-9]+) events.*/\1/')
  simulate=$(echo "$best" | sed -E 's/.*simulate ([0-9.]+) s.*/\1/')
  memory=$(echo "$best" | sed -E 's/.*peak memory ([0-9.]+ MB).*/\1/')
  # CPU time in the kernel (mostly first touches of fresh memory; Linux only).
  kernel=$(echo "$best" | sed -nE 's/.*, ([0-9.]+) s kernel.*/\1 s/p')
  rate=$(awk -v e="$events" -v s="$simulate" 'BEGIN { printf "%.2f", e / s / 1e6 }')
  printf '| %s | %s | %s | %.2f s | %.2f s | %s | %s | %s M |\n' \
    "$devices" "$horizon" "$events" "$wall" "$simulate" "${kernel:-?}" "$memory" "$rate"
done
