#!/usr/bin/env bash
# Compares two builds of rollsim by running them side by side, one on each core, on bench-1m:
# both runs see the same neighbours and the same slow spells of the shared machine, so the
# difference within a pair is the difference between the builds. Run one after the other, the
# same binary reads anywhere from 21 to 31 s at ten million devices within an hour (README,
# performance); side by side, two copies of one binary read within 1.3 % of each other in a
# calm hour, 0.83-1.12 in a busy one: run several pairs, an A/A run alongside, and swap A and B.
#
#   cp target/release/rollsim /tmp/rollsim.before   # then change the code and rebuild
#   benches/pair.sh /tmp/rollsim.before target/release/rollsim            # 1 M devices, 5 pairs
#   DEVICES=10000000 ROUNDS=3 benches/pair.sh /tmp/rollsim.before target/release/rollsim
#
# Prints the simulate phase of each run, then how many pairs B won and the median ratio B/A.
# Needs two free cores; build nothing while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: benches/pair.sh BINARY_A BINARY_B   (env: DEVICES, ROUNDS)" >&2
  exit 2
fi
a=$1
b=$2
devices=${DEVICES:-1000000}
rounds=${ROUNDS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
simulate() { sed -nE 's/.*simulate ([0-9.]+) s.*/\1/p' "$1"; }
ratios=()
for i in $(seq "$rounds"); do
  "$a" run scenarios/bench-1m.toml --devices "$devices" --out "$out/a" --force --quiet --stats \
    >"$out/a.txt" 2>&1 &
  "$b" run scenarios/bench-1m.toml --devices "$devices" --out "$out/b" --force --quiet --stats \
    >"$out/b.txt" 2>&1 &
  wait
  sa=$(simulate "$out/a.txt")
  sb=$(simulate "$out/b.txt")
  ratio=$(awk -v a="$sa" -v b="$sb" 'BEGIN { printf "%.3f", b / a }')
  ratios+=("$ratio")
  echo "pair $i: A $sa s   B $sb s   B/A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '
  { r[NR] = $1; if ($1 < 1) won++ }
  END {
    m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "B faster in %d of %d pairs; median B/A %.3f\n", won, NR, m
  }'
