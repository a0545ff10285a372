#!/usr/bin/env bash
# Guest instructions per second on a CPU-bound guest: brume's emu engine
# against QEMU's TCG, in one run.
#
# The guest is tests/guests/cpuloop (mixed integer work: fills, sorts,
# hashes, a sieve, divides). Its host twin, cpuwork-host, is the same
# object code run natively, and callgrind counts the instructions of one
# iteration there. Each engine boots the guest with a small and a large
# iteration count; the difference of their CPU times (user+sys) cancels
# start-up and boot, so
#   instructions/s = (ITERS_BIG - ITERS_SMALL) * per-iteration count / (t_big - t_small)
# brume boots the ELF64 build, QEMU (-M pc, TCG) the PVH build of the same
# guest. Both must print the host's checksum, or the figure is refused.
#
#   bench/insn-rate.sh [ITERS_BIG]        (default 20000: ~2e9 instructions)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-20000}
small=20
brume=${BRUME:-./build/brume}
dir=${BRUME_GUEST_DIR:-./build/tests/guests}
host=$dir/cpuwork-host
for f in "$brume" "$host" "$dir/guest-cpuloop.elf" "$dir/guest-cpuloop-pvh.elf"; do
  [ -e "$f" ] || { echo "insn-rate: $f not found; run make first" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "insn-rate: valgrind not found (scripts/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/insn-rate.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

count_insns() { # instructions executed inside cpuwork_run for $1 iterations
  valgrind --tool=callgrind --toggle-collect=cpuwork_run --callgrind-out-file="$tmp/cg.$1" \
    "$host" "$1" > /dev/null 2>&1
  awk '/^summary:/ { print $2 }' "$tmp/cg.$1"
}
per_iter=$(echo "($(count_insns $((small + 10))) - $(count_insns $small)) / 10" | bc)

cpu_seconds() { # runs "$@" (output to $tmp/out); prints its user+sys CPU seconds
  local TIMEFORMAT='%U %S'
  { time "$@" > "$tmp/out" 2>&1 < /dev/null; } 2> "$tmp/time" ||
    { echo "insn-rate: '$*' failed:" >&2; tail -5 "$tmp/out" >&2; return 1; }
  awk '{ print $1 + $2 }' "$tmp/time"
}

checked() { # $1 iterations: the guest's checksum must be the host's
  local want
  want=$("$host" "$1")
  grep -q "cpuloop: iters=$1 checksum=$want" "$tmp/out" ||
    { echo "insn-rate: wrong or no checksum from the guest (want $want):" >&2; tail -5 "$tmp/out" >&2; return 1; }
}

run_brume() {
  cpu_seconds timeout 1800 "$brume" run --accel emu --mem 256M --console stdio \
    --kernel "$dir/guest-cpuloop.elf" --append "console=ttyS0 iters=$1"
  checked "$1"
}
run_qemu() {
  cpu_seconds timeout 1800 qemu-system-x86_64 -M pc -accel tcg -m 256 -nodefaults -display none \
    -no-reboot -serial stdio -kernel "$dir/guest-cpuloop-pvh.elf" -append "console=ttyS0 iters=$1"
  checked "$1"
}

rate() { echo "($big - $small) * $per_iter / ($2 - $1)" | bc -l; }
bs=$(run_brume $small); bb=$(run_brume "$big")
qs=$(run_qemu $small); qb=$(run_qemu "$big")
br=$(rate "$bs" "$bb"); qr=$(rate "$qs" "$qb")
echo "cpuloop: $per_iter instructions per iteration (callgrind, host), iterations $small and $big"
printf 'brume emu: %.2f s and %.2f s CPU, %.1f M guest instructions/s\n' "$bs" "$bb" "$(echo "$br / 1000000" | bc -l)"
printf 'qemu tcg:  %.2f s and %.2f s CPU, %.1f M guest instructions/s\n' "$qs" "$qb" "$(echo "$qr / 1000000" | bc -l)"
printf 'ratio brume/qemu (speed): %.3f\n' "$(echo "$br / $qr" | bc -l)"
echo "host: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
