#!/usr/bin/env bash
# Runs every test: the full suite in the normal build (unit, guest,
# differential, end-to-end) and the unit tests and fuzzers again under
# ASan/UBSan. Prints each build's meson summary, then one closing line:
#   N passed, M failed, K skipped
set -uo pipefail
build=${1:-build}
asan=${2:-build-asan}

total_ok=0 total_fail=0 total_skip=0
run_suite() {
  local dir=$1; shift
  local log
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log"
  local ok fail skip timeout
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
  skip=$(awk '/^Skipped:/ {print $2}' "$log" | tail -1)
  timeout=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
  local upass
  upass=$(awk '/^Unexpected Pass:/ {print $3}' "$log" | tail -1)
  if [ -z "$ok" ]; then
    # meson failed before running anything: count it as one failure
    echo "check: meson test in $dir did not run" >&2
    fail=1 ok=0 skip=0 timeout=0 upass=0
  fi
  total_ok=$((total_ok + ok))
  total_fail=$((total_fail + fail + ${timeout:-0} + ${upass:-0}))
  total_skip=$((total_skip + ${skip:-0}))
  rm -f "$log"
}

run_suite "$build" --num-processes 2
run_suite "$asan" --suite unit --suite fuzz --num-processes 2

echo "$total_ok passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
