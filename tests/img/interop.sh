#!/usr/bin/env bash
# Interop with Debian's qemu-img / qemu-io:
#  - images brume creates and writes pass `qemu-img check` and compare
#    equal to a raw reference written with the same operations;
#  - images qemu-img creates (backing chains, compressed and zero clusters,
#    cluster sizes 4 KiB..2 MiB, v2 and v3, vmdk, vdi) read back
#    bit-identical in brume;
#  - check/compare exit codes, locks, resize, commit, rebase, map, info.
set -u
brume=$1 blktool=$2
command -v qemu-img >/dev/null || { echo "skipped: qemu-img not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {  # expect <exit code> <description> <command...>
  local want=$1 what=$2; shift 2
  "$@" >out.txt 2>&1; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else bad "$what (exit $rc, wanted $want)"; sed 's/^/    /' out.txt | head -5; fi
}
# same content as raw reference, seen by qemu-img and by brume
same() {
  expect 0 "qemu-img compare $1 $2" qemu-img compare -q "$1" "$2"
  expect 0 "brume compare $1 $2" "$brume" img compare -q "$1" "$2"
}
pattern_raw() {  # pattern_raw FILE SIZE: random data in scattered places
  truncate -s "$2" "$1"
  local sz; sz=$(stat -c %s "$1")
  for o in 0 7 100 1000 5000 9999; do
    local at=$(( (o * 104729 * 4096 + o * 333) % (sz - 300000) ))
    head -c $((70000 + o * 13)) /dev/urandom | dd of="$1" bs=1 seek=$at conv=notrunc status=none
  done
}

# ---- brume creates and writes; qemu-img checks and compares ----
for cs in 4k 64k 2M; do
  for compat in 1.1 0.10; do
    img=b-$cs-$compat.qcow2
    expect 0 "create $img" "$brume" img create -q -f qcow2 -o cluster_size=$cs,compat=$compat $img 48M
    truncate -s 48M ref.raw; : > /dev/null
    rm -f ref.raw; truncate -s 48M ref.raw
    expect 0 "random writes to $img" "$blktool" random $img ref.raw 7 300
    expect 0 "qemu-img check $img" qemu-img check -q $img
    same ref.raw $img
    expect 0 "brume check $img" "$brume" img check -q $img
  done
done
# backing chain written by brume: base (raw) <- mid (qcow2) <- top (qcow2)
pattern_raw base.raw 32M
expect 0 "create mid" "$brume" img create -q -f qcow2 -b base.raw -F raw mid.qcow2
cp base.raw ref.raw
expect 0 "writes to mid" "$blktool" random mid.qcow2 ref.raw 11 100
expect 0 "create top" "$brume" img create -q -f qcow2 -b mid.qcow2 -F qcow2 -o cluster_size=4k top.qcow2
expect 0 "writes to top" "$blktool" random top.qcow2 ref.raw 12 100
expect 0 "qemu-img check top" qemu-img check -q top.qcow2
expect 0 "qemu-img check mid" qemu-img check -q mid.qcow2
same ref.raw top.qcow2
expect 0 "base unchanged" cmp -s base.raw <(cat base.raw)
qemu-img info --backing-chain top.qcow2 | grep -q "backing file: mid.qcow2" && ok || bad "qemu-img sees the backing file"
# convert raw -> qcow2 (plain, compressed zlib and zstd) and back
pattern_raw src.raw 40M
for c in "" "-c" "-c -o compression_type=zstd"; do
  rm -f conv.qcow2 back.raw
  expect 0 "convert $c" "$brume" img convert $c -f raw -O qcow2 src.raw conv.qcow2
  expect 0 "qemu-img check convert $c" qemu-img check -q conv.qcow2
  same src.raw conv.qcow2
  expect 0 "convert back $c" "$brume" img convert -O raw conv.qcow2 back.raw
  expect 0 "bytes equal $c" cmp src.raw back.raw
