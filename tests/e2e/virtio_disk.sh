#!/usr/bin/env bash
# End-to-end: a virtio-blk disk under a real Linux guest on the emu engine.
# The host makes an ext4 image (mkfs.ext4 on a raw file, no mounts). Boot 1
# mounts /dev/vda, writes 256 KiB of random data, prints its sha256, syncs
# and unmounts. Boot 2 attaches the same image with readonly=on: the guest
# reads the file back and hashes it, and must be refused a write to the
# filesystem, a write to the block device and a read-write mount. The host
# then reads the file with debugfs and compares the hash, and checks that
# boot 2 changed no byte of the image.
#
# usage: virtio_disk.sh BRUME
brume=$1
. "$(cd "$(dirname "$0")" && pwd)/virtio_lib.sh"
need mkfs.ext4 debugfs sha256sum
e2e_kernel

img=$tmp/disk.raw
truncate -s 32M "$img"
# Inode tables and journal initialised now, so that the guest's kernel does
# not spend interpreted time zeroing them (ext4lazyinit) while mounted.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L brume-e2e "$img" ||
  { echo "FAIL: mkfs.ext4 on $img"; exit 1; }

cat > "$tmp/write.sh" <<'W'
#!/bin/sh
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { echo "g: mount failed"; exit 1; }
head -c 262144 /dev/urandom > /mnt/data.bin || { echo "g: write failed"; exit 1; }
echo "g: written $(sha256sum < /mnt/data.bin | cut -d' ' -f1)"
sync
umount /mnt && echo "g: umount ok"
W

cat > "$tmp/readonly.sh" <<'R'
#!/bin/sh
mkdir -p /mnt
echo "g: sysfs-ro $(cat /sys/block/vda/ro)"
mount -t ext4 -o ro /dev/vda /mnt || { echo "g: ro mount failed"; exit 1; }
echo "g: readback $(sha256sum < /mnt/data.bin | cut -d' ' -f1)"
if echo x > /mnt/new 2>/dev/null; then echo "g: fs-write accepted"; else echo "g: fs-write refused"; fi
umount /mnt
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; then
  echo "g: dev-write accepted"
else
  echo "g: dev-write refused"
fi
if mount -t ext4 -o rw /dev/vda /mnt 2>/dev/null; then
  # The kernel may fall back to a read-only mount; only rw is a failure.
  if grep -q ' /mnt ext4 ro[,$ ]' /proc/mounts; then echo "g: rw-mount refused (ro fallback)"; else echo "g: rw-mount accepted"; fi
  umount /mnt
else
  echo "g: rw-mount refused"
fi
R

fail=0
e2e_boot write "$tmp/write.sh" --disk "$img,format=raw" || fail=1
written=$(g_value write written)
[ -n "$written" ] || { echo "FAIL: boot 1 printed no hash of the written file"; fail=1; }
grep -q '^g: umount ok' "$tmp/write.txt" || { echo "FAIL: boot 1 could not unmount /dev/vda"; fail=1; }

before=$(sha256sum < "$img" | cut -d' ' -f1)
e2e_boot readonly "$tmp/readonly.sh" --disk "$img,format=raw,readonly=on" || fail=1
after=$(sha256sum < "$img" | cut -d' ' -f1)
[ "$(g_value readonly sysfs-ro)" = 1 ] || { echo "FAIL: with readonly=on /sys/block/vda/ro is '$(g_value readonly sysfs-ro)', expected 1"; fail=1; }
readback=$(g_value readonly readback)
if [ -z "$written" ] || [ "$readback" != "$written" ]; then
  echo "FAIL: boot 2 read back sha256 '$readback', boot 1 wrote '$written'"; fail=1
fi
for k in fs-write dev-write rw-mount; do
  v=$(g_value readonly "$k")
  case "$v" in refused*) ;; *) echo "FAIL: readonly=on: the guest's $k was '${v:-not reported}'"; fail=1 ;; esac
done
[ "$before" = "$after" ] || { echo "FAIL: the read-only boot changed the image ($before -> $after)"; fail=1; }

host=$(debugfs -R 'cat /data.bin' "$img" 2>/dev/null | sha256sum | cut -d' ' -f1)
size=$(debugfs -R 'cat /data.bin' "$img" 2>/dev/null | wc -c)
if [ "$host" != "$written" ] || [ "$size" != 262144 ]; then
  echo "FAIL: debugfs on the host reads /data.bin as $size bytes, sha256 $host; the guest wrote 262144 bytes, $written"; fail=1
else
  echo "host: debugfs reads /data.bin: 262144 bytes, sha256 $host (same as the guest's)"
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
