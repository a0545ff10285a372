#!/usr/bin/env python3
"""Ctrl-A x on a terminal ends brume with status 0 and restores the terminal.

Runs `brume run` on a pseudo-terminal, as a user at a shell would, with a
kernel that keeps running (Debian's, made to wait after its panic), waits for
the guest's first console line, types Ctrl-A x, and checks the exit status
and that the terminal's settings are back as they were (raw mode undone).
usage: console_escape.py BRUME KERNEL_SCRIPT
"""
import os, pty, select, subprocess, sys, termios, time

brume, kernel_script = sys.argv[1], sys.argv[2]
try:
    kernel = subprocess.run([kernel_script], check=True, capture_output=True,
                            text=True).stdout.strip()
except subprocess.CalledProcessError as e:
    print("FAIL: cannot fetch the guest kernel:", e.stderr.strip())
    sys.exit(1)

master, slave = pty.openpty()
before = termios.tcgetattr(slave)
# panic=0: the kernel, finding no root, waits forever: only the escape ends it
proc = subprocess.Popen([brume, "run", "--accel", "emu", "--kernel", kernel,
                         "--append", "console=ttyS0 panic=0", "--mem", "128M"],
                        stdin=slave, stdout=slave, stderr=slave, close_fds=True)

def read_until(needle, seconds):
    buf, end = b"", time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                buf += os.read(master, 65536)
            except OSError:
                break
            if needle in buf:
                return buf
    return buf

out = read_until(b"Linux version", 300)
if b"Linux version" not in out:
    proc.kill()
    print("FAIL: no console output from the guest:", out[-300:])
    sys.exit(1)
raw = termios.tcgetattr(slave)
os.write(master, b"\x01x")
try:
    rc = proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    print("FAIL: Ctrl-A x did not end brume within 60 s")
    sys.exit(1)
after = termios.tcgetattr(slave)
fail = 0
if raw[3] & termios.ICANON:
    print("FAIL: the terminal was not in raw mode while the guest ran"); fail = 1
if rc != 0:
    print("FAIL: brume exited with", rc); fail = 1
if after != before:
    print("FAIL: the terminal settings were not restored"); fail = 1
if not fail:
    print("PASS: Ctrl-A x ended brume with status 0; raw mode was on, then undone")
sys.exit(fail)
