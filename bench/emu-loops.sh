#!/usr/bin/env bash
# Host instructions per guest instruction of the emu interpreter on two
# flat-mode loops (bench/emu-loops/*.S), counted by callgrind: exact and
# repeatable on a loaded machine, unlike times. Builds a small harness
# against build/libbrume.a (run `make` first).
#
#   bench/emu-loops.sh            (needs as, objcopy, cc, valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
lib=${LIB:-build/libbrume.a}
[ -f "$lib" ] || { echo "emu-loops: $lib not found; run make first" >&2; exit 1; }
for t in as objcopy cc valgrind pkg-config; do
    command -v $t >/dev/null || { echo "emu-loops: $t not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Isrc bench/emu-loops/harness.c "$lib" \
    $(pkg-config --libs zlib libzstd liburing slirp libseccomp json-c) -lm -pthread -o "$tmp/emu-loop"
for s in bench/emu-loops/*.S; do
    name=$(basename "$s" .S)
    as --64 -o "$tmp/$name.o" "$s"
    objcopy -O binary -j .text "$tmp/$name.o" "$tmp/$name.bin"
    out=$("$tmp/emu-loop" "$tmp/$name.bin")
    insns=$(echo "$out" | sed -n 's/.* insns \([0-9]*\) .*/\1/p')
    ir=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$name" "$tmp/emu-loop" "$tmp/$name.bin" 2>&1 |
         sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$name: $insns guest instructions, $ir host instructions, $((ir / insns)) per guest instruction"
done
