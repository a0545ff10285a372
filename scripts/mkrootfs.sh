#!/usr/bin/env bash
# Builds a Debian root disk for brume (an ext4 image, no partition table)
# with openssh-server, DHCP networking and your SSH key, plus the matching
# Debian cloud kernel and an initrd that loads the virtio drivers.
#
#   scripts/mkrootfs.sh [-o DIR] [--size SIZE] [--suite SUITE] [--mirror URL]
#                       [--key PUBKEY]
#
#   -o DIR        output folder (default: $cache/rootfs); it receives
#                 rootfs.ext4, vmlinuz, initrd.img and, if the key was
#                 generated here, id_ed25519 / id_ed25519.pub
#   --size SIZE   image size for mkfs.ext4 (default: 2G)
#   --suite S     Debian suite (default: the host's VERSION_CODENAME)
#   --mirror URL  Debian mirror (default: the one apt on this host uses)
#   --key PUBKEY  public key to authorize for root (default: ~/.ssh/id_ed25519.pub
#                 or id_rsa.pub, else a new key generated in DIR)
#
# debootstrap fills a folder (it needs root, or fakeroot+fakechroot), the
# folder becomes the filesystem with `mkfs.ext4 -d` (no loop mounts), and
# the kernel and initrd are copied out of the folder's /boot. Then:
#
#   brume run --kernel DIR/vmlinuz --initrd DIR/initrd.img \
#     --append "root=/dev/vda rw console=ttyS0" \
#     --disk DIR/rootfs.ext4,format=raw --net user,hostfwd=tcp:127.0.0.1:2222-:22
#   ssh -i DIR/id_ed25519 -p 2222 root@127.0.0.1
set -euo pipefail

cache=${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}
out=$cache/rootfs
size=2G
suite=""
mirror=""
key=""

die() { echo "mkrootfs: $*" >&2; exit 1; }
say() { echo "mkrootfs: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -o) [ $# -ge 2 ] || die "-o needs a folder"; out=$2; shift 2 ;;
    --size) [ $# -ge 2 ] || die "--size needs a size"; size=$2; shift 2 ;;
    --suite) [ $# -ge 2 ] || die "--suite needs a name"; suite=$2; shift 2 ;;
    --mirror) [ $# -ge 2 ] || die "--mirror needs a URL"; mirror=$2; shift 2 ;;
    --key) [ $# -ge 2 ] || die "--key needs a public key file"; key=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done

command -v debootstrap >/dev/null || die "debootstrap not found (scripts/install-deps.sh)"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (scripts/install-deps.sh)"
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root (run with sudo, or under fakeroot fakechroot)"

# The host's suite and mirror, from os-release and apt's own configuration
# (deb822 .sources first, then the one-line sources.list format).
if [ -z "$suite" ]; then
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$suite" ] || die "cannot tell the host's Debian suite; pass --suite"
fi
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk 'tolower($1) == "uris:" { print $2; exit }' "$f")
    [ -n "$mirror" ] && break
  done
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
           /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "cannot find the host's Debian mirror in apt's configuration; pass --mirror"

mkdir -p "$out"
if [ -z "$key" ]; then
  for k in "$HOME/.ssh/id_ed25519.pub" "$HOME/.ssh/id_rsa.pub" "$out/id_ed25519.pub"; do
    if [ -f "$k" ]; then key=$k; break; fi
  done
fi
if [ -z "$key" ]; then
  command -v ssh-keygen >/dev/null || die "ssh-keygen not found (apt-get install openssh-client)"
  ssh-keygen -q -t ed25519 -N "" -C "brume-guest" -f "$out/id_ed25519"
  key=$out/id_ed25519.pub
  say "generated $out/id_ed25519"
fi
[ -f "$key" ] || die "public key $key not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/brume-rootfs.XXXXXX")
root=$work/root
cleanup() {
  for m in proc sys dev/pts dev; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

say "debootstrap $suite from $mirror (a few minutes)"
debootstrap --variant=minbase \
  --include=systemd-sysv,udev,kmod,openssh-server,iproute2,netbase,ca-certificates,initramfs-tools,zstd \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

# The kernel, installed inside so that its modules and an initrd built by
# Debian's own initramfs-tools match it. Daemons must not start in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cat >>"$root/etc/initramfs-tools/modules" <<'MODULES'
# brume: virtio-mmio devices described by ACPI, the root disk on virtio-blk
virtio_mmio
virtio_blk
virtio_net
virtio_console
MODULES
# Only those (ext4 is built in): Debian's default MODULES=most makes a
# ~30 MB initrd, slow to unpack on the emu engine (an interpreter).
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
say "installing the cloud kernel in the guest"
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends linux-image-cloud-amd64 >"$work/kernel.log" 2>&1 ||
  { tail -20 "$work/kernel.log" >&2; die "installing the kernel failed (log above)"; }
chroot "$root" apt-get clean
umount "$root/dev" "$root/sys" "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d"

# System configuration: hostname, fstab, DHCP on every Ethernet NIC through
# systemd-networkd, slirp's DNS, root's SSH key, consoles.
echo brume >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 brume\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/20-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NET
ln -sf /lib/systemd/system/systemd-networkd.service \
  "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$root/etc/systemd/system/sockets.target.wants"
ln -sf /lib/systemd/system/systemd-networkd.socket \
  "$root/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
# A short boot: nothing here waits for the network to be "online" (sshd
# listens on every address as soon as it starts); the periodic jobs, the
# gettys on virtual terminals (brume has no display; without logind,
# getty-static starts five more), module loads for file systems and
# device-mapper nobody asked for, and debug file systems serve no purpose
# in this VM. The journal stays in memory (no flush to disk at boot).
# On the emu engine (an interpreter) a unit can be slow without being
# stuck: systemd's 90 s start timeouts would kill it, so they are longer.
for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer \
         getty@tty1.service getty-static.service systemd-timesyncd.service \
         modprobe@fuse.service modprobe@dm_mod.service modprobe@drm.service \
         sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\nDefaultTimeoutStartSec=600s\nDefaultDeviceTimeoutSec=600s\n' \
  >"$root/etc/systemd/system.conf.d/brume.conf"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/brume.conf"
rm -f "$root/etc/resolv.conf"
echo "nameserver 10.0.2.3" >"$root/etc/resolv.conf"
install -d -m 700 "$root/root/.ssh"
install -m 600 "$key" "$root/root/.ssh/authorized_keys"
# serial getty on ttyS0 and hvc0 come from systemd's console generator; root may
# log in there without a password (a local test machine), ssh needs the key
chroot "$root" passwd -d root >/dev/null
rm -f "$root"/etc/ssh/ssh_host_*     # fresh host keys per image
chroot "$root" ssh-keygen -A >/dev/null

cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
cp "$root"/boot/initrd.img-* "$out/initrd.img"
say "mkfs.ext4 -d ($size)"
rm -f "$out/rootfs.ext4"
mkfs.ext4 -q -F -L brume-root -d "$root" "$out/rootfs.ext4" "$size"
say "done: $out (rootfs.ext4, vmlinuz, initrd.img)"
echo "$out"
