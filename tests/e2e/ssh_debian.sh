#!/usr/bin/env bash
# End-to-end: a real Debian system (systemd, udev, systemd-networkd,
# openssh-server) on a virtio-blk root disk, booted on the emu engine, and
# the host's ssh client logging in through a user-mode hostfwd port:
#
#   ssh -p PORT root@127.0.0.1 uname -a      must print "Linux brume <release>"
#
# The disk is scripts/mkrootfs.sh's (in $BRUME_ROOTFS, default
# $cache/rootfs; built here when absent and we are root, which takes a few
# minutes and needs the Debian mirror). The guest writes to a qcow2 overlay
# in a scratch folder, so the image stays pristine. Then `poweroff` over ssh
# must end brume with status 0.
#
# Slow on purpose (systemd on an interpreter: several minutes of CPU), so
# not in `make check`: run with `make ssh-demo`, or
# `meson configure build -Dssh_test=true && meson test -C build ssh-debian-emu -v`.
#
# usage: ssh_debian.sh BRUME
brume=$1
. "$(cd "$(dirname "$0")" && pwd)/virtio_lib.sh"
need ssh ssh-keygen python3
cache=${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}
rootfs=${BRUME_ROOTFS:-$cache/rootfs}

if [ ! -f "$rootfs/rootfs.ext4" ]; then
  [ "$(id -u)" -eq 0 ] ||
    skip "no Debian root disk in $rootfs; build it once with: sudo BRUME_CACHE=$cache scripts/mkrootfs.sh -o $rootfs"
  need debootstrap mkfs.ext4
  echo "building the Debian root disk in $rootfs (scripts/mkrootfs.sh, a few minutes)"
  "$top/scripts/mkrootfs.sh" -o "$rootfs" >/dev/null || { echo "FAIL: scripts/mkrootfs.sh failed"; exit 1; }
fi
for f in rootfs.ext4 vmlinuz initrd.img; do
  [ -f "$rootfs/$f" ] || { echo "FAIL: $rootfs/$f is missing (rebuild with scripts/mkrootfs.sh -o $rootfs)"; exit 1; }
done
# The key mkrootfs authorized: the one it generated, else the user's own.
key=()
[ -f "$rootfs/id_ed25519" ] && key=(-i "$rootfs/id_ed25519")

"$brume" img create -f qcow2 -b "$rootfs/rootfs.ext4" -F raw "$tmp/overlay.qcow2" >/dev/null ||
  { echo "FAIL: cannot create a qcow2 overlay on $rootfs/rootfs.ext4"; exit 1; }
base_sum=$(stat -c '%s %Y' "$rootfs/rootfs.ext4")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sshc() {
  ssh "${key[@]+"${key[@]}"}" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 \
    -o ServerAliveInterval=30 -o ServerAliveCountMax=10 root@127.0.0.1 "$@"
}

echo "ssh: brume run --accel emu --mem 1G --disk overlay.qcow2 --net user,hostfwd=tcp:127.0.0.1:$port-:22"
t0=$(date +%s)
timeout 3300 "$brume" run --accel emu --mem 1G --kernel "$rootfs/vmlinuz" --initrd "$rootfs/initrd.img" \
  --append "root=/dev/vda rw console=ttyS0 reboot=k panic=1" \
  --disk "$tmp/overlay.qcow2,format=qcow2" --net "user,hostfwd=tcp:127.0.0.1:$port-:22" \
  --console stdio </dev/null >"$tmp/console" 2>"$tmp/stderr" &
vm=$!
cleanup_hooks+=("kill $vm 2>/dev/null; wait $vm 2>/dev/null")

console_tail() { tr -d '\r' < "$tmp/console" | tail -"${1:-30}"; sed 's/^/  [stderr] /' "$tmp/stderr"; }

# Until sshd answers: slirp accepts on the forwarded port from the start,
# so a refused or reset connection only means "not yet".
out="" tries=0
while kill -0 $vm 2>/dev/null && [ $(($(date +%s) - t0)) -lt 3000 ]; do
  tries=$((tries + 1))
  if out=$(sshc uname -a 2>"$tmp/ssh.err") && [ -n "$out" ]; then break; fi
  out=""
  sleep 10
done
t1=$(date +%s)
if [ -z "$out" ]; then
  echo "FAIL: no ssh login after $((t1 - t0)) s ($tries tries; last error: $(tail -1 "$tmp/ssh.err")); console tail:"
  console_tail 40
  exit 1
fi
echo "host: ssh -p $port root@127.0.0.1 uname -a -> $out"
echo "host: first login $((t1 - t0)) s after start ($tries tries)"
fail=0
release=$(tr -d '\r' < "$tmp/console" | sed -n 's/^\[ *[0-9.]*\] Linux version \([^ ]*\) .*/\1/p' | head -1)
case "$out" in
  "Linux brume ${release:-?} "*x86_64*) ;;
  *) echo "FAIL: uname -a gave '$out', expected 'Linux brume ${release:-RELEASE} ... x86_64' (RELEASE from the console's 'Linux version' line)"; fail=1 ;;
esac
# Data both ways over the same path: a file's hash, computed in the guest.
head -c 300000 /dev/urandom > "$tmp/blob"
want=$(sha256sum < "$tmp/blob" | cut -d' ' -f1)
got=$(sshc 'cat > /root/blob && sha256sum < /root/blob' < "$tmp/blob" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "FAIL: a 300000-byte file sent over ssh hashed to '${got:-nothing}' in the guest, expected $want"; fail=1; }
[ "$got" = "$want" ] && echo "host: 300000 bytes over ssh, same sha256 in the guest"

sshc poweroff >/dev/null 2>&1 || true
rc=""
for _ in $(seq 120); do
  kill -0 $vm 2>/dev/null || { wait $vm; rc=$?; break; }
  sleep 5
done
if [ "$rc" != 0 ]; then
  echo "FAIL: after 'poweroff' brume ${rc:+exited with $rc}${rc:-was still running after 600 s}; console tail:"
  console_tail 20; fail=1
else
  echo "host: the guest powered off, brume exited with 0 after $(($(date +%s) - t0)) s"
fi
[ "$(stat -c '%s %Y' "$rootfs/rootfs.ext4")" = "$base_sum" ] ||
  { echo "FAIL: $rootfs/rootfs.ext4 changed (the overlay should take every write)"; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
