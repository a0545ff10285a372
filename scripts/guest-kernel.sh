#!/usr/bin/env bash
# Fetches Debian's current cloud kernel and prints the path of its vmlinuz.
#
#   scripts/guest-kernel.sh            -> /home/u/.cache/brume/kernel/<pkg>_<ver>/vmlinuz
#   scripts/guest-kernel.sh --modules  -> the lib/modules/<release> folder
#   scripts/guest-kernel.sh --config   -> the kernel's config-<release>
#   scripts/guest-kernel.sh --release  -> the release string (uname -r)
#
# The versioned package is resolved at run time from the metapackage
# linux-image-cloud-amd64 (never hard-coded), downloaded with
# `apt-get download` (no root needed) and unpacked with dpkg-deb into
# ${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}/kernel/<package>_<version>.
# A second run with the same package version reuses the cache and needs no
# network. Messages go to stderr; stdout carries only the requested path.
set -euo pipefail

meta=${BRUME_KERNEL_META:-linux-image-cloud-amd64}
cache=${BRUME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brume}
what=${1:---kernel}

die() { echo "guest-kernel: $*" >&2; exit 1; }

case "$what" in
  --kernel|--modules|--config|--release) ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$what' (try --help)" ;;
esac

command -v apt-cache >/dev/null || die "apt-cache not found (a Debian host is needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# The metapackage depends on exactly one versioned image package.
resolve() {
  apt-cache depends "$meta" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(resolve)
# A fresh machine may have no package lists yet: fetch them once if we can.
if [ -z "$pkg" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >&2 || true
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq >&2 || true
  fi
  pkg=$(resolve)
fi
[ -n "$pkg" ] || die "cannot resolve $meta with apt-cache (is the package list up to date? try apt-get update)"
version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
[ -n "$version" ] || die "apt-cache knows no version of $pkg"
release=${pkg#linux-image-}

dir=$cache/kernel/${pkg}_${version}
if [ ! -f "$dir/.complete" ]; then
  echo "guest-kernel: fetching $pkg $version into $dir" >&2
  mkdir -p "$cache/kernel"
  tmp=$(mktemp -d "$cache/kernel/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the current directory. As root, apt would
  # drop to its _apt user, which cannot write into our private folder.
  sandbox=()
  [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
  (cd "$tmp" && apt-get download -q "${sandbox[@]}" "$pkg=$version" >&2) ||
    die "apt-get download $pkg=$version failed"
  deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "apt-get download produced no .deb"
  dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
  [ -f "$tmp/root/boot/vmlinuz-$release" ] || die "$pkg has no boot/vmlinuz-$release"
  mkdir -p "$tmp/out/modules"
  mv "$tmp/root/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
  if [ -f "$tmp/root/boot/config-$release" ]; then
    mv "$tmp/root/boot/config-$release" "$tmp/out/config-$release"
  fi
  if [ -d "$tmp/root/lib/modules/$release" ]; then
    mv "$tmp/root/lib/modules/$release" "$tmp/out/modules/$release"
  fi
  echo "$release" > "$tmp/out/release"
  touch "$tmp/out/.complete"
  rm -rf "$dir"
  mv "$tmp/out" "$dir"
fi

case "$what" in
  --kernel)  echo "$dir/vmlinuz" ;;
  --modules) echo "$dir/modules/$release" ;;
  --config)  echo "$dir/config-$release" ;;
  --release) echo "$release" ;;
esac
