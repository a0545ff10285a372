#!/usr/bin/env bash
# Network benchmark: guest-to-host TCP throughput through user-mode
# networking (libslirp on both sides), brume's emu engine against QEMU TCG.
#
# Both boot Debian's current cloud kernel with the busybox initramfs
# (scripts/mkinitramfs.sh --modules ... --workload ...): brume with
# `--accel emu --net user`, QEMU with `-M microvm -accel tcg -netdev user
# -device virtio-net-device`. The guest takes 10.0.2.15 (static, as slirp's
# DHCP would give it), then pipes MB megabytes from /dev/zero into busybox
# nc towards 10.0.2.2:PORT, i.e. a listener on the host's 127.0.0.1. The
# listener (python3) counts the bytes and times the transfer from accept()
# to the end of stream: boot time is not in the figure. It also reads the
# VMM process's user+sys CPU time at both ends, so a second figure, MB per
# CPU-second, stays meaningful on a loaded machine, where MB/s (wall
# clock) does not. RUNS runs of each, alternating; prints each run, the
# medians (MB = 10^6 bytes) and the ratios brume/QEMU.
#
#   bench/net.sh [RUNS]                  (default 3)
#   MB=32 BRUME=./build/brume bench/net.sh 5
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
brume=${BRUME:-./build/brume}
mb=${MB:-16}
mem=${MEM:-512M}
command -v python3 >/dev/null || { echo "bench/net.sh: python3 not found" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "bench/net.sh: qemu-system-x86_64 not found" >&2; exit 1; }
[ -x "$brume" ] || { echo "bench/net.sh: $brume not built (make)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/brume-bench-net.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
kernel=$(scripts/guest-kernel.sh)
modules=$(scripts/guest-kernel.sh --modules)
cmdline="console=ttyS0 reboot=k panic=1 quiet"

# The host listener, for the whole benchmark: it accepts one connection
# per run, counts to the end of the stream, and appends "BYTES SECONDS" to
# its output file. It listens on a port the kernel chooses, which goes into
# the guest's script.
cat > "$tmp/sink.py" <<'P'
import os, socket, sys, time
out, portfile, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]
hz = os.sysconf("SC_CLK_TCK")
def cpu():  # user+sys seconds of the VMM process (all its threads), or -1
    try:
        pid = open(pidfile).read().strip()
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / hz
    except (OSError, ValueError, IndexError):
        return -1.0
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(4)
with open(portfile, "w") as f:
    f.write(str(ls.getsockname()[1]))
buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept()
    t0, c0 = time.monotonic(), cpu()
    n = 0
    while True:
        k = c.recv_into(buf)
        if not k:
            break
        n += k
    t1, c1 = time.monotonic(), cpu()
    c.close()
    with open(out, "a") as f:
        f.write("%d %.6f %.2f\n" % (n, t1 - t0, c1 - c0 if c0 >= 0 and c1 >= 0 else -1))
P
: > "$tmp/sink.out"
timeout 7200 python3 "$tmp/sink.py" "$tmp/sink.out" "$tmp/port" "$tmp/vmm.pid" & sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "bench/net.sh: the host listener did not start" >&2; exit 1; }
port=$(cat "$tmp/port")

# The guest's side. Static address: what slirp's DHCP would give, without
# the DHCP exchange.
bytes=$((mb * 1000000 / 65536 * 65536))
cat > "$tmp/send.sh" <<N
#!/bin/sh
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
route add default gw 10.0.2.2
dd if=/dev/zero bs=65536 count=$((bytes / 65536)) 2>/dev/null | nc 10.0.2.2 $port
echo "net-bench: nc status \$?"
N
# QEMU's microvm has no HPET or PM timer, and on TCG the kernel's TSC
# calibration against the PIT fails on a busy host ("Unable to calibrate
# against PIT") and the boot stalls: QEMU gets the host's TSC rate (what its
# TCG rdtsc counts at) as a hint. Only QEMU: brume's clocks need none.
tsc_khz=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
qemu_cmdline="$cmdline${tsc_khz:+ tsc_early_khz=$tsc_khz}"
initrd=$tmp/initrd.gz
scripts/mkinitramfs.sh -o "$initrd" --modules "$modules" --workload "$tmp/send.sh" >/dev/null

