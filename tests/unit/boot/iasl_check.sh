#!/usr/bin/env bash
# Disassembles brume's ACPI tables with iasl (ACPICA, the same AML parser
# Linux uses) and checks that it accepts them and reads back what brume
# meant: \_S5, the virtio-mmio devices, the FADT registers and the MADT.
#   iasl_check.sh TEST-BOOT-ACPI-BINARY
set -uo pipefail
bin=$1
if ! command -v iasl >/dev/null; then
  echo "skipped: iasl not installed (acpica-tools)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" --dump "$dir" || { echo "FAIL: could not dump the tables"; exit 1; }
fail=0
check() {   # file pattern description
  if ! grep -qE "$2" "$dir/$1"; then
    echo "FAIL: $1: $3 (no match for /$2/)"
    fail=1
  fi
}
for t in XSDT FACP APIC DSDT; do
  [ -f "$dir/$t.dat" ] || { echo "FAIL: no $t table"; exit 1; }
  if ! (cd "$dir" && iasl -d "$t.dat" > "$t.log" 2>&1); then
    echo "FAIL: iasl rejected $t:"; cat "$dir/$t.log"; fail=1
  fi
  if grep -qiE '(error|warning)[^s]' "$dir/$t.dsl" "$dir/$t.log"; then
    echo "FAIL: iasl complained about $t:"; grep -iE 'error|warning' "$dir/$t.dsl" "$dir/$t.log"; fail=1
  fi
done
check DSDT.dsl 'Name \(_S5, Package \(0x04\)' '\_S5 package'
check DSDT.dsl '^ +0x05, $' 'SLP_TYP 5'
check DSDT.dsl 'Device \(VR02\)' 'virtio-mmio device 2'
check DSDT.dsl '0xD0002000' 'virtio-mmio device 2 address'
check DSDT.dsl 'Interrupt \(ResourceConsumer, Level, ActiveHigh, Exclusive' 'level, active-high interrupts'
check FACP.dsl 'PM1A Control Block Address : 00000604' 'PM1a control block'
check FACP.dsl 'SCI Interrupt : 0009' 'SCI'
check FACP.dsl '32-bit PM Timer \(V1\) : 1' 'TMR_VAL_EXT'
check FACP.dsl 'Reset Register Supported \(V2\) : 1' 'RESET_REG_SUP'
check FACP.dsl '8042 Present on ports 60/64 \(V2\) : 1' '8042 present'
check FACP.dsl 'VGA Not Present \(V4\) : 1' 'no VGA'
check FACP.dsl 'Value to cause reset : 01' 'reset value'
check APIC.dsl 'Local Apic Address : FEE00000' 'local APIC address'
check APIC.dsl 'Processor ID : 03' 'four CPUs'
check APIC.dsl 'Address : FEC00000' 'IOAPIC'
[ $fail -eq 0 ] && echo "iasl accepts the tables: PASS"
exit $fail
