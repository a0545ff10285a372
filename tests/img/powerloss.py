#!/usr/bin/env python3
"""Power-loss replay for qcow2 images written by brume.

usage: powerloss.py INITIAL JOURNAL WORKDIR TRIALS SEED REF_SIZE

INITIAL is the image before the run, JOURNAL the record of every write,
hole punch, truncate and fdatasync brume made to it, of the writes to the
raw reference file, and of each guest flush that returned (journal.c).

A power loss keeps everything written before the last completed fdatasync
and any subset of what was written after it (the disk may persist those
in any order). Two checks:
 - corruption: for TRIALS such states, chosen at random, `qemu-img check`
   must find no corruption (exit 0, or 3 for leaked clusters only);
 - durability: at some of the moments a guest flush returned, the state
   that only the completed fdatasyncs guarantee must read exactly as the
   reference file did then (everything the guest flushed survives)."""
import random
import struct
import subprocess
import sys

DURABILITY_CHECKS = 6


def read_journal(path):
    with open(path, "rb") as f:
        data = f.read()
    recs, p = [], 0
    while p + 17 <= len(data):
        t = chr(data[p])
        off, ln = struct.unpack_from("<QQ", data, p + 1)
        p += 17
        body = b""
        if t in "WR":
            body = data[p:p + ln]
            p += ln
        recs.append((t, off, ln, body))
    return recs


def apply(img, rec):
    t, off, ln, body = rec
    if t in "WR" and body:
        if off + len(body) > len(img):
            img.extend(bytes(off + len(body) - len(img)))
        img[off:off + len(body)] = body
    elif t == "P":
        end = min(off + ln, len(img))
        if end > off:
            img[off:end] = bytes(end - off)
    elif t == "T":
        if ln < len(img):
            del img[ln:]
        else:
            img.extend(bytes(ln - len(img)))


def qemu_img(*args):
    return subprocess.run(["qemu-img", *args], capture_output=True, text=True)


def main():
    initial, journal, work, trials, seed, ref_size = sys.argv[1:7]
    rng = random.Random(int(seed))
    recs = read_journal(journal)
    with open(initial, "rb") as f:
        base = bytearray(f.read())        # the image as of the last fdatasync
    ref = bytearray(int(ref_size))        # the guest's view, from the reference writes
    # fdatasync epochs with image writes in them, each picked with equal chance
    epochs, n = [], 0
    for t, *_ in recs:
        if t == "S":
            n += 1
        elif t in "WPT" and (not epochs or epochs[-1] != n):
            epochs.append(n)
    picks = sorted(rng.choice(epochs) for _ in range(int(trials))) if epochs else []
    flushes = sum(1 for r in recs if r[0] == "G")
    durable_picks = set(rng.sample(range(flushes), min(DURABILITY_CHECKS, flushes)))
    state = work + "/state.qcow2"
    fails = leaks = lost = 0
    epoch, g, pending = 0, 0, []

    def write_state(img):
        with open(state, "wb") as f:
            f.write(img)

    def end_epoch():
        nonlocal fails, leaks
        while picks and picks[0] == epoch:
            picks.pop(0)
            trial = bytearray(base)
            kept = 0
            for rec in pending:
                if rng.random() < 0.5:
                    apply(trial, rec)
                    kept += 1
            write_state(trial)
            r = qemu_img("check", "-q", state)
            if r.returncode == 3:
                leaks += 1
            elif r.returncode != 0:
                fails += 1
                if fails <= 3:
                    print(f"FAIL: after fdatasync {epoch}, {kept} of {len(pending)} later writes kept: "
                          f"qemu-img check exit {r.returncode}")
                    lines = (r.stdout + r.stderr).strip().splitlines()
                    errors = [l for l in lines if "ERROR" in l] or lines
                    print("    " + "\n    ".join(errors[:6]))
        for rec in pending:
            apply(base, rec)
        pending.clear()

    for rec in recs:
        t = rec[0]
        if t == "S":
            end_epoch()
            epoch += 1
        elif t == "R":
            apply(ref, rec)
        elif t == "G":
            if g in durable_picks:
                write_state(base)
                with open(work + "/expect.raw", "wb") as f:
                    f.write(ref)
                r = qemu_img("compare", "-q", "-f", "raw", "-F", "qcow2", work + "/expect.raw", state)
                if r.returncode != 0:
                    lost += 1
                    print(f"FAIL: guest flush {g}: what the completed fdatasyncs keep differs from what "
                          f"the guest flushed (qemu-img compare exit {r.returncode})")
            g += 1
        else:
            pending.append(rec)
    end_epoch()
    print(f"powerloss: {int(trials)} states over {epoch + 1} fdatasync epochs, {leaks} with leaks (allowed), "
          f"{fails} corrupt; {len(durable_picks)} guest flushes checked, {lost} lost data")
    return 1 if fails or lost else 0


if __name__ == "__main__":
    sys.exit(main())
