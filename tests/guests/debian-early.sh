#!/usr/bin/env bash
# Boots Debian's cloud kernel (from the cache scripts/guest-kernel.sh fills)
# on the emu CPU core with brume's boot path (guest-emucore) and checks
# what Linux says about what brume handed it: the e820 map, the command
# line, the initrd, and every ACPI table (found, parsed, no ACPI errors).
# The core platform has no interrupt controllers, so Linux stops early;
# only its reading of the boot data is judged here.
#   debian-early.sh GUEST-EMUCORE
# Exits 77 when no kernel is cached (no download from a test).
set -uo pipefail
emucore=$1
cache=${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}
kernel=$(ls -t "$cache"/kernel/*/vmlinuz 2>/dev/null | head -n1)
if [ -z "$kernel" ]; then
  echo "skipped: no Debian kernel in $cache (run scripts/guest-kernel.sh)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && echo hello > hello && echo hello | cpio -o -H newc --quiet | gzip > initrd)
# nokaslr: a fixed layout makes the run (and its failures) repeatable.
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 reboot=k panic=1 nokaslr brume.test=$RANDOM"
echo "debian-early: $emucore run --kernel $kernel --initrd $tmp/initrd --mem 512M --cpus 2 --append '$append'"
timeout -k 5 120 "$emucore" run --kernel "$kernel" --initrd "$tmp/initrd" --mem 512M --cpus 2 \
  --append "$append" > "$tmp/log" 2>&1 < /dev/null
echo "debian-early: exit status $? (Linux is expected to stop early here)"
cat "$tmp/log"
fail=0
want() {
  if ! grep -qF -- "$1" "$tmp/log"; then
    echo "debian-early: FAIL: Linux did not say: $1"
    fail=1
  fi
}
want "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"
want "BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved"
want "BIOS-e820: [mem 0x00000000000e0000-0x00000000000fffff] reserved"
want "BIOS-e820: [mem 0x0000000000100000-0x000000001fffffff] usable"
want "Command line: $append"
want "RAMDISK: [mem 0x1ff"
want "ACPI: RSDP 0x00000000000E0000 000024 (v02 BRUME )"
want "ACPI: XSDT 0x00000000000E"
want "ACPI: FACP 0x00000000000E"
want "ACPI: DSDT 0x00000000000E"
want "ACPI: FACS 0x00000000000E"
want "ACPI: APIC 0x00000000000E"
want "ACPI: PM-Timer IO Port: 0x608"
want "ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)"
want "ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)"
want "ACPI: LAPIC_NMI (acpi_id[0xff] dfl dfl lint[0x1])"
want "smpboot: Allowing 2 CPUs, 0 hotplug CPUs"
if grep -iE 'ACPI (BIOS )?(Error|Warning)|ACPI: .*(invalid|bad checksum)' "$tmp/log"; then
  echo "debian-early: FAIL: ACPI complained"
  fail=1
fi
if [ "$(grep -c 'ACPI: FACS' "$tmp/log")" -ne 1 ]; then
  echo "debian-early: FAIL: the FACS was listed more than once"
  fail=1
fi
[ $fail -eq 0 ] && echo "debian-early: PASS"
exit $fail
