#!/usr/bin/env bash
# Installs the Debian packages brume needs to build, test and benchmark,
# and only those that are missing, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  # libraries brume links against
  libslirp-dev libglib2.0-dev liburing-dev zlib1g-dev libzstd-dev libseccomp-dev libjson-c-dev
  # guests: kernel package extraction, initramfs and root-disk builders
  cpio busybox-static e2fsprogs debootstrap xz-utils zstd kmod
  # ACPI table checks (iasl disassembles what src/boot/acpi.c builds)
  acpica-tools
  # peers for interop tests and benchmarks
  qemu-system-x86 qemu-utils bc
  # real clients used by end-to-end tests
  openssh-client curl python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
