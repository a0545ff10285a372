#!/usr/bin/env bash
# Disk benchmark: virtio-blk on brume's emu engine against QEMU's TCG.
#
# Boots Debian's cloud kernel with the busybox initramfs (virtio modules in)
# and the same raw image as a virtio-blk disk, on `brume run --accel emu`
# (io_uring back-end, then BRUME_NO_IO_URING=1: the worker thread) and on
# `qemu-system-x86_64 -M microvm -accel tcg` (-device virtio-blk-device,
# QEMU's defaults: cache=writeback, aio=threads). In the guest, with
# O_DIRECT so every block reaches the device:
#
#   seq write   dd if=/dev/zero of=/dev/vda bs=1M count=SEQ_MB oflag=direct
#   seq read    dd if=/dev/vda of=/dev/null bs=1M count=SEQ_MB iflag=direct
#   rand read   RAND_OPS x dd bs=4096 count=1 skip=$RANDOM iflag=direct
#   rand write  RAND_OPS x dd bs=4096 count=1 seek=$RANDOM oflag=direct
#   null loop   RAND_OPS x dd if=/dev/zero of=/dev/null bs=4096 count=1
#
# busybox has no fio, so a random op is one dd process: the "null loop"
# (same loop, no disk) shows how much of a random op is process start-up.
# Each phase is timed twice: by the guest's clock (/proc/uptime, 10 ms
# steps: MB/s and IOPS) and by the host CPU time the VM process spent in
# it (utime+stime from /proc/PID/stat, sampled while the guest sleeps
# between phases), which a loaded host does not distort. Prints both and
# the ratios brume/QEMU (above 1: brume faster or cheaper).
#
# QEMU's guest gets tsc_early_khz=TSC_KHZ (default: the host's "cpu MHz"):
# microvm has no HPET or PM timer, and on a busy host Linux's TSC
# calibration against the PIT fails and the boot stalls. TCG's guest TSC is
# the host's, so this is its true rate. brume tells the guest its TSC rate.
#
#   bench/disk.sh                     SEQ_MB=128 (at most 128) RAND_OPS=200
#   BRUME=./build/brume SEQ_MB=32 RAND_OPS=100 bench/disk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
brume=${BRUME:-./build/brume}
seq_mb=${SEQ_MB:-128}
rand_ops=${RAND_OPS:-200}
mem=${MEM:-512M}
limit=${BENCH_TIMEOUT:-1800}
[ "$seq_mb" -le 128 ] || { echo "disk.sh: SEQ_MB is at most 128 (the disk's size)" >&2; exit 1; }
[ -x "$brume" ] || { echo "disk.sh: $brume not found (build first: make)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "disk.sh: qemu-system-x86_64 not found (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/brume-bench-disk-XXXXXX)
trap 'rm -rf "$work"' EXIT
kernel=$(scripts/guest-kernel.sh)
modules=$(scripts/guest-kernel.sh --modules)

# 128 MiB = 32768 blocks of 4 KiB: $RANDOM (0..32767) picks any of them.
# Random data, so reads are not served from holes.
img=$work/disk.raw
dd if=/dev/urandom of="$img" bs=1M count=128 status=none

cat > "$work/workload.sh" <<EOF
#!/bin/sh
SEQ_MB=$seq_mb
RAND_OPS=$rand_ops
EOF
cat >> "$work/workload.sh" <<'EOF'
now() { cut -d' ' -f1 /proc/uptime; }
# "g: mark" lines let the host sample its CPU time; the sleeps keep the
# guest idle while it does.
mark() { echo "g: mark $1"; sleep 1; }
phase() { # NAME COMMAND...: runs, prints "g: time NAME SECONDS"
  local name=$1 t0 t1; shift
  mark "$name-start"
  t0=$(now)
  "$@"
  t1=$(now)
  echo "g: time $name $t0 $t1"
  mark "$name-end"
}
[ -b /dev/vda ] || { echo "g: no /dev/vda"; exit 1; }
seqw() { dd if=/dev/zero of=/dev/vda bs=1M count=$SEQ_MB oflag=direct 2>/dev/null || echo "g: error seqwrite"; }
seqr() { dd if=/dev/vda of=/dev/null bs=1M count=$SEQ_MB iflag=direct 2>/dev/null || echo "g: error seqread"; }
randr() {
  local i=0
  while [ $i -lt $RAND_OPS ]; do
    dd if=/dev/vda of=/dev/null bs=4096 count=1 skip=$RANDOM iflag=direct 2>/dev/null || echo "g: error randread"
    i=$((i + 1))
  done
}
randw() {
  local i=0
  while [ $i -lt $RAND_OPS ]; do
    dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=$RANDOM oflag=direct 2>/dev/null || echo "g: error randwrite"
    i=$((i + 1))
  done
}
nullloop() {
  local i=0
  while [ $i -lt $RAND_OPS ]; do
    dd if=/dev/zero of=/dev/null bs=4096 count=1 2>/dev/null
    i=$((i + 1))
  done
}
phase seqwrite seqw
phase seqread seqr
phase randread randr
phase randwrite randw
phase null nullloop
echo "g: bench done"
EOF
chmod +x "$work/workload.sh"
initrd=$work/initrd.gz
scripts/mkinitramfs.sh -o "$initrd" --modules "$modules" --workload "$work/workload.sh" >/dev/null
cmdline="console=ttyS0 reboot=k panic=1 quiet"
tsc_khz=${TSC_KHZ:-$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}

cpu_ticks() { # PID: utime+stime of the process, in clock ticks
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  awk '{ print $12 + $13 }' <<<"$s"
}

# run NAME COMMAND...: boots, samples CPU at every mark; writes
# $work/NAME.marks ("mark ticks" lines) and $work/NAME.txt (console).
run() {
  local name=$1 pid seen=0 t0 n line ticks; shift
  : > "$work/$name.marks"
  "$@" </dev/null >"$work/$name.console" 2>"$work/$name.stderr" &
  pid=$!
  t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - t0)) -gt "$limit" ]; then
      kill "$pid"; wait "$pid" || true
      echo "disk.sh: $name did not finish in $limit s" >&2; return 1
    fi
    # the mark first, then the sample: it falls in the guest's sleep
    n=$(grep -c '^g: mark ' "$work/$name.console" 2>/dev/null) || true
    n=${n:-0}
    if [ "$n" -gt "$seen" ]; then
      ticks=$(cpu_ticks "$pid") || break
      tr -d '\r' < "$work/$name.console" | grep '^g: mark ' | sed -n "$((seen + 1)),${n}p" |
        while read -r _ _ m; do echo "$m $ticks"; done >> "$work/$name.marks"
      seen=$n
    fi
    sleep 0.2
  done
  wait "$pid" || { echo "disk.sh: $name exited with $?" >&2; tail -5 "$work/$name.console" "$work/$name.stderr" >&2; return 1; }
  tr -d '\r' < "$work/$name.console" > "$work/$name.txt"
  grep -q '^g: bench done' "$work/$name.txt" ||
    { echo "disk.sh: $name: the guest did not finish:" >&2; tail -10 "$work/$name.txt" >&2; return 1; }
  if grep '^g: error' "$work/$name.txt" >&2; then
    echo "disk.sh: $name: I/O errors in the guest" >&2; return 1
  fi
}

