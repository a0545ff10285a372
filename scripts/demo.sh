#!/usr/bin/env bash
# Boots the default Debian guest: Debian's current cloud kernel
# (scripts/guest-kernel.sh) with a busybox initramfs (scripts/mkinitramfs.sh),
# on the engine brume picks (--accel auto). Extra arguments go to
# `brume run` (e.g. --cpus 2 --mem 1G --accel emu). Exits with brume's status.
#
# The guest prints lines starting with "brume-guest: " (kernel release,
# CPUs, MemTotal) and powers off.
set -euo pipefail
cd "$(dirname "$0")/.."

brume=${BRUME:-./build/brume}
[ -x "$brume" ] || { echo "demo: $brume not found; run make first" >&2; exit 1; }

kernel=$(scripts/guest-kernel.sh --kernel)
modules=$(scripts/guest-kernel.sh --modules)
initrd=$(scripts/mkinitramfs.sh --modules "$modules")

echo "demo: $brume run --kernel $kernel --initrd $initrd $*" >&2
exec "$brume" run --kernel "$kernel" --initrd "$initrd" "$@"
