/* emu_flat_run(): see flat.h. The CPU runs with c->flat set, which makes
 * the MMU map linear addresses straight onto the caller's buffer. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "accel/emu/flat.h"
#include "accel/emu/insn.h"
#include "util/log.h"

static uint8_t *flat_ram_page(struct emu_cpu *c, uint64_t gpa)
{
    (void)c;
    (void)gpa;
    return NULL;
}

static uint64_t flat_mmio_read(struct emu_cpu *c, uint64_t gpa, unsigned size)
{
    (void)c; (void)gpa; (void)size;
    return ~0ull;
}

static void flat_mmio_write(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t v)
{
    (void)c; (void)gpa; (void)size; (void)v;
}

static uint64_t flat_pio_in(struct emu_cpu *c, uint16_t port, unsigned size)
{
    (void)c; (void)port; (void)size;
    return ~0ull;  /* unreachable: CPL 3 with IOPL 0 and no TSS faults first */
}

static void flat_pio_out(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t v)
{
    (void)c; (void)port; (void)size; (void)v;
}

static uint64_t flat_clock_ns(struct emu_cpu *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct emu_host_ops flat_host = {
    .ram_page = flat_ram_page,
    .mmio_read = flat_mmio_read,
    .mmio_write = flat_mmio_write,
    .pio_in = flat_pio_in,
    .pio_out = flat_pio_out,
    .clock_ns = flat_clock_ns,
};

static void user_seg(struct cpu_segment *s, uint16_t sel, uint8_t type, bool code)
{
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = type;
    s->s = 1;
    s->dpl = 3;
    s->present = 1;
    s->l = code;
    s->db = !code;
    s->g = 1;
    s->unusable = 0;
}

int emu_flat_run(struct cpu_state *st, void *mem, uint64_t base, uint64_t size, uint64_t max_insns,
                 struct emu_flat_result *res)
{
    if (!st || !res || (!mem && size))
        return err_set(-EINVAL, "emu_flat_run: missing argument");
    if (base + size < base)
        return err_set(-EINVAL, "emu_flat_run: range 0x%llx+0x%llx overflows",
                       (unsigned long long)base, (unsigned long long)size);
    struct emu_cpu *c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(-ENOMEM, "emu_flat_run: out of memory");
    if (emu_blocks_init(c) < 0) {
        free(c);
        return err_set(-ENOMEM, "emu_flat_run: out of memory");
    }
    c->host = &flat_host;
    c->flat = true;
    c->flat_mem = mem;
    c->flat_base = base;
    c->flat_size = size;
    emu_cpu_reset(c);

    memcpy(c->r, st->regs, sizeof(c->r));
    c->rip = st->rip;
    /* User-writable flags only; IOPL 0, IF set as for a user process */
    c->rflags = (st->rflags & 0x00244dd5ull) | RFLAGS_FIXED | RFLAGS_IF;
    c->lf.op = LF_NONE;
    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    c->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->msr.efer = EFER_LME | EFER_LMA | EFER_NXE;  /* no SCE: SYSCALL is #UD */
    for (int s = 0; s < SEG_COUNT; s++)
        user_seg(&c->seg[s], 0x2b, 0x3, false);
    user_seg(&c->seg[SEG_CS], 0x33, 0xb, true);
    c->seg[SEG_FS].base = st->seg[SEG_FS].base;
    c->seg[SEG_GS].base = st->seg[SEG_GS].base;
    c->tr.limit = 0;   /* no I/O bitmap: IN/OUT raise #GP */
    c->tr.unusable = 1;
    c->fx = st->fx;
    c->cpl = 3;
    emu_update_mode(c);
    emu_tlb_flush(c, false);

    /* emu_run needs an outer jump buffer for emu_fatal outside instructions */
    jmp_buf jb;
    c->jb = &jb;
    if (setjmp(jb) == 0) {
        /* a kick (PAUSE, ...) only means "look at events": keep going */
        do {
            c->exit = EMU_EXIT_NONE;
            emu_run(c, max_insns - c->insns);
        } while (c->exit == EMU_EXIT_KICK && c->insns < max_insns);
        if (c->exit == EMU_EXIT_KICK)
            c->exit = EMU_EXIT_NONE;
    }

    int rc = 0;
    res->vector = -1;
    res->error_code = 0;
    res->insns = c->insns;
    if (c->exit == EMU_EXIT_EXCEPTION) {
        res->vector = c->exc_vector;
        res->error_code = c->exc_has_error ? c->exc_error : 0;
    } else if (c->exit == EMU_EXIT_UNIMPL || c->exit == EMU_EXIT_ERROR) {
        rc = err_set(-ENOSYS, "%s", c->exit_msg);
    }
    memcpy(st->regs, c->r, sizeof(st->regs));
    st->rip = c->rip;
    st->rflags = emu_flags(c);
    st->seg[SEG_FS].base = c->seg[SEG_FS].base;
    st->seg[SEG_GS].base = c->seg[SEG_GS].base;
    st->fx = c->fx;
    st->cr2 = c->cr2;
    emu_blocks_free(c);
    free(c);
    return rc;
}
