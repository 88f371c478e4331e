#!/bin/sh
# Opens report.html in headless Chromium and fails on any browser console message (the report
# has no JavaScript, so any console output means something is wrong: a script error, a blocked
# resource, or injected markup running). Installs nothing.
#
#   tests/chromium_report.sh                 # runs the shipped scenario plus a hostile-name copy
#   tests/chromium_report.sh path/to/report.html ...   # checks the given reports
#
# Needs chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install chromium);
# without one it prints SKIP and exits 0. Screenshots are written next to each report as
# report-screenshot.png (or to $SCREENSHOT_DIR) so you can check that the charts show.
# ROLLSIM overrides the binary (default: target/release/rollsim, built if missing).
set -eu

cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [ -z "$browser" ]; then
    echo "SKIP: chromium not found (apt-get install chromium)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$#" -eq 0 ]; then
    rollsim=${ROLLSIM:-target/release/rollsim}
    if [ ! -x "$rollsim" ]; then
        cargo build --release --quiet
    fi
    "$rollsim" run scenarios/quality-update-office-fleet.toml --out "$work/shipped" --quiet
    # A deployment whose name would log to the console if it were ever parsed as markup.
    sed 's/^name = "jan-security"/name = "<img src=x onerror=console.error(\x27XSS\x27)>"/' \
        scenarios/quality-update-office-fleet.toml >"$work/hostile.toml"
    grep -q 'XSS' "$work/hostile.toml"
    "$rollsim" run "$work/hostile.toml" --out "$work/hostile" --quiet
    set -- "$work/shipped/report.html" "$work/hostile/report.html"
    : "${SCREENSHOT_DIR:=target/chromium-report}"
fi

status=0
for report in "$@"; do
    abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
    if [ -n "${SCREENSHOT_DIR:-}" ]; then
        mkdir -p "$SCREENSHOT_DIR"
        shot="$SCREENSHOT_DIR/$(basename "$(dirname "$abs")")-screenshot.png"
    else
        shot="$(dirname "$abs")/report-screenshot.png"
    fi
    log="$work/log.txt"
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --enable-logging=stderr --v=0 --window-size=1300,2400 \
        --screenshot="$shot" "file://$abs" >"$log" 2>&1 || {
        echo "FAIL: $browser could not open $report"
        cat "$log"
        status=1
        continue
    }
    if grep -E ':CONSOLE|Uncaught|net::ERR_' "$log"; then
        echo "FAIL: console errors in $report"
        status=1
    elif [ ! -s "$shot" ]; then
        echo "FAIL: no screenshot for $report"
        status=1
    else
        echo "ok: $report (screenshot $shot)"
    fi
done
exit $status
