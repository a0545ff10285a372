# Shared by the virtio/image end-to-end tests (sourced, not run): fetches
# Debian's cloud kernel and its modules once, and boots a guest on the emu
# engine with an initramfs whose /workload is the given script. The
# console (CR stripped) lands in $tmp/NAME.txt; guest lines the tests look
# at start with "g: ".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
cleanup_hooks=()
e2e_cleanup() {
  # Only the test's own shell cleans up. A subshell killed in the instant
  # after fork(), before bash resets its traps, runs this EXIT trap too:
  # that once removed $tmp under the still-running test (virtio_net.sh
  # read "nothing" from every result file in 2 of 4 meson runs).
  [ "$BASHPID" = "$$" ] || return 0
  local h
  for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h"; done
  rm -rf "$tmp"
}
trap e2e_cleanup EXIT

skip() { echo "skipped: $*"; exit 77; }
need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$c" >/dev/null ||
      skip "$c not found (scripts/install-deps.sh)"
  done
}
export PATH=$PATH:/sbin:/usr/sbin

e2e_kernel() {
  kernel=$("$top/scripts/guest-kernel.sh") || { echo "FAIL: cannot fetch the guest kernel"; exit 1; }
  modules=$("$top/scripts/guest-kernel.sh" --modules) || { echo "FAIL: cannot fetch the kernel's modules"; exit 1; }
}

# e2e_boot NAME WORKLOAD [brume run options...]: returns brume's status.
e2e_boot() {
  local name=$1 workload=$2; shift 2
  local initrd=$tmp/$name.initrd.gz rc t0 t1
  "$top/scripts/mkinitramfs.sh" -o "$initrd" --modules "$modules" --workload "$workload" >/dev/null ||
    { echo "FAIL: cannot build the initramfs for $name"; exit 1; }
  echo "$name: brume run --accel emu $*"
  t0=$(date +%s)
  # The emu engine is an interpreter: allow it time, but never hang.
  timeout 1500 "$brume" run --accel emu --mem 512M --kernel "$kernel" --initrd "$initrd" \
    --append "console=ttyS0 reboot=k panic=1 quiet" --console stdio "$@" \
    </dev/null >"$tmp/$name.console" 2>"$tmp/$name.stderr"
  rc=$?
  t1=$(date +%s)
  tr -d '\r' < "$tmp/$name.console" > "$tmp/$name.txt"
  echo "$name: brume exited with $rc after $((t1 - t0)) s"
  grep -E '^(g: |brume-guest: workload)' "$tmp/$name.txt" | sed "s/^/  [$name] /"
  [ -s "$tmp/$name.stderr" ] && sed "s/^/  [$name stderr] /" "$tmp/$name.stderr"
  if [ $rc -ne 0 ] || ! grep -q '^brume-guest: powering off' "$tmp/$name.txt"; then
    echo "FAIL: $name: brume exited with $rc or the guest did not reach poweroff; console tail:"
    tail -30 "$tmp/$name.txt"
  fi
  return $rc
}

# g_value NAME KEY: the value of the guest's line "g: KEY VALUE".
g_value() { sed -n "s/^g: $2 //p" "$tmp/$1.txt" | tail -n1; }
