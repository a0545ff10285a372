#!/usr/bin/env bash
# Boots one test guest on one engine and judges the outcome.
#
#   tests/guests/run-guest.sh ENGINE GUEST [brume run options...]
#
# ENGINE is kvm or emu; GUEST a guest name (boot_params, timer, smp, rtc, cpuloop,
# triple_fault, wild_jump, reset). Runs ./build/brume (or $BRUME) on
# $BRUME_GUEST_DIR/guest-GUEST.elf under a timeout ($BRUME_GUEST_TIMEOUT,
# 120 s: the emu engine is an interpreter), checks the exit status and the
# output, and exits 0 (pass), 1 (fail) or 77 (skipped: kvm without a
# usable /dev/kvm). The guest's and brume's output is printed for the log.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 ENGINE GUEST [brume run options...]" >&2
  exit 2
fi
engine=$1 guest=$2
shift 2
brume=${BRUME:-./build/brume}
dir=${BRUME_GUEST_DIR:-./build/tests/guests}
elf=$dir/guest-$guest.elf
limit=${BRUME_GUEST_TIMEOUT:-120}

fail() { echo "run-guest: FAIL ($engine/$guest): $*"; exit 1; }

case "$engine" in
  kvm|emu) ;;
  *) echo "run-guest: unknown engine '$engine' (kvm or emu)" >&2; exit 2 ;;
esac
[ -x "$brume" ] || fail "no brume binary at $brume (run make first)"
[ -f "$elf" ] || fail "no guest image at $elf"

if [ "$engine" = kvm ]; then
  # Usable means: openable read-write, the stable API, and a VM can be made.
  if ! python3 - <<'PY' 2>/dev/null
import fcntl, os
fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
assert fcntl.ioctl(fd, 0xAE00) == 12          # KVM_GET_API_VERSION
os.close(fcntl.ioctl(fd, 0xAE01, 0))          # KVM_CREATE_VM
PY
  then
    echo "skipped: no usable /dev/kvm"
    exit 77
  fi
fi

args=("$@")
opt_value() {   # prints the value of option $1 in args, if any
  local i
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [ "${args[i]}" = "$1" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
      echo "${args[i + 1]}"
      return 0
    fi
  done
  return 1
}
size_bytes() {  # 256M -> 268435456 (K, M, G, T; powers of 1024)
  local v=${1%[iI][bB]} mult=1
  case "$v" in
    *[kK]) mult=$((1 << 10)) v=${v%?} ;;
    *[mM]) mult=$((1 << 20)) v=${v%?} ;;
    *[gG]) mult=$((1 << 30)) v=${v%?} ;;
    *[tT]) mult=$((1 << 40)) v=${v%?} ;;
  esac
  [[ "$v" =~ ^[0-9]+$ ]] || return 1
  echo $((v * mult))
}

mem=$(opt_value --mem) || { mem=256M; args+=(--mem "$mem"); }
mem_bytes=$(size_bytes "$mem") || fail "cannot parse --mem $mem"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
append=""
case "$guest" in
  boot_params)
    # A random initrd of a random, odd size: the guest checks its CRC-32.
    head -c $((100000 + RANDOM * 7 + 1)) /dev/urandom > "$tmp/initrd"
    read -r isize icrc < <(python3 -c 'import sys, zlib; d = open(sys.argv[1], "rb").read(); print(len(d), zlib.crc32(d))' "$tmp/initrd")
    append="console=ttyS0 expect_mem=$mem_bytes expect_initrd_size=$isize expect_initrd_crc=$icrc token=brume-$RANDOM$RANDOM"
    args+=(--initrd "$tmp/initrd" --append "$append")
    ;;
  smp)
    opt_value --cpus >/dev/null || args+=(--cpus 2)
    ;;
  cpuloop)
    # The same workload natively gives the checksum the guest must print.
    iters=${CPULOOP_ITERS:-20}
    expect=$("$dir/cpuwork-host" "$iters") || fail "cannot run $dir/cpuwork-host"
    append="console=ttyS0 iters=$iters expect=$expect"
    args+=(--append "$append")
    ;;
esac

log=$tmp/out
echo "run-guest: $brume run --kernel $elf --accel $engine --console stdio ${args[*]}"
timeout -k 5 "$limit" "$brume" run --kernel "$elf" --accel "$engine" --console stdio "${args[@]}" \
  > "$log" 2>&1 < /dev/null
rc=$?
cat "$log"
echo "run-guest: brume exited with status $rc"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  fail "timed out after $limit s"
fi

passed() { grep -q '^guest: PASS' "$log" && ! grep -q '^guest: FAIL' "$log"; }
case "$guest" in
  boot_params|timer|smp|rtc|cpuloop)
    [ $rc -eq 0 ] || fail "brume exited with status $rc"
    passed || fail "the guest did not report PASS"
    ;;
esac
case "$guest" in
  boot_params)
    grep -qxF "cmdline: $append" "$log" || fail "the guest saw another command line"
    ;;
  rtc)
    ts=$(sed -n 's/^rtc: \([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}Z\)$/\1/p' "$log" | tail -n1)
    [ -n "$ts" ] || fail "no rtc timestamp in the output"
    guest_s=$(date -u -d "$ts" +%s) || fail "unparsable timestamp $ts"
    host_s=$(date -u +%s)
    delta=$((host_s - guest_s))
    delta=${delta#-}
    echo "run-guest: guest clock $ts, host $(date -u +%Y-%m-%dT%H:%M:%SZ), off by ${delta}s"
    [ "$delta" -le 300 ] || fail "the guest's clock is ${delta}s away from the host's"
    ;;
  triple_fault)
    grep -q '^triple_fault: loading an empty IDT' "$log" || fail "the guest never reached ud2"
    [ $rc -ne 0 ] || fail "brume exited 0 after a triple fault"
    grep -qi 'triple fault' "$log" || fail "no 'triple fault' message"
    ;;
  wild_jump)
    grep -q '^wild_jump: jumping to' "$log" || fail "the guest never reached the jump"
    [ $rc -ne 0 ] || fail "brume exited 0 after a wild jump"
    passed && fail "the guest went on running"
    grep -q '^brume: ' "$log" || fail "brume printed no error"
    ;;
  reset)
    [ $rc -eq 0 ] || fail "brume exited with status $rc after a reset"
    grep -q '^reset: writing 0xFE' "$log" || fail "the guest never reached the reset"
    grep -q '^guest: FAIL' "$log" && fail "the guest reported a failure"
    ;;
  cpuloop)
    grep -qx "cpuloop: iters=$iters checksum=$expect" "$log" || fail "no checksum $expect from the guest"
    ;;
  timer|smp)
    ;;   # PASS and status 0, checked above, are the whole judgement
  *)
    fail "no judgement known for guest '$guest'"
    ;;
esac
echo "run-guest: PASS ($engine/$guest)"
exit 0