# run_one COMMAND...: one boot; prints "MB/s CPU-seconds" (the VMM's
# user+sys during the transfer), or fails with the console's tail.
run_one() {
  local before line n secs cpu vmm t0
  before=$(wc -l < "$tmp/sink.out")
  "$@" </dev/null >"$tmp/console" 2>&1 & vmm=$!
  echo $vmm > "$tmp/vmm.pid"
  t0=$(date +%s)
  while kill -0 $vmm 2>/dev/null && [ $(($(date +%s) - t0)) -lt "${BENCH_TIMEOUT:-1200}" ]; do sleep 0.5; done
  if kill -0 $vmm 2>/dev/null; then
    kill $vmm; wait $vmm
    echo "bench/net.sh: '$1' timed out; console tail:" >&2; tail -5 "$tmp/console" >&2; return 1
  fi
  wait $vmm || { echo "bench/net.sh: '$1' failed; console tail:" >&2; tail -5 "$tmp/console" >&2; return 1; }
  line=$(sed -n "$((before + 1))p" "$tmp/sink.out")
  read -r n secs cpu <<<"$line" || true
  if [ "${n:-0}" != "$bytes" ]; then
    echo "bench/net.sh: $1: the host received ${n:-nothing} bytes, expected $bytes; console tail:" >&2
    tail -5 "$tmp/console" >&2; return 1
  fi
  echo "$(echo "$n / $secs / 1000000" | bc -l) $cpu"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "guest -> host TCP, $bytes bytes per run, $runs runs each (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
brume_r=() qemu_r=() brume_c=() qemu_c=()
for i in $(seq 1 "$runs"); do
  read -r r c <<<"$(run_one "$brume" run --accel emu --mem "$mem" --kernel "$kernel" --initrd "$initrd" \
                     --append "$cmdline" --console stdio --net user)"
  brume_r+=("$r") brume_c+=("$c")
  read -r r c <<<"$(run_one qemu-system-x86_64 -M microvm -accel tcg -m "$mem" -nodefaults -no-user-config \
                     -nographic -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$qemu_cmdline" \
                     -netdev user,id=n0 -device virtio-net-device,netdev=n0)"
  qemu_r+=("$r") qemu_c+=("$c")
  printf 'run %d: brume emu %.2f MB/s (%s s CPU), qemu tcg %.2f MB/s (%s s CPU)\n' \
    "$i" "${brume_r[-1]}" "${brume_c[-1]}" "${qemu_r[-1]}" "${qemu_c[-1]}"
done
b=$(printf '%s\n' "${brume_r[@]}" | median)
q=$(printf '%s\n' "${qemu_r[@]}" | median)
bc_=$(printf '%s\n' "${brume_c[@]}" | median)
qc_=$(printf '%s\n' "${qemu_c[@]}" | median)
mbytes=$(echo "$bytes / 1000000" | bc -l)
printf 'guest->host TCP, medians over %d runs: brume emu %.2f MB/s, qemu tcg %.2f MB/s, ratio brume/qemu %.2f\n' \
  "$runs" "$b" "$q" "$(echo "$b / $q" | bc -l)"
printf 'VMM CPU (user+sys) per transfer: brume %.2f s, qemu %.2f s: %.2f vs %.2f MB per CPU-second, ratio %.2f\n' \
  "$bc_" "$qc_" "$(echo "$mbytes / $bc_" | bc -l)" "$(echo "$mbytes / $qc_" | bc -l)" \
  "$(echo "$qc_ / $bc_" | bc -l)"
echo "kernel: $(basename "$(dirname "$kernel")"), mem $mem, host: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