done
qemu-img info conv.qcow2 | grep -q "compression type: zstd" && ok || bad "zstd image recognised by qemu-img"
for pa in metadata falloc full; do
  rm -f pa.qcow2
  expect 0 "create preallocation=$pa" "$brume" img create -q -f qcow2 -o preallocation=$pa pa.qcow2 20M
  expect 0 "qemu-img check preallocation=$pa" qemu-img check -q pa.qcow2
  n=$(qemu-img map --output=json pa.qcow2 | grep -c '"data": true')
  [ "$n" -ge 1 ] && ok || bad "preallocation=$pa allocates data clusters"
done

# ---- qemu-img creates; brume reads bit-identical ----
pattern_raw q.raw 24M
for cs in 4k 64k 2M; do
  for compat in 1.1 0.10; do
    qemu-img convert -f raw -O qcow2 -o cluster_size=$cs,compat=$compat q.raw q-$cs-$compat.qcow2
    same q.raw q-$cs-$compat.qcow2
    expect 0 "brume check of qemu image $cs $compat" "$brume" img check -q q-$cs-$compat.qcow2
  done
done
qemu-img convert -c -f raw -O qcow2 q.raw qz.qcow2 && same q.raw qz.qcow2
qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd q.raw qzs.qcow2 && same q.raw qzs.qcow2
"$brume" img check --output=json qz.qcow2 | grep -q '"compressed-clusters": [1-9]' && ok || bad "compressed clusters counted"
# zero clusters and a three-level chain made with qemu-io
qemu-img create -q -f qcow2 qb.qcow2 16M
qemu-io -c "write -P 0x11 0 16M" qb.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b qb.qcow2 -F qcow2 qm.qcow2
qemu-io -c "write -P 0x22 1M 3M" -c "write -z 6M 2M" -c "discard 10M 1M" qm.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4k -b qm.qcow2 -F qcow2 qt.qcow2
qemu-io -c "write -P 0x33 2M 100k" -c "write -z -u 3M 64k" -c "write -P 0x44 7000 3333" qt.qcow2 >/dev/null
qemu-img convert -O raw qt.qcow2 qt-qemu.raw
expect 0 "brume convert of qemu chain" "$brume" img convert -O raw qt.qcow2 qt-brume.raw
expect 0 "chain bit-identical" cmp qt-qemu.raw qt-brume.raw
same qt-qemu.raw qt.qcow2
# vmdk and vdi imports
for sub in monolithicSparse streamOptimized; do
  qemu-img convert -f raw -O vmdk -o subformat=$sub q.raw q-$sub.vmdk
  rm -f v.raw
  expect 0 "convert vmdk $sub" "$brume" img convert -O raw q-$sub.vmdk v.raw
  expect 0 "vmdk $sub bit-identical" cmp q.raw v.raw
  "$brume" img info q-$sub.vmdk | grep -q "file format: vmdk" && ok || bad "vmdk probed"
done
for st in off full; do
  qemu-img convert -f raw -O vdi -o preallocation=$st q.raw q-$st.vdi
  rm -f v.raw
  expect 0 "convert vdi $st" "$brume" img convert -O qcow2 q-$st.vdi v.qcow2
  same q.raw v.qcow2
  rm -f v.qcow2
done

# ---- exit codes of check and compare ----
"$brume" img create -q -f qcow2 leak.qcow2 16M
# refcount block at cluster 2 (64 KiB clusters, 16-bit entries): the L1
# table (cluster 3) counted twice
printf '\x00\x02' | dd of=leak.qcow2 bs=1 seek=$((131072 + 6)) conv=notrunc status=none
expect 3 "qemu-img check sees the leak" qemu-img check -q leak.qcow2
expect 3 "brume check: leaks exit 3" "$brume" img check -q leak.qcow2
expect 0 "brume check -r leaks" "$brume" img check -q -r leaks leak.qcow2
expect 0 "qemu-img agrees after repair" qemu-img check -q leak.qcow2
printf '\x00\x00' | dd of=leak.qcow2 bs=1 seek=$((131072 + 0)) conv=notrunc status=none
expect 2 "qemu-img check sees the corruption" qemu-img check -q leak.qcow2
expect 2 "brume check: corruption exit 2" "$brume" img check -q leak.qcow2
expect 63 "check of raw not supported" "$brume" img check -f raw src.raw
expect 0 "compare same" "$brume" img compare -q src.raw conv.qcow2
cp src.raw diff.raw; printf 'X' | dd of=diff.raw bs=1 seek=123456 conv=notrunc status=none
expect 1 "compare different" "$brume" img compare -q src.raw diff.raw
"$brume" img compare src.raw diff.raw | grep -q "Content mismatch at offset 123392" && ok || bad "mismatch offset"

