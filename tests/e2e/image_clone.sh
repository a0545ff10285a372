#!/usr/bin/env bash
# End-to-end: a guest on the emu engine boots with a qcow2 linked clone of a
# raw base, writes, and the base is untouched. The host makes a raw base
# whose ext4 filesystem holds /base.bin (mkfs.ext4 -d, no mounts) and a
# clone with `brume img create -f qcow2 -b base.raw -F raw`. The guest
# mounts the clone, hashes /base.bin (read through the backing file),
# writes /new.bin, syncs and unmounts. The host then checks that the
# base's bytes are unchanged, that `qemu-img check` finds the clone clean,
# and that /new.bin is in the flattened clone (qemu-img convert, debugfs)
# with the guest's hash.
#
# usage: image_clone.sh BRUME
brume=$1
. "$(cd "$(dirname "$0")" && pwd)/virtio_lib.sh"
need mkfs.ext4 debugfs e2fsck qemu-img sha256sum
e2e_kernel

mkdir -p "$tmp/root"
head -c 300000 /dev/urandom > "$tmp/root/base.bin"
base_file=$(sha256sum < "$tmp/root/base.bin" | cut -d' ' -f1)
base=$tmp/base.raw
truncate -s 32M "$base"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -d "$tmp/root" "$base" ||
  { echo "FAIL: mkfs.ext4 -d on $base"; exit 1; }
base_sum=$(sha256sum < "$base" | cut -d' ' -f1)

clone=$tmp/clone.qcow2
"$brume" img create -f qcow2 -b "$base" -F raw "$clone" ||
  { echo "FAIL: brume img create -f qcow2 -b $base -F raw $clone"; exit 1; }
qemu-img info "$clone" | grep -E '^(file format|virtual size|backing file)' | sed 's/^/host: clone: /'

cat > "$tmp/clone.sh" <<'C'
#!/bin/sh
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { echo "g: mount failed"; exit 1; }
echo "g: base $(sha256sum < /mnt/base.bin | cut -d' ' -f1)"
head -c 200000 /dev/urandom > /mnt/new.bin || { echo "g: write failed"; exit 1; }
echo "g: new $(sha256sum < /mnt/new.bin | cut -d' ' -f1)"
sync
umount /mnt && echo "g: umount ok"
C

fail=0
e2e_boot clone "$tmp/clone.sh" --disk "$clone,format=qcow2" || fail=1
seen=$(g_value clone base)
[ "$seen" = "$base_file" ] || { echo "FAIL: the guest read /base.bin through the clone as '${seen:-nothing}', the base holds $base_file"; fail=1; }
new=$(g_value clone new)
[ -n "$new" ] || { echo "FAIL: the guest printed no hash of /new.bin"; fail=1; }
grep -q '^g: umount ok' "$tmp/clone.txt" || { echo "FAIL: the guest could not unmount the clone"; fail=1; }

[ "$(sha256sum < "$base" | cut -d' ' -f1)" = "$base_sum" ] ||
  { echo "FAIL: the raw base changed while the guest wrote to its clone"; fail=1; }
if ! qemu-img check "$clone" > "$tmp/check.txt" 2>&1; then
  echo "FAIL: qemu-img check $clone:"; cat "$tmp/check.txt"; fail=1
else
  echo "host: qemu-img check: $(grep -c . "$tmp/check.txt") lines, $(grep -E 'No errors|allocated' "$tmp/check.txt" | tr '\n' ' ')"
fi
if ! qemu-img convert -O raw "$clone" "$tmp/flat.raw"; then
  echo "FAIL: qemu-img convert -O raw $clone"; fail=1
else
  host_new=$(debugfs -R 'cat /new.bin' "$tmp/flat.raw" 2>/dev/null | sha256sum | cut -d' ' -f1)
  host_base=$(debugfs -R 'cat /base.bin' "$tmp/flat.raw" 2>/dev/null | sha256sum | cut -d' ' -f1)
  [ -n "$new" ] && [ "$host_new" = "$new" ] ||
    { echo "FAIL: in the flattened clone /new.bin has sha256 $host_new, the guest wrote '${new:-nothing}'"; fail=1; }
  [ "$host_base" = "$base_file" ] ||
    { echo "FAIL: in the flattened clone /base.bin has sha256 $host_base, expected $base_file"; fail=1; }
  e2fsck -fn "$tmp/flat.raw" > "$tmp/fsck.txt" 2>&1 ||
    { echo "FAIL: e2fsck -fn finds the flattened clone's filesystem damaged:"; tail -20 "$tmp/fsck.txt"; fail=1; }
  [ $fail -eq 0 ] && echo "host: flattened clone: /new.bin sha256 $host_new (the guest's), /base.bin intact, e2fsck clean"
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
