#!/usr/bin/env bash
# Runs every benchmark against its QEMU peer, in one go. Figures go to
# bench/RESULTS.md by hand, with the command and the machine. Run on an
# otherwise idle machine: both sides are timed by the wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== boot and workload: brume emu vs QEMU TCG"
bench/boot-emu.sh "${RUNS:-5}"
echo "== guest instructions per second: brume emu vs QEMU TCG (cpuloop guest)"
bench/insn-rate.sh
echo "== disk images: brume img vs qemu-img, qcow2 vs raw"
bench/img.sh
echo "== virtio-blk disk: brume emu (io_uring, thread) vs QEMU TCG"
bench/disk.sh
echo "== network: guest-to-host TCP through user-mode networking, brume emu vs QEMU TCG"
bench/net.sh "${RUNS:-3}"
