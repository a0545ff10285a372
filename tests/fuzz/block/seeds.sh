#!/usr/bin/env bash
# Builds a seed corpus of small images (with brume and, when present,
# qemu-img), then runs the fuzzer over it for a bounded time.
#   seeds.sh FUZZER BRUME_OR_EMPTY [libFuzzer args...]
set -u
fuzzer=$1 brume=$2; shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
c=$dir/corpus
head -c 4096 /dev/urandom > "$dir/data.raw"
truncate -s 64K "$dir/data.raw"
if command -v qemu-img >/dev/null; then
  for cs in 512 4k 64k; do
    qemu-img convert -f raw -O qcow2 -o cluster_size=$cs "$dir/data.raw" "$c/q-$cs.qcow2"
  done
  qemu-img convert -c -f raw -O qcow2 "$dir/data.raw" "$c/qz.qcow2"
  qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd "$dir/data.raw" "$c/qzs.qcow2"
  qemu-img convert -f raw -O qcow2 -o compat=0.10 "$dir/data.raw" "$c/qv2.qcow2"
  qemu-img create -q -f qcow2 -b q-4k.qcow2 -F qcow2 "$c/qb.qcow2"
  qemu-img convert -f raw -O vmdk "$dir/data.raw" "$c/v.vmdk"
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$dir/data.raw" "$c/vs.vmdk"
  qemu-img convert -f raw -O vdi "$dir/data.raw" "$c/v.vdi"
fi
if [ -n "$brume" ] && [ -x "$brume" ]; then
  "$brume" img convert -q -O qcow2 -o cluster_size=4k "$dir/data.raw" "$c/b.qcow2" 2>/dev/null
fi
# keep seeds small: libFuzzer's default max_len follows the largest seed
exec "$fuzzer" -max_len=262144 "$@" "$c"
