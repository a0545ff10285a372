#!/usr/bin/env bash
# `brume accel`: one line per engine and the auto verdict, consistent with
# each other; a stray argument is a one-line error with status 2.
# usage: accel.sh BRUME
set -u
brume=$1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$brume" accel) || fail "brume accel exited with $?"
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "expected 3 lines"
kvm=$(echo "$out" | sed -n 1p) emu=$(echo "$out" | sed -n 2p) auto=$(echo "$out" | sed -n 3p)
[[ "$kvm" =~ ^kvm:\ (usable|not\ usable:) ]] || fail "bad kvm line"
[[ "$emu" =~ ^emu:\ usable,\ [0-9.]+\ (ns|µs)\ per\ guest\ instruction ]] || fail "bad emu line"
[[ "$auto" =~ ^auto:\ using\ (kvm|emu)\ \( ]] || fail "bad auto line"
case "$kvm" in
  "kvm: not usable"*) [[ "$auto" == "auto: using emu"* ]] || fail "auto took an unusable kvm" ;;
esac
if [ ! -e /dev/kvm ]; then
  [[ "$kvm" == "kvm: not usable"* ]] || fail "kvm usable without /dev/kvm"
fi

err=$("$brume" accel --bogus 2>&1 >/dev/null)
rc=$?
echo "brume accel --bogus -> exit $rc: $err"
[ $rc -eq 2 ] || fail "exit status $rc, expected 2"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "expected one line on stderr"
[[ "$err" == *"unexpected argument '--bogus'"* ]] || fail "unclear error"
echo "PASS"
