#!/usr/bin/env bash
# Two brume builds side by side on the boot-and-workload guest of
# bench/boot-emu.sh: A and B boot at the same time, pinned one to each of
# the first two cores, then again with the cores swapped. Prints each
# one's user CPU time and B/A for both orders. On a machine whose speed
# drifts (a shared VM), a pair run at the same moment compares two builds
# far better than runs minutes apart; still, a single pair varies by ~5%.
#
#   bench/ab-emu.sh BRUME_A BRUME_B
#   cp build/brume /tmp/brume-a; (change, build); bench/ab-emu.sh /tmp/brume-a build/brume
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: bench/ab-emu.sh BRUME_A BRUME_B" >&2; exit 2; }
for b in "$1" "$2"; do
  [ -x "$b" ] || { echo "ab-emu: $b is not an executable" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "ab-emu: needs 2 cores" >&2; exit 2; }
kernel=$(scripts/guest-kernel.sh)
initrd=$(scripts/mkinitramfs.sh --workload tests/e2e/workload.sh)
tmp=$(mktemp -d /tmp/ab-emu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

boot() { # binary core out: user seconds in out, or fails without "workload: done"
  /usr/bin/time -f "%U" -o "$3.time" taskset -c "$2" "$1" run --accel emu --mem 512M --kernel "$kernel" \
    --initrd "$initrd" --append "console=ttyS0 reboot=k panic=1 quiet" --console stdio </dev/null >"$3.log" 2>&1
  grep -q "workload: done" "$3.log" || { echo "ab-emu: $1 did not finish the workload" >&2; tail -3 "$3.log" >&2; return 1; }
}

for order in 0 1; do
  boot "$1" "$order" "$tmp/a" & pa=$!
  boot "$2" $((1 - order)) "$tmp/b" & pb=$!
  wait "$pa" && wait "$pb"
  a=$(cat "$tmp/a.time") b=$(cat "$tmp/b.time")
  printf 'A on core %d: %s s, B on core %d: %s s, B/A %.3f\n' "$order" "$a" $((1 - order)) "$b" "$(echo "$b / $a" | bc -l)"
done
