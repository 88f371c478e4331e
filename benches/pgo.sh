#!/usr/bin/env bash
# An optional profile-guided build of rollsim for large sweeps (README, performance): build an
# instrumented binary, run it on representative scenarios, merge the profile, rebuild with it,
# then check that the new binary's outputs are byte-identical to the plain release build's
# (profile-guided optimisation moves code and branches, never arithmetic, so they must be).
#
#   rustup component add llvm-tools   # once: provides llvm-profdata for this toolchain
#   benches/pgo.sh                    # ≈ 6 minutes; the binary is target/pgo/release/rollsim
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  echo "error: llvm-profdata not found for this toolchain ($profdata);" >&2
  echo "       install it with: rustup component add llvm-tools" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1/4 instrumented build (target/pgo-gen)"
RUSTFLAGS="-Cprofile-generate=$work/raw" cargo build --release --quiet --target-dir target/pgo-gen

echo "2/4 training runs"
gen=target/pgo-gen/release/rollsim
"$gen" run scenarios/bench-1m.toml --devices 200000 --out "$work/out" --force --quiet
for s in quality-update-office-fleet feature-rate-waves feature-date-driven \
  safety-driver-issue-diverse autopatch-rings expedite-vs-regular; do
  "$gen" run "scenarios/$s.toml" --out "$work/out" --force --quiet
done

echo "3/4 optimised build (target/pgo)"
"$profdata" merge -o "$work/merged.profdata" "$work/raw"
RUSTFLAGS="-Cprofile-use=$work/merged.profdata" cargo build --release --quiet --target-dir target/pgo

echo "4/4 same outputs as the plain release build"
cargo build --release --quiet
for s in bench-1m quality-update-office-fleet safety-driver-issue-diverse; do
  args=(run "scenarios/$s.toml" --force --quiet)
  [ "$s" = bench-1m ] && args+=(--devices 50000)
  target/release/rollsim "${args[@]}" --out "$work/plain"
  target/pgo/release/rollsim "${args[@]}" --out "$work/pgo"
  for f in "$work"/plain/*.csv "$work"/plain/*.json; do
    if ! cmp -s "$f" "$work/pgo/$(basename "$f")"; then
      echo "error: $s: $(basename "$f") differs between the plain and the PGO build" >&2
      exit 1
    fi
  done
done
echo "done: target/pgo/release/rollsim"
