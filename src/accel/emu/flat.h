/* The flat runner: user-level code on flat memory, for differential tests
 * (tests/diff) and unit tests. No paging structures and no devices. */
#ifndef BRUME_ACCEL_EMU_FLAT_H
#define BRUME_ACCEL_EMU_FLAT_H

#include <stdint.h>

#include "accel/cpu_state.h"

/* Runs user-level code as CPL 3 in 64-bit mode on a flat memory: linear address A in [base, base+size) is host
 * memory mem + (A - base); any other address raises #PF. No paging structures, no devices: IN/OUT, HLT and other
 * privileged instructions raise #GP as at CPL 3. Starts from st (regs, rip, rflags, fs/gs base in st->seg[SEG_FS/GS].base,
 * st->fx for x87/SSE state) and writes the final state back. Ends at the first exception (INT3 gives vector 3, with RIP
 * after the INT3), or after max_insns. Returns 0, or -errno on engine failure (unimplemented instruction: reason via err_get). */
struct emu_flat_result {
    int vector;          /* -1 if max_insns reached */
    uint32_t error_code;
    uint64_t insns;
};

int emu_flat_run(struct cpu_state *st, void *mem, uint64_t base, uint64_t size, uint64_t max_insns,
                 struct emu_flat_result *res);

#endif
