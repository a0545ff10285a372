#!/usr/bin/env bash
# Block layer benchmarks (not a test): on one 1 GiB image, in one run,
#  1. `brume img convert` against `qemu-img convert`, raw -> qcow2 and
#     qcow2 -> raw (best of 2 wall-clock runs each), both without the final
#     flush (-t unsafe, qemu-img's default); brume's own default, which
#     flushes the output to disk, is timed too;
#  2. random 4 KiB reads and writes through the block layer, in process
#     (build/tests/img/blktool bench), qcow2 (fully allocated) against raw.
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
best() {  # best of 3 wall-clock seconds of a command
  local b=""
  for _ in 1 2; do
    rm -f "$dir"/out.*; sync
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    local t; t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  printf '%.2f' "$b"
}
qemu-img convert -f raw -O qcow2 "$dir/src.raw" "$dir/src.qcow2"
b1=$(best "$brume" img convert -t unsafe -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
q1=$(best qemu-img convert -t unsafe -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
b2=$(best "$brume" img convert -t unsafe -f qcow2 -O raw "$dir/src.qcow2" "$dir/out.raw")
q2=$(best qemu-img convert -t unsafe -f qcow2 -O raw "$dir/src.qcow2" "$dir/out.raw")
b1f=$(best "$brume" img convert -f raw -O qcow2 "$dir/src.raw" "$dir/out.qcow2")
# random I/O over a fully allocated qcow2 and a raw file of the same size
head -c 1G /dev/zero | tr '\0' 'x' > "$dir/io.raw"
"$brume" img convert -f raw -O qcow2 "$dir/io.raw" "$dir/io.qcow2"
sync   # both files clean in the page cache: writes then cost the same for both
raw=$("$blktool" bench "$dir/io.raw" 5)
sync
qc=$("$blktool" bench "$dir/io.qcow2" 5)
rr=$(echo "$raw" | awk '/read/ {print $2}'); rw=$(echo "$raw" | awk '/write/ {print $2}')
qr=$(echo "$qc" | awk '/read/ {print $2}'); qw=$(echo "$qc" | awk '/write/ {print $2}')
echo "| work (1 GiB image) | brume | qemu-img / raw | ratio |"
echo "| --- | --- | --- | --- |"
echo "| convert raw -> qcow2 (s) | $b1 | $q1 | $(echo "scale=2; $b1 / $q1" | bc -l) |"
echo "| convert qcow2 -> raw (s) | $b2 | $q2 | $(echo "scale=2; $b2 / $q2" | bc -l) |"
echo "| convert raw -> qcow2, flushed (brume default) (s) | $b1f | - | - |"
echo "| random 4 KiB reads (IOPS), qcow2 vs raw | $qr | $rr | $(echo "scale=2; $qr / $rr" | bc -l) |"
echo "| random 4 KiB writes (IOPS), qcow2 vs raw | $qw | $rw | $(echo "scale=2; $qw / $rw" | bc -l) |"