# ---- locks: brume and qemu see each other ----
"$brume" img create -q -f qcow2 lock.qcow2 16M
"$blktool" hold lock.qcow2 20 > hold.out &
holder=$!
for _ in $(seq 50); do [ -s hold.out ] && break; sleep 0.1; done
expect 1 "qemu-img info refused while brume writes" qemu-img info lock.qcow2
grep -q "lock" out.txt && ok || bad "qemu-img names the lock"
expect 1 "brume info refused while brume writes" "$brume" img info lock.qcow2
grep -q "locked by another process" out.txt && ok || bad "clear lock error"
expect 0 "info -U works" "$brume" img info -U lock.qcow2
kill $holder; wait $holder 2>/dev/null
qemu-io -c "sleep 20000" lock.qcow2 >/dev/null 2>&1 &
qio=$!
sleep 1
expect 1 "brume refuses an image qemu writes" "$blktool" hold lock.qcow2 0
kill $qio; wait $qio 2>/dev/null
expect 0 "lock released" "$blktool" hold lock.qcow2 0

# ---- resize, commit, rebase, map, info ----
"$brume" img create -q -f qcow2 rs.qcow2 16M
expect 0 "resize +1G" "$brume" img resize rs.qcow2 +1G
qemu-img info --output=json rs.qcow2 | grep -q '"virtual-size": 1090519040' && ok || bad "resized size"
expect 0 "qemu-img check after resize" qemu-img check -q rs.qcow2
"$brume" img create -q -f qcow2 -o cluster_size=4k rsb.qcow2 1M
expect 0 "resize past one L1 table" "$brume" img resize rsb.qcow2 4G
expect 0 "check after L1 growth" qemu-img check -q rsb.qcow2
pattern_raw cb.raw 8M; cp cb.raw cref.raw
"$brume" img create -q -f qcow2 -b cb.raw -F raw ct.qcow2
"$blktool" random ct.qcow2 cref.raw 5 60 >/dev/null
ct_before=$(stat -c %s ct.qcow2)
expect 0 "commit" "$brume" img commit ct.qcow2
[ "$(stat -c %s ct.qcow2)" -lt "$ct_before" ] && ok || bad "commit leaves a smaller top file ($ct_before bytes before)"
expect 0 "base holds committed data" cmp cb.raw cref.raw
# after commit the top is empty, as qemu-img leaves it: nothing allocated
# at depth 0 (qemu-img map), clean, same content as the base
[ "$(qemu-img map --output=json ct.qcow2 | grep -c '"depth": 0')" = 0 ] && ok || bad "commit empties the top image"
expect 0 "qemu-img check after commit" qemu-img check -q ct.qcow2
expect 0 "top reads as the base after commit" qemu-img compare -q cref.raw ct.qcow2
# commit -d keeps the top image as it is, like qemu-img commit -d
pattern_raw cd.raw 8M; cp cd.raw cdref.raw
"$brume" img create -q -f qcow2 -b cd.raw -F raw cdt.qcow2
"$blktool" random cdt.qcow2 cdref.raw 15 40 >/dev/null
qemu-img map --output=json cdt.qcow2 > cd-before.json
expect 0 "commit -d" "$brume" img commit -d cdt.qcow2
expect 0 "base holds data committed with -d" cmp cd.raw cdref.raw
qemu-img map --output=json cdt.qcow2 | cmp -s - cd-before.json && ok || bad "commit -d leaves the top allocated"
# convert -B: the output has a backing file and holds only what differs
pattern_raw cvb.raw 16M; cp cvb.raw cvfull.raw
dd if=/dev/urandom of=cvfull.raw bs=64k seek=37 count=3 conv=notrunc status=none
dd if=/dev/zero of=cvfull.raw bs=64k seek=90 count=2 conv=notrunc status=none
expect 0 "convert -B" "$brume" img convert -f raw -B cvb.raw -F raw -O qcow2 cvfull.raw cvd.qcow2
expect 0 "qemu-img check convert -B" qemu-img check -q cvd.qcow2
expect 0 "convert -B reads as its source" qemu-img compare -q cvfull.raw cvd.qcow2
qemu-img info cvd.qcow2 | grep -q "backing file: cvb.raw" && ok || bad "convert -B records the backing file"
n=$(qemu-img map --output=json cvd.qcow2 | python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["depth"] == 0))')
[ "$n" -le $((5 * 65536)) ] && [ "$n" -ge $((3 * 65536)) ] && ok || bad "convert -B writes only what differs ($n bytes)"
# convert -n: into an existing, larger image full of other data
qemu-img create -q -f qcow2 cvn.qcow2 20M
qemu-io -c "write -P 0x33 0 20M" cvn.qcow2 >/dev/null
expect 0 "convert -n" "$brume" img convert -n -f raw -O qcow2 cvfull.raw cvn.qcow2
expect 0 "qemu-img check convert -n" qemu-img check -q cvn.qcow2
qemu-img convert -O raw cvn.qcow2 cvn.raw
expect 0 "convert -n wrote the source, zeroes included" cmp -n $((16 << 20)) cvfull.raw cvn.raw
qemu-io -c "read -P 0x33 16M 4M" cvn.qcow2 >/dev/null 2>&1 && ok || bad "convert -n leaves the rest of the target"
qemu-img create -q -f qcow2 cvs.qcow2 1M
expect 1 "convert -n into a smaller image" "$brume" img convert -n -f raw -O qcow2 cvfull.raw cvs.qcow2
grep -q "smaller than input" out.txt && ok || bad "convert -n names the size problem"
expect 1 "convert -B with a missing backing file" "$brume" img convert -f raw -B nope.raw -F raw -O qcow2 cvfull.raw cvx.qcow2
[ ! -e cvx.qcow2 ] && ok || bad "a failed convert -B leaves no output behind"
expect 1 "convert -B into raw" "$brume" img convert -f raw -B cvb.raw -O raw cvfull.raw cvx.raw
pattern_raw ra.raw 8M
"$brume" img create -q -f qcow2 -b ra.raw -F raw rb.qcow2
cp ra.raw rref.raw; "$blktool" random rb.qcow2 rref.raw 6 40 >/dev/null
"$brume" img create -q -f qcow2 -b rb.qcow2 -F qcow2 rc.qcow2
"$blktool" random rc.qcow2 rref.raw 9 40 >/dev/null
expect 0 "rebase rc onto ra" "$brume" img rebase -b ra.raw -F raw rc.qcow2
qemu-img info rc.qcow2 | grep -q "backing file: ra.raw" && ok || bad "new backing file recorded"
same rref.raw rc.qcow2
expect 0 "check after rebase" qemu-img check -q rc.qcow2
expect 0 "rebase -u" "$brume" img rebase -u -b rb.qcow2 -F qcow2 rc.qcow2
"$brume" img map --output=json qt.qcow2 > map.json
python3 - "$dir/map.json" <<'PY' && ok || bad "map json covers the disk"
import json, sys
m = json.load(open(sys.argv[1]))
pos = 0
for e in m:
    assert e["start"] == pos, e
    pos += e["length"]
assert pos == 16 << 20, pos
assert any(e["zero"] and e["depth"] == 0 for e in m)
PY
"$brume" img info --output=json conv.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["format"]=="qcow2" and d["cluster-size"]==65536' && ok || bad "info json"
"$brume" img info --backing-chain top.qcow2 | grep -c "^image:" | grep -q 3 && ok || bad "info --backing-chain"
# a loop in the backing chain is refused
"$brume" img create -q -f qcow2 l1.qcow2 1M; "$brume" img create -q -f qcow2 -b l1.qcow2 -F qcow2 l2.qcow2
"$brume" img rebase -u -b l2.qcow2 -F qcow2 l1.qcow2
expect 1 "backing loop refused" "$brume" img info l2.qcow2
grep -q "loop" out.txt && ok || bad "loop named in the error"

echo "interop: $pass passed, $fail failed"
[ $fail -eq 0 ]
