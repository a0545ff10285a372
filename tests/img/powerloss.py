#!/usr/bin/env python3
"""Power-loss replay for qcow2 images written by brume.

usage: powerloss.py INITIAL JOURNAL WORKDIR TRIALS SEED

INITIAL is the image before the run, JOURNAL the record of every write,
hole punch, truncate and flush brume made to it (journal.c). A power loss
keeps everything written before the last completed flush and any subset
of what was written after it (the disk may persist those in any order).
For TRIALS such states, chosen at random, `qemu-img check` must find no
corruption (exit 0, or 3 for leaked clusters only)."""
import random
import struct
import subprocess
import sys


def read_journal(path):
    epochs, cur = [], []
    with open(path, "rb") as f:
        data = f.read()
    p = 0
    while p + 17 <= len(data):
        t = chr(data[p])
        off, ln = struct.unpack_from("<QQ", data, p + 1)
        p += 17
        body = b""
        if t == "W":
            body = data[p:p + ln]
            p += ln
        if t == "S":
            epochs.append(cur)
            cur = []
        else:
            cur.append((t, off, ln, body))
    epochs.append(cur)
    return epochs


def apply(img, rec):
    t, off, ln, body = rec
    if t == "W" and body:
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


def main():
    initial, journal, work, trials, seed = sys.argv[1:6]
    rng = random.Random(int(seed))
    epochs = read_journal(journal)
    with open(initial, "rb") as f:
        img = bytearray(f.read())
    # epochs with writes in them, each picked with equal chance
    candidates = [i for i, e in enumerate(epochs) if e]
    picks = sorted(rng.choice(candidates) for _ in range(int(trials))) if candidates else []
    state = work + "/state.qcow2"
    fails = leaks = 0
    for i, epoch in enumerate(epochs):
        while picks and picks[0] == i:
            picks.pop(0)
            trial = bytearray(img)
            kept = 0
            for rec in epoch:
                if rng.random() < 0.5:
                    apply(trial, rec)
                    kept += 1
            with open(state, "wb") as f:
                f.write(trial)
            r = subprocess.run(["qemu-img", "check", "-q", state], capture_output=True, text=True)
            if r.returncode == 3:
                leaks += 1
            elif r.returncode != 0:
                fails += 1
                if fails <= 3:
                    print(f"FAIL: after flush {i}, {kept} of {len(epoch)} later writes kept: "
                          f"qemu-img check exit {r.returncode}")
                    lines = (r.stdout + r.stderr).strip().splitlines()
                    errors = [l for l in lines if "ERROR" in l] or lines
                    print("    " + "\n    ".join(errors[:6]))
        for rec in epoch:
            apply(img, rec)
    print(f"powerloss: {int(trials)} states over {len(epochs)} flush epochs, {leaks} with leaks (allowed), "
          f"{fails} corrupt")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
