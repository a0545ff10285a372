#!/usr/bin/env bash
# End-to-end: Debian's current cloud kernel (resolved at run time) with a
# busybox-static initramfs boots on the chosen engine, reaches init, runs
# tests/e2e/workload.sh, and `poweroff -f` ends brume with status 0. The
# workload's lines must equal those of the same script run by the host's
# busybox, and the guest must see the CPUs and memory it was given.
#
# usage: linux_boot.sh BRUME ENGINE MEM CPUS
set -u
brume=$1 engine=$2 mem=$3 cpus=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$engine" = kvm ]; then
  if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
    echo "skipped: no usable /dev/kvm"; exit 77
  fi
  # A /dev/kvm that is itself emulated (nested under an emulator) refuses
  # instructions a stock kernel needs (CMPXCHG16B, XSAVE): brume's own probe
  # tells it apart, as --accel auto does.
  auto=$("$brume" accel | sed -n 's/^auto: //p')
  case "$auto" in
    "using kvm"*) ;;
    *) echo "skipped: /dev/kvm cannot boot a stock Linux kernel here: $auto"; exit 77 ;;
  esac
fi

kernel=$("$top/scripts/guest-kernel.sh") || { echo "FAIL: cannot fetch the guest kernel"; exit 1; }
initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initrd.gz" --workload "$here/workload.sh") ||
  { echo "FAIL: cannot build the initramfs"; exit 1; }

echo "linux_boot: $brume run --accel $engine --mem $mem --cpus $cpus --kernel $kernel"
# The emu engine is an interpreter: allow it time, but never hang.
timeout 1500 "$brume" run --accel "$engine" --mem "$mem" --cpus "$cpus" \
  --kernel "$kernel" --initrd "$initrd" --append "console=ttyS0 reboot=k panic=1 quiet" \
  --console stdio </dev/null >"$tmp/console" 2>"$tmp/stderr"
rc=$?
tr -d '\r' < "$tmp/console" > "$tmp/console.txt"
grep '^brume-guest:' "$tmp/console.txt"
cat "$tmp/stderr"

fail=0
[ $rc -eq 0 ] || { echo "FAIL: brume exited with $rc"; tail -30 "$tmp/console.txt"; fail=1; }
grep -q '^brume-guest: powering off' "$tmp/console.txt" || { echo "FAIL: the guest did not reach poweroff"; fail=1; }
seen_cpus=$(sed -n 's/^brume-guest: cpus \([0-9]*\)$/\1/p' "$tmp/console.txt")
[ "$seen_cpus" = "$cpus" ] || { echo "FAIL: guest saw '$seen_cpus' CPUs, expected $cpus"; fail=1; }
# MemTotal is RAM minus what the kernel keeps; it must be below --mem and
# not far below it (the kernel image and reserved areas are < 64 MiB here).
mem_kb=$(sed -n 's/^brume-guest: MemTotal: *\([0-9]*\) kB$/\1/p' "$tmp/console.txt")
mem_bytes=$(numfmt --from=iec "$mem")
if [ -z "$mem_kb" ] || [ $((mem_kb * 1024)) -gt "$mem_bytes" ] || [ $((mem_kb * 1024)) -lt $((mem_bytes - (96 << 20))) ]; then
  echo "FAIL: MemTotal '$mem_kb kB' does not match --mem $mem"; fail=1
fi

grep '^workload: ' "$tmp/console.txt" > "$tmp/guest.txt"
TMPDIR=$tmp busybox sh "$here/workload.sh" > "$tmp/host.txt" 2>/dev/null
if ! diff "$tmp/host.txt" "$tmp/guest.txt" > "$tmp/diff"; then
  echo "FAIL: the guest's workload differs from the host's:"; cat "$tmp/diff"; fail=1
else
  echo "workload: $(wc -l < "$tmp/guest.txt") lines identical to the host's"
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
