/* A CPU-bound workload shared by the cpuloop guest and its host twin
 * (cpuwork_host.c): the same object code, compiled with the guests' flags,
 * runs in a guest on brume or QEMU and natively, so the guest's checksum
 * can be checked against the host's and the host can count the
 * instructions one iteration takes (bench/insn-rate.sh). */
#ifndef BRUME_GUEST_CPUWORK_H
#define BRUME_GUEST_CPUWORK_H

#include <stdint.h>

/* Runs ITERS rounds of mixed integer work (xorshift fill, sort, hashing,
 * a sieve, multiply/divide) and returns a checksum of everything. */
uint64_t cpuwork_run(uint64_t iters);

#endif
