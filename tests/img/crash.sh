#!/usr/bin/env bash
# Crash consistency: a writer (blktool crash) is killed with SIGKILL at a
# random moment, 200 times in all, over qcow2 images with 64 KiB and 4 KiB
# clusters and 512-byte ones with 64-bit refcounts (many refcount blocks,
# the refcount table moving often). After every kill, `qemu-img check` must
# find no corruption (leaks are allowed) and every 512-byte sector must hold
# its last flushed content or a later one (a write cut by the kill may be
# torn between sectors, as on a disk).
set -u
blktool=$1
command -v qemu-img >/dev/null || { echo "skipped: qemu-img not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0 kills=0 leaks=0
run_series() {
  local name=$1 n=$2 opts=$3
  local img=$dir/$name.qcow2 log=$dir/$name.log
  qemu-img create -q -f qcow2 -o "$opts" "$img" 64M || { fails=$((fails + 1)); return; }
  : > "$log"
  for i in $(seq 1 "$n"); do
    "$blktool" crash "$img" "$log" "$RANDOM$i" 2>"$dir/err" &
    local pid=$!
    sleep "0.0$((RANDOM % 9 + 1))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    if [ -s "$dir/err" ]; then echo "writer error ($name #$i): $(cat "$dir/err")"; fails=$((fails + 1)); fi
    qemu-img check -q "$img" >"$dir/check" 2>&1
    local rc=$?
    if [ $rc -eq 3 ]; then leaks=$((leaks + 1)); elif [ $rc -ne 0 ]; then
      echo "FAIL: $name kill #$i: qemu-img check exit $rc"; cat "$dir/check"; fails=$((fails + 1))
      qemu-img check -r all -q "$img" >/dev/null 2>&1
    fi
    if ! "$blktool" verify "$img" "$log"; then
      echo "FAIL: $name kill #$i: flushed data missing"; fails=$((fails + 1))
    fi
  done
  qemu-img check -r leaks -q "$img" >/dev/null 2>&1
  qemu-img check -q "$img" || { echo "FAIL: $name: not clean after leak repair"; fails=$((fails + 1)); }
}
run_series c64k 70 cluster_size=64k
run_series c4k 70 cluster_size=4k
run_series c512 60 cluster_size=512,refcount_bits=64
echo "crash: $kills kills, $leaks left leaked clusters (allowed), $fails failures"
[ $fails -eq 0 ]
