#!/usr/bin/env bash
# One bad-input case of `brume run` (docs/cli.md has the table): brume must
# exit with the expected status, print exactly one line on stderr matching
# the expected reason, and never crash (no signal, no sanitizer report).
# usage: bad_input.sh BRUME GUEST_ELF CASE
set -u
brume=$1 guest=$2 case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An ELF64 header whose only PT_LOAD segment sits at 64 MiB (for "does not fit").
make_high_elf() {
  python3 - "$1" <<'PY'
import struct, sys
ph_off, load = 64, 64 << 20
ehdr = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
ehdr += struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, load, ph_off, 0, 0, 64, 56, 1, 0, 0, 0)
phdr = struct.pack('<IIQQQQQQ', 1, 5, 0x1000, load, load, 0x1000, 0x1000, 0x1000)
body = ehdr + phdr
body += bytes(0x1000 - len(body)) + b'\xf4' * 0x1000
open(sys.argv[1], 'wb').write(body)
PY
}

status=1 pattern= args=()
case $case in
  missing-kernel)   args=(--kernel "$tmp/nope");                    pattern="nope.*(No such file|not found)" ;;
  kernel-is-dir)    args=(--kernel "$tmp");                         pattern="(directory|not a regular file)" ;;
  not-a-kernel)     head -c 65536 /dev/urandom > "$tmp/junk"
                    args=(--kernel "$tmp/junk");                    pattern="not a bzImage or ELF64" ;;
  empty-kernel)     : > "$tmp/empty"
                    args=(--kernel "$tmp/empty");                   pattern="(empty|truncated|not a bzImage)" ;;
  kernel-too-big)   make_high_elf "$tmp/high.elf"
                    args=(--kernel "$tmp/high.elf" --mem 32M);      pattern="(does not fit|outside|beyond)" ;;
  initrd-too-big)   head -c $((40 << 20)) /dev/zero > "$tmp/initrd"
                    args=(--kernel "$guest" --initrd "$tmp/initrd" --mem 32M); pattern="initrd.*(too large|does not fit)" ;;
  missing-initrd)   args=(--kernel "$guest" --initrd "$tmp/nope");  pattern="nope.*(No such file|not found)" ;;
  mem-zero)         args=(--kernel "$guest" --mem 0);               pattern="--mem" ;;
  mem-huge)         args=(--kernel "$guest" --mem 512T);            pattern="--mem" ;;
  mem-garbage)      args=(--kernel "$guest" --mem lots); status=2;  pattern="--mem: 'lots' is not a size" ;;
  cpus-zero)        args=(--kernel "$guest" --cpus 0);              pattern="--cpus: 0 is out of range" ;;
  cpus-too-many)    args=(--kernel "$guest" --cpus 1000);           pattern="--cpus: 1000 is out of range" ;;
  unknown-option)   args=(--kernel "$guest" --frobnicate); status=2; pattern="unknown option '--frobnicate'" ;;
  missing-value)    args=(--kernel); status=2;                      pattern="--kernel needs a value" ;;
  unknown-accel)    args=(--kernel "$guest" --accel xen); status=2; pattern="unknown engine 'xen'" ;;
  no-kernel)        args=(--mem 64M); status=2;                     pattern="--kernel PATH is required" ;;
  bad-console)      args=(--kernel "$guest" --console tty9); status=2; pattern="--console" ;;
  kvm-unusable)
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
      echo "skipped: /dev/kvm exists here, so --accel kvm is not bad input"; exit 77
    fi
    args=(--kernel "$guest" --accel kvm);                           pattern="--accel kvm: /dev/kvm" ;;
  *) echo "unknown case $case"; exit 1 ;;
esac

timeout 60 "$brume" run --console none "${args[@]}" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
echo "brume run ${args[*]} -> exit $rc"
cat "$tmp/err"
lines=$(wc -l < "$tmp/err")
fail=0
if [ $rc -ne $status ]; then echo "FAIL: exit status $rc, expected $status"; fail=1; fi
if [ "$lines" -ne 1 ]; then echo "FAIL: $lines lines on stderr, expected exactly one"; fail=1; fi
if ! grep -Eq -- "$pattern" "$tmp/err"; then echo "FAIL: stderr does not match /$pattern/"; fail=1; fi
if ! grep -q '^brume: ' "$tmp/err"; then echo "FAIL: message does not start with 'brume: '"; fail=1; fi
exit $fail
