#!/usr/bin/env bash
# Builds the default guest's initramfs (newc cpio, gzip) from busybox-static
# and prints its path.
#
#   scripts/mkinitramfs.sh [-o OUT] [--modules DIR] [--workload FILE]
#
#   -o OUT           where to write it (default: $cache/initramfs.cpio.gz, or
#                    $cache/initramfs-<workload name>.cpio.gz with a workload,
#                    so a benchmark's archive never replaces the demo's)
#   --modules DIR    a lib/modules/<release> folder (scripts/guest-kernel.sh
#                    --modules): its virtio drivers go in, loaded at boot
#   --workload FILE  an executable (script or static binary) run by /init
#                    after the report; its exit status is printed
#
# /init mounts proc, sys and dev (devtmpfs: no device nodes in the archive,
# so no root is needed to build it), prints what the guest sees with the
# prefix "brume-guest: " (kernel release, CPUs, MemTotal), runs the
# workload, and powers off with `poweroff -f` (ACPI S5). The archive is
# reproducible: sorted, owned by root, timestamps clamped.
set -euo pipefail

cache=${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}
out=""
modules=""
workload=""
busybox=${BRUME_BUSYBOX:-/bin/busybox}

die() { echo "mkinitramfs: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    -o) [ $# -ge 2 ] || die "-o needs a path"; out=$2; shift 2 ;;
    --modules) [ $# -ge 2 ] || die "--modules needs a folder"; modules=$2; shift 2 ;;
    --workload) [ $# -ge 2 ] || die "--workload needs a file"; workload=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done

[ -x "$busybox" ] || die "$busybox not found (install busybox-static: scripts/install-deps.sh)"
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; the initramfs needs busybox-static"
fi
command -v cpio >/dev/null || die "cpio not found (scripts/install-deps.sh)"
[ -z "$workload" ] || [ -f "$workload" ] || die "workload $workload not found"
if [ -z "$out" ]; then
  if [ -n "$workload" ]; then
    out=$cache/initramfs-$(basename "$workload" | tr -c 'A-Za-z0-9._\n-' _).cpio.gz
  else
    out=$cache/initramfs.cpio.gz
  fi
fi
[ -z "$modules" ] || [ -d "$modules/kernel" ] || die "$modules is not a lib/modules/<release> folder"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,root}

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

# The virtio drivers are modules in Debian's cloud kernel (see
# docs/guests.md); take them and what they depend on.
if [ -n "$modules" ]; then
  release=$(basename "$modules")
  dest=$root/lib/modules/$release
  mkdir -p "$dest"
  wanted=(virtio virtio_ring virtio_mmio virtio_blk virtio_net net_failover failover
          virtio_console virtio-rng virtio_balloon)
  for m in "${wanted[@]}"; do
    f=$(find "$modules/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
    [ -n "$f" ] || { echo "mkinitramfs: warning: no module $m in $modules" >&2; continue; }
    rel=${f#"$modules"/}
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$f" "$dest/$rel"
  done
  for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$modules/$f" ] && cp "$modules/$f" "$dest/"
  done
  if command -v depmod >/dev/null || [ -x /sbin/depmod ]; then
    PATH=$PATH:/sbin:/usr/sbin depmod -b "$root" "$release"
  else
    die "depmod not found (install kmod: scripts/install-deps.sh)"
  fi
fi

if [ -n "$workload" ]; then
  cp "$workload" "$root/workload"
  chmod 0755 "$root/workload"
fi

cat > "$root/init" <<'INIT'
#!/bin/sh
# brume's default guest: report what the guest sees, run the workload,
# power off. Written by scripts/mkinitramfs.sh.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console in the archive; take it from devtmpfs.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
if [ -d /lib/modules ]; then
  for m in virtio_mmio virtio_blk virtio_net virtio_console virtio-rng virtio_balloon; do
    modprobe "$m" 2>/dev/null
  done
fi
echo "brume-guest: kernel $(uname -r)"
echo "brume-guest: cpus $(grep -c '^processor' /proc/cpuinfo)"
echo "brume-guest: $(grep '^MemTotal:' /proc/meminfo | tr -s ' ')"
if [ -x /workload ]; then
  echo "brume-guest: workload start"
  /workload
  echo "brume-guest: workload exit $?"
fi
echo "brume-guest: powering off"
sync
poweroff -f
# poweroff -f does not return; if it did, do not let init exit (panic).
while :; do sleep 3600; done
INIT
chmod 0755 "$root/init"

mkdir -p "$(dirname "$out")"
tmp_out=$out.tmp.$$
(
  cd "$root"
  find . -mindepth 1 -exec touch -h -d @0 {} +
  find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
) | gzip -9n > "$tmp_out"
mv "$tmp_out" "$out"
echo "$out"
