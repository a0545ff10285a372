#!/usr/bin/env bash
# Block layer benchmarks (not a test): on one 1 GiB image, in one run,
#  1. `brume img convert` against `qemu-img convert`, raw -> qcow2 and
#     qcow2 -> raw, both without the final flush (-t unsafe, qemu-img's
#     default; brume then skips its write-back flushes too); brume's own
#     default, which flushes the output to disk, is timed too. Figures are
#     CPU seconds (user + system, best of 3): the machine is shared, so wall
#     time is printed too but is noise;
#  2. random 4 KiB reads and writes through the block layer, in process
#     (build/tests/img/blktool bench), qcow2 (fully allocated) against raw.
#     Before each run both files are synced and dropped from the page cache
#     (dd iflag=nocache), so that neither starts with pages that another
#     write pattern left behind (a file just written in 2 MiB chunks takes
#     4 KiB writes several times slower than one written in small pieces,
#     whatever the format). A fixed number of operations (not a fixed time)
#     so that both files see the same page-cache history. Prints IOPS and
#     CPU microseconds per operation; on a shared machine only the CPU
#     figures mean much.
# Usage: bench/img.sh [build dir]   (prints a Markdown table for RESULTS.md)
set -euo pipefail
build=${1:-build}
brume=$build/brume blktool=$build/tests/img/blktool
dir=$(mktemp -d -p "${TMPDIR:-/var/tmp}")
trap 'rm -rf "$dir"' EXIT
# 1 GiB: 3/4 incompressible data, 1/4 zeroes, in 1 MiB stripes
python3 - "$dir/src.raw" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(1024):
        f.write(b"\0" * (1 << 20) if i % 4 == 3 else os.urandom(1 << 20))
PY
best() {  # best of 3: prints "cpu_seconds wall_seconds" of a command
  local bc="" bw=""
  for _ in 1 2 3; do
    rm -f "$dir"/out.*; sync
    /usr/bin/time -o "$dir/time" -f "%U %S %e" "$@" >/dev/null
    local t; t=$(tail -1 "$dir/time")
    local c w; c=$(echo "$t" | awk '{print $1 + $2}'); w=$(echo "$t" | awk '{print $3}')
    if [ -z "$bc" ] || [ "$(echo "$c < $bc" | bc -l)" = 1 ]; then bc=$c; fi
    if [ -z "$bw" ] || [ "$(echo "$w < $bw" | bc -l)" = 1 ]; then bw=$w; fi
  done
  printf '%.2f %.2f' "$bc" "$bw"
}
qemu-img convert -f raw -O qcow2 "$dir/src.raw" "$dir/src.qcow2"
b1=$(best "$brume" img convert -t unsafe -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
q1=$(best qemu-img convert -t unsafe -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
b2=$(best "$brume" img convert -t unsafe -f qcow2 -O raw "$dir/src.qcow2" "$dir/out.raw")
q2=$(best qemu-img convert -t unsafe -f qcow2 -O raw "$dir/src.qcow2" "$dir/out.raw")
b1f=$(best "$brume" img convert -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
q1f=$(best qemu-img convert -t writeback -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
# random I/O over a fully allocated qcow2 and a raw file of the same size
# (the raw file is written back from the qcow2 one by the same convert, so
# both files have the same history on disk)
head -c 1G /dev/zero | tr '\0' 'x' > "$dir/io.src"
"$brume" img convert -f raw -O qcow2 "$dir/io.src" "$dir/io.qcow2"
"$brume" img convert -f qcow2 -O raw "$dir/io.qcow2" "$dir/io.raw"
rm -f "$dir/io.src"
cold() { sync; dd if="$1" iflag=nocache count=0 status=none; }
# user-space instructions per operation (the block layer's own work),
# counted exactly by callgrind in a separate run (CPU time is sampled, and
# this VM has no performance counters for perf)
uinsn() {  # uinsn IMG: "user_insn_per_op N"
  command -v valgrind >/dev/null || return 0
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$blktool" bench "$1" 20000 2>&1 >/dev/null |
    awk '/Collected/ {printf "user_insn_per_op %.0f\n", $4 / 40000}'
}
# two rounds, alternating; the lower CPU figures of the two are kept
lower() { paste -d' ' <(echo "$1") <(echo "$2") | awk '{v = $2 < $4 ? $2 : $4; if ($1 ~ /iops/) v = $2 > $4 ? $2 : $4; print $1, v}'; }
cold "$dir/io.raw"; raw=$("$blktool" bench "$dir/io.raw" 20000)
cold "$dir/io.qcow2"; qc=$("$blktool" bench "$dir/io.qcow2" 20000)
cold "$dir/io.raw"; raw=$(lower "$raw" "$("$blktool" bench "$dir/io.raw" 20000)")
cold "$dir/io.qcow2"; qc=$(lower "$qc" "$("$blktool" bench "$dir/io.qcow2" 20000)")
raw="$raw
$(uinsn "$dir/io.raw")"
qc="$qc
$(uinsn "$dir/io.qcow2")"
f() { echo "$1" | awk -v k="$2" '$1 == k {print $2}'; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
row() {  # row LABEL "cpu wall" "cpu wall"
  local bc bw qc qw; read -r bc bw <<<"$2"; read -r qc qw <<<"$3"
  echo "| $1 | $bc ($bw) | $qc ($qw) | $(ratio "$bc" "$qc") |"
}
echo "| convert, 1 GiB: CPU s (wall s) | brume | qemu-img | CPU ratio |"
echo "| --- | --- | --- | --- |"
row "raw -> qcow2, -t unsafe" "$b1" "$q1"
row "qcow2 -> raw, -t unsafe" "$b2" "$q2"
row "raw -> qcow2, flushed at the end" "$b1f" "$q1f"
echo
echo "| random 4 KiB, 20000 reads then 20000 writes, cold page cache, best of 2 | qcow2 | raw | ratio |"
echo "| --- | --- | --- | --- |"
echo "| reads: IOPS | $(f "$qc" read_iops) | $(f "$raw" read_iops) | $(ratio "$(f "$qc" read_iops)" "$(f "$raw" read_iops)") |"
echo "| reads: CPU us per op | $(f "$qc" read_cpu_us) | $(f "$raw" read_cpu_us) | $(ratio "$(f "$qc" read_cpu_us)" "$(f "$raw" read_cpu_us)") |"
echo "| writes: IOPS | $(f "$qc" write_iops) | $(f "$raw" write_iops) | $(ratio "$(f "$qc" write_iops)" "$(f "$raw" write_iops)") |"
echo "| writes: CPU us per op | $(f "$qc" write_cpu_us) | $(f "$raw" write_cpu_us) | $(ratio "$(f "$qc" write_cpu_us)" "$(f "$raw" write_cpu_us)") |"
if [ -n "$(f "$qc" user_insn_per_op)" ]; then
  echo "| user-space instructions per op (callgrind, reads and writes) | $(f "$qc" user_insn_per_op) | $(f "$raw" user_insn_per_op) | $(ratio "$(f "$qc" user_insn_per_op)" "$(f "$raw" user_insn_per_op)") |"
fi
