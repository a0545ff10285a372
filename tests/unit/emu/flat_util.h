/* Helpers for tests that run code through emu_flat_run. */
#ifndef BRUME_TESTS_UNIT_EMU_FLAT_UTIL_H
#define BRUME_TESTS_UNIT_EMU_FLAT_UTIL_H

#include <stdint.h>
#include <string.h>

#include "accel/emu/flat.h"

#define FLAT_BASE 0x400000ull
#define FLAT_SIZE 0x10000ull
#define FLAT_STACK (FLAT_BASE + FLAT_SIZE - 0x100)
#define FLAT_DATA (FLAT_BASE + 0x8000)

struct flat {
    struct cpu_state st;
    uint8_t mem[FLAT_SIZE];
    struct emu_flat_result res;
    int rc;
};

/* Loads code at FLAT_BASE, sets RIP/RSP and runs until an exception or max
 * instructions. */
static inline int flat_run(struct flat *f, const uint8_t *code, size_t len, uint64_t max)
{
    memcpy(f->mem, code, len);
    f->st.rip = FLAT_BASE;
    f->st.regs[GPR_RSP] = FLAT_STACK;
    f->st.rflags = 2;
    f->rc = emu_flat_run(&f->st, f->mem, FLAT_BASE, FLAT_SIZE, max, &f->res);
    return f->rc;
}

static inline void flat_init(struct flat *f)
{
    memset(f, 0, sizeof(*f));
}

#endif
