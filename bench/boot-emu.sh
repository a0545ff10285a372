#!/usr/bin/env bash
# Boot-and-workload benchmark: brume's emu engine against QEMU's TCG.
#
# Boots Debian's current cloud kernel with the busybox initramfs, in one run,
# with `brume run --accel emu` and with `qemu-system-x86_64 -M microvm -accel
# tcg`, each to init, the workload of tests/e2e/workload.sh, and power-off;
# RUNS times each, alternating. Prints the medians and the ratio brume/QEMU.
# Run it on an otherwise idle machine: QEMU's microvm calibrates its TSC
# against the PIT, which fails when the host is busy.
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

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_timed() { # prints seconds; fails if the guest did not finish its workload
  local out start end
  out=$(mktemp)
  start=$(date +%s.%N)
  # A bound, never a hang: QEMU's microvm has no PM timer or HPET, and on a
  # loaded host its PIT calibration of the TSC can fail and stall the boot.
  timeout "${BENCH_TIMEOUT:-900}" "$@" > "$out" 2>&1 ||
    { echo "bench: '$*' failed or timed out:" >&2; tail -5 "$out" >&2; rm -f "$out"; return 1; }
  end=$(date +%s.%N)
  grep -q "workload: done" "$out" || { echo "bench: no 'workload: done' from $1" >&2; tail -5 "$out" >&2; rm -f "$out"; return 1; }
  rm -f "$out"
  echo "$end - $start" | bc -l
}

brume_times=() qemu_times=()
for i in $(seq 1 "$runs"); do
  brume_times+=("$(run_timed "$brume" run --accel emu --mem "$mem" --kernel "$kernel" --initrd "$initrd" \
                    --append "$cmdline" --console stdio </dev/null)")
  qemu_times+=("$(run_timed qemu-system-x86_64 -M microvm -accel tcg -m "$mem" -nodefaults -no-user-config \
                   -nographic -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$cmdline" </dev/null)")
  echo "run $i: brume ${brume_times[-1]} s, qemu ${qemu_times[-1]} s"
done
b=$(printf '%s\n' "${brume_times[@]}" | median)
q=$(printf '%s\n' "${qemu_times[@]}" | median)
printf 'boot+workload median over %d runs: brume emu %.2f s, qemu tcg %.2f s, ratio brume/qemu %.2f\n' \
  "$runs" "$b" "$q" "$(echo "$b / $q" | bc -l)"
echo "kernel: $(basename "$(dirname "$kernel")"), mem $mem, host: $(nproc) cores, $(uname -r)"
