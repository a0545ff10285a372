#!/usr/bin/env bash
# Power-loss ordering: blktool-journal writes to qcow2 images (random
# writes, zeroes, discards, flushes) while recording every write and
# fdatasync; powerloss.py then builds states a power loss could leave (all
# before some fdatasync, any subset after it): qemu-img check must find no
# corruption in any, and what the guest flushed must be there. Series: 64 KiB clusters, 4 KiB, and 512 B with
# 64-bit refcounts (refcount blocks created and the table moved often).
set -u
blktool=$1 here=$(dirname "$0")
command -v qemu-img >/dev/null || { echo "skipped: qemu-img not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
series() {  # series NAME SIZE OPTS OPS TRIALS SEED
  local img=$dir/$1.qcow2
  qemu-img create -q -f qcow2 -o "$3" "$img" "$2" || { fails=$((fails + 1)); return; }
  cp "$img" "$dir/initial.qcow2"
  truncate -s "$2" "$dir/ref.raw"
  if ! BRUME_JOURNAL=$dir/journal BRUME_JOURNAL_IMG=$img BRUME_JOURNAL_REF=$dir/ref.raw "$blktool" random "$img" "$dir/ref.raw" "$6" "$4"; then
    echo "FAIL: $1: writer failed"; fails=$((fails + 1)); return
  fi
  # the run itself must leave a clean image with the right content
  qemu-img check -q "$img" || { echo "FAIL: $1: image not clean after the run"; fails=$((fails + 1)); }
  qemu-img compare -q -f raw "$dir/ref.raw" "$img" || { echo "FAIL: $1: content differs"; fails=$((fails + 1)); }
  echo -n "$1: "
  python3 "$here/powerloss.py" "$dir/initial.qcow2" "$dir/journal" "$dir" "$5" "$6" "$(stat -c %s "$dir/ref.raw")" || fails=$((fails + 1))
  rm -f "$dir"/*.qcow2 "$dir/journal" "$dir/ref.raw"
}
series c64k 24M cluster_size=64k 120 40 3
series c4k 24M cluster_size=4k 120 40 4
series c512 12M cluster_size=512,refcount_bits=64 80 50 5
[ $fails -eq 0 ]
