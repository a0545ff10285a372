#!/usr/bin/env bash
# Boot-and-workload benchmark: brume's emu engine against QEMU's TCG.
#
# Boots Debian's current cloud kernel with the busybox initramfs, in one run,
# with `brume run --accel emu` and with `qemu-system-x86_64 -M microvm -accel
# tcg`, each to init, the workload of tests/e2e/workload.sh, and power-off;
# RUNS times each, alternating. Prints the medians and the ratio brume/QEMU.
# QEMU's microvm has no PM timer or HPET, so its guest calibrates the TSC
# against the PIT, which fails on a busy host and then stalls the boot; its
# guest therefore gets tsc_early_khz= the host's TSC rate (TCG's TSC is the
# host's; override with TSC_KHZ). brume's guest reads its TSC rate from
# CPUID 0x15 and needs no calibration either. Both wall-clock and CPU time
# (user+sys) are reported: on a loaded host only the CPU figure means much.
#
#   bench/boot-emu.sh [RUNS]          (default 5)
#   BRUME=./build/brume MEM=512M bench/boot-emu.sh 3
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
brume=${BRUME:-./build/brume}
mem=${MEM:-512M}
kernel=$(scripts/guest-kernel.sh)
initrd=$(scripts/mkinitramfs.sh --workload tests/e2e/workload.sh)
cmdline="console=ttyS0 reboot=k panic=1 quiet"
tsc_khz=${TSC_KHZ:-$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_timed() { # prints "wall cpu" seconds; fails if the guest did not finish its workload
  local out times TIMEFORMAT='%R %U %S'
  out=$(mktemp) times=$(mktemp)
  # A bound, never a hang.
  { time timeout "${BENCH_TIMEOUT:-900}" "$@" > "$out" 2>&1; } 2> "$times" ||
    { echo "bench: '$*' failed or timed out:" >&2; tail -5 "$out" >&2; rm -f "$out" "$times"; return 1; }
  grep -q "workload: done" "$out" || { echo "bench: no 'workload: done' from $1" >&2; tail -5 "$out" >&2; rm -f "$out" "$times"; return 1; }
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$times"
  rm -f "$out" "$times"
}

brume_wall=() brume_cpu=() qemu_wall=() qemu_cpu=()
for i in $(seq 1 "$runs"); do
  read -r w c < <(run_timed "$brume" run --accel emu --mem "$mem" --kernel "$kernel" --initrd "$initrd" \
                    --append "$cmdline" --console stdio </dev/null)
  brume_wall+=("$w") brume_cpu+=("$c")
  read -r w c < <(run_timed qemu-system-x86_64 -M microvm -accel tcg -m "$mem" -nodefaults -no-user-config \
                   -nographic -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" \
                   -append "$cmdline tsc_early_khz=$tsc_khz" </dev/null)
  qemu_wall+=("$w") qemu_cpu+=("$c")
  echo "run $i: brume ${brume_wall[-1]} s wall, ${brume_cpu[-1]} s CPU; qemu ${qemu_wall[-1]} s wall, ${qemu_cpu[-1]} s CPU"
done
for kind in wall cpu; do
  declare -n bs=brume_$kind qs=qemu_$kind
  b=$(printf '%s\n' "${bs[@]}" | median)
  q=$(printf '%s\n' "${qs[@]}" | median)
  printf 'boot+workload median %s time over %d runs: brume emu %.2f s, qemu tcg %.2f s, ratio brume/qemu %.2f\n' \
    "$kind" "$runs" "$b" "$q" "$(echo "$b / $q" | bc -l)"
done
# Each run pairs a brume boot with a QEMU boot a few seconds apart, so the
# ratio within a run cancels most of a shared slowdown of the machine; its
# median is the steadier figure when the host's speed drifts during the runs.
ratios=()
for k in "${!brume_cpu[@]}"; do
  ratios+=("$(echo "${brume_cpu[$k]} / ${qemu_cpu[$k]}" | bc -l)")
done
printf 'median of the per-run CPU-time ratios brume/qemu over %d runs: %.2f\n' "$runs" \
  "$(printf '%s\n' "${ratios[@]}" | median)"
echo "kernel: $(basename "$(dirname "$kernel")"), mem $mem, host: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
