/* String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with
 * REP/REPE/REPNE. The address size picks rSI/rDI/rCX widths; the source
 * segment is DS (overridable), the destination is always ES.
 *
 * A REP instruction runs at most STRING_BUDGET iterations per execution and
 * then leaves RIP on itself, so interrupts are taken between chunks (and
 * RCX/RSI/RDI are always architecturally exact, also after a fault). */
#include "accel/emu/insn.h"

#define STRING_BUDGET 4096

static inline uint64_t areg(const struct emu_cpu *c, const struct insn *i, unsigned r)
{
    return c->r[r] & mask_of(i->asz);
}

static inline void areg_add(struct emu_cpu *c, const struct insn *i, unsigned r, int64_t delta)
{
    reg_set(c, r, i->asz, c->r[r] + (uint64_t)delta);
}

static inline int src_seg(const struct insn *i)
{
    return i->seg_override >= 0 ? i->seg_override : SEG_DS;
}

void emu_port_check(struct emu_cpu *c, uint16_t port, unsigned size);

/* One iteration; returns false when a REPE/REPNE condition ends the loop. */
static bool string_once(struct emu_cpu *c, const struct insn *i, unsigned size, int64_t step)
{
    switch (i->op) {
    case 0xa4: case 0xa5: { /* MOVS */
        uint64_t v = seg_read(c, src_seg(i), areg(c, i, GPR_RSI), size);
        seg_write(c, SEG_ES, areg(c, i, GPR_RDI), size, v);
        areg_add(c, i, GPR_RSI, step);
        areg_add(c, i, GPR_RDI, step);
        return true;
    }
    case 0xa6: case 0xa7: { /* CMPS */
        uint64_t a = seg_read(c, src_seg(i), areg(c, i, GPR_RSI), size);
        uint64_t b = seg_read(c, SEG_ES, areg(c, i, GPR_RDI), size);
        alu_sub(c, a, b, size);
        areg_add(c, i, GPR_RSI, step);
        areg_add(c, i, GPR_RDI, step);
        break;
    }
    case 0xaa: case 0xab: /* STOS */
        seg_write(c, SEG_ES, areg(c, i, GPR_RDI), size, c->r[GPR_RAX]);
        areg_add(c, i, GPR_RDI, step);
        return true;
    case 0xac: case 0xad: /* LODS */
        reg_set(c, GPR_RAX, size, seg_read(c, src_seg(i), areg(c, i, GPR_RSI), size));
        areg_add(c, i, GPR_RSI, step);
        return true;
    case 0xae: case 0xaf: /* SCAS */
        alu_sub(c, c->r[GPR_RAX], seg_read(c, SEG_ES, areg(c, i, GPR_RDI), size), size);
        areg_add(c, i, GPR_RDI, step);
        break;
    case 0x6c: case 0x6d: { /* INS */
        uint16_t port = (uint16_t)c->r[GPR_RDX];
        emu_port_check(c, port, size);
        uint64_t lin = emu_linear(c, SEG_ES, areg(c, i, GPR_RDI), size);
        emu_probe_write(c, lin, size, emu_user(c));
        uint64_t v = c->host->pio_in(c, port, size);
        emu_write_lin(c, lin, size, v);
        areg_add(c, i, GPR_RDI, step);
        return true;
    }
    default: { /* OUTS (6E, 6F) */
        uint16_t port = (uint16_t)c->r[GPR_RDX];
        emu_port_check(c, port, size);
        uint64_t v = seg_read(c, src_seg(i), areg(c, i, GPR_RSI), size);
        c->host->pio_out(c, port, size, v);
        areg_add(c, i, GPR_RSI, step);
        return true;
    }
    }
    /* CMPS/SCAS: REPE continues while equal, REPNE while not equal */
    bool zf = emu_cond(c, 4);
    return i->rep == 0xf3 ? zf : !zf;
}

/* Fast path for REP MOVSB/STOSB-like forward runs inside RAM pages:
 * returns the number of elements done (0 to fall back). */
static uint64_t string_fast(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t count)
{
    if ((c->rflags & RFLAGS_DF) || i->asz != 8 || c->mode != MODE_LONG64)
        return 0;
    bool movs = i->op == 0xa4 || i->op == 0xa5;
    uint64_t di = c->r[GPR_RDI], si = c->r[GPR_RSI];
    uint64_t dlin = emu_linear(c, SEG_ES, di, size);
    uint64_t n = (0x1000 - (dlin & 0xfff)) / size;
    uint64_t slin = 0;
    if (movs) {
        slin = emu_linear(c, src_seg(i), si, size);
        uint64_t ns = (0x1000 - (slin & 0xfff)) / size;
        if (ns < n)
            n = ns;
    }
    if (n > count)
        n = count;
    if (n == 0)
        return 0;
    uint64_t gpa;
    uint8_t *d = emu_translate(c, dlin, ACC_W, emu_user(c), &gpa);
    if (!d)
        return 0;
    if (movs) {
        uint8_t *s = emu_translate(c, slin, ACC_R, emu_user(c), &gpa);
        if (!s)
            return 0;
        uint64_t bytes = n * size;
        if (d <= s || d >= s + bytes)
            memmove(d, s, bytes);
        else
            for (uint64_t k = 0; k < bytes; k++)  /* overlapping forward copy replicates */
                d[k] = s[k];
        c->r[GPR_RSI] = si + bytes;
    } else {
        uint64_t v = c->r[GPR_RAX];
        if (size == 1)
            memset(d, (int)(v & 0xff), n);
        else
            for (uint64_t k = 0; k < n; k++)
                emu_st(d + k * size, size, v);
    }
    c->r[GPR_RDI] = di + n * size;
    c->r[GPR_RCX] -= n;
    return n;
}

/* MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS (A4..AF, 6C..6F) */
OP(op_string)
{
    unsigned size = osz_bv(i);
    int64_t step = (c->rflags & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
    if (i->lock)
        emu_raise(c, EXC_UD);
    if (!i->rep) {
        string_once(c, i, size, step);
        return;
    }
    bool cond = i->op == 0xa6 || i->op == 0xa7 || i->op == 0xae || i->op == 0xaf;
    bool fastable = i->op == 0xa4 || i->op == 0xa5 || i->op == 0xaa || i->op == 0xab;
    for (unsigned n = 0; n < STRING_BUDGET; n++) {
        uint64_t count = areg(c, i, GPR_RCX);
        if (count == 0)
            return;
        if (fastable) {
            uint64_t done = string_fast(c, i, size, count);
            if (done) {
                n += (unsigned)(done / 64);
                continue;
            }
        }
        bool go = string_once(c, i, size, step);
        areg_add(c, i, GPR_RCX, -1);
        if (cond) {
            /* An iteration is architecturally complete: a fault in a later
             * one must keep its flags, not go back to the instruction's. */
            emu_flags_checkpoint(c);
            if (!go)
                return;
        }
    }
    if (areg(c, i, GPR_RCX) != 0)
        c->next_rip = c->rip;  /* resume here after looking at interrupts */
}
