#!/usr/bin/env bash
# Runs a test guest's PVH build on QEMU (TCG) to check the guest itself:
#   tests/guests/run-qemu.sh QEMU GUEST GUEST-pvh.elf
# Exits 0 when the guest behaves as it must on a correct machine, 1 if not.
set -uo pipefail
qemu=$1 guest=$2 elf=$3
limit=${BRUME_GUEST_TIMEOUT:-60}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "run-qemu: FAIL ($guest): $*"; exit 1; }

timeout -k 5 "$limit" "$qemu" -M pc -accel tcg -m 256 -smp 2 -nodefaults -display none \
  -no-reboot -serial stdio -kernel "$elf" -append "console=ttyS0" > "$log" 2>&1 < /dev/null
rc=$?
cat "$log"
echo "run-qemu: qemu exited with status $rc"
[ $rc -eq 124 ] || [ $rc -eq 137 ] && fail "timed out after $limit s"
[ $rc -eq 0 ] || fail "qemu exited with status $rc"
case "$guest" in
  timer|smp|rtc|cpuloop)
    grep -q '^guest: PASS' "$log" || fail "no PASS"
    ;;
  reset)
    grep -q '^reset: writing 0xFE' "$log" || fail "the guest never reached the reset"
    ;;
  triple_fault)
    grep -q '^triple_fault: loading an empty IDT' "$log" || fail "the guest never reached ud2"
    ;;
esac
grep -q '^guest: FAIL' "$log" && fail "the guest reported a failure"
echo "run-qemu: PASS ($guest)"