hz=$(getconf CLK_TCK)
# figures NAME PHASE: "guest_seconds cpu_seconds"
figures() {
  local g c0 c1
  g=$(awk -v p="$2" '$1 == "g:" && $2 == "time" && $3 == p { print $5 - $4 }' "$work/$1.txt")
  c0=$(awk -v m="$2-start" '$1 == m { print $2 }' "$work/$1.marks")
  c1=$(awk -v m="$2-end" '$1 == m { print $2 }' "$work/$1.marks")
  echo "$g $(echo "($c1 - $c0) / $hz" | bc -l)"
}

echo "== brume emu, io_uring"
run brume-uring env -u BRUME_NO_IO_URING "$brume" run --accel emu --mem "$mem" --kernel "$kernel" --initrd "$initrd" \
  --append "$cmdline" --console stdio --disk "$img,format=raw"
echo "== brume emu, worker thread (BRUME_NO_IO_URING=1)"
run brume-thread env BRUME_NO_IO_URING=1 "$brume" run --accel emu --mem "$mem" --kernel "$kernel" --initrd "$initrd" \
  --append "$cmdline" --console stdio --disk "$img,format=raw"
echo "== qemu tcg microvm"
run qemu qemu-system-x86_64 -M microvm -accel tcg -m "$mem" -nodefaults -no-user-config -nographic \
  -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$cmdline tsc_early_khz=$tsc_khz" \
  -drive "file=$img,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0

# One line per phase: value per guest second and per host CPU second.
report() { # PHASE UNIT AMOUNT
  local phase=$1 unit=$2 amount=$3 v g c
  printf '%-10s' "$phase"
  for v in brume-uring brume-thread qemu; do
    read -r g c < <(figures "$v" "$phase")
    printf '  %9.1f %-4s %9.1f /cpu-s' "$(echo "$amount / $g" | bc -l)" "$unit" "$(echo "$amount / $c" | bc -l)"
    eval "g_$(tr - _ <<<"$v")=$g c_$(tr - _ <<<"$v")=$c"
  done
  # shellcheck disable=SC2154  # set by the eval above
  printf '   ratio brume/qemu %.2f (guest time), %.2f (cpu)\n' \
    "$(echo "$g_qemu / $g_brume_uring" | bc -l)" "$(echo "$c_qemu / $c_brume_uring" | bc -l)"
}
echo
echo "phase        brume io_uring                      brume thread                        qemu tcg"
report seqwrite MB/s "$seq_mb"
report seqread MB/s "$seq_mb"
report randread IOPS "$rand_ops"
report randwrite IOPS "$rand_ops"
report null ops/s "$rand_ops"
echo "(per guest second, and per host CPU second of the VM process; ratios for brume io_uring)"
echo "kernel: $(basename "$(dirname "$kernel")"), mem $mem, SEQ_MB=$seq_mb RAND_OPS=$rand_ops," \
     "host: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
