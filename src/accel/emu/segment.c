/* Segmentation: linear addresses, descriptor loads for MOV/POP to segment
 * registers, LSS/LFS/LGS, and the code-segment loads of far transfers.
 *
 * In 64-bit mode only FS/GS bases apply and there are no limits. Outside
 * 64-bit mode bases apply and limits are NOT checked (only the start-up
 * trampolines run there, and they use flat 4 GiB segments). */
#include "accel/emu/insn.h"

uint64_t emu_linear(struct emu_cpu *c, int seg, uint64_t off, unsigned size)
{
    (void)size;
    if (c->mode == MODE_LONG64) {
        uint64_t lin = seg >= SEG_FS ? off + c->seg[seg].base : off;
        if (!emu_canonical(lin))
            emu_raise_err(c, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
        return lin;
    }
    return (c->seg[seg].base + off) & 0xffffffffull;
}

void emu_desc_to_seg(uint64_t d, uint16_t sel, struct cpu_segment *s)
{
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    s->type = (d >> 40) & 0xf;
    s->s = (d >> 44) & 1;
    s->dpl = (d >> 45) & 3;
    s->present = (d >> 47) & 1;
    s->avl = (d >> 52) & 1;
    s->l = (d >> 53) & 1;
    s->db = (d >> 54) & 1;
    s->g = (d >> 55) & 1;
    s->limit = s->g ? (limit << 12) | 0xfff : limit;
    s->selector = sel;
    s->unusable = 0;
}

uint64_t emu_read_desc(struct emu_cpu *c, uint16_t sel, int vec)
{
    uint64_t base, limit;
    if (sel & 4) {
        if (c->ldtr.unusable)
            emu_raise_err(c, vec, sel & ~3u);
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdt.base;
        limit = c->gdt.limit;
    }
    uint64_t idx = sel & ~7u;
    if (idx + 7 > limit)
        emu_raise_err(c, vec, sel & ~3u);
    return emu_read_sys(c, base + idx, 8);
}

/* Sets the accessed bit of a descriptor in its table. */
static void desc_set_accessed(struct emu_cpu *c, uint16_t sel, uint64_t d)
{
    if (d & (1ull << 40))
        return;
    uint64_t base = (sel & 4) ? c->ldtr.base : c->gdt.base;
    emu_write_sys(c, base + (sel & ~7u) + 5, 1, ((d >> 40) & 0xff) | 1);
}

void emu_load_seg_real(struct emu_cpu *c, int seg, uint16_t sel)
{
    c->seg[seg].selector = sel;
    c->seg[seg].base = (uint64_t)sel << 4;
}

static void load_null(struct emu_cpu *c, int seg, uint16_t sel)
{
    struct cpu_segment *s = &c->seg[seg];
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->unusable = 1;
    if (seg == SEG_SS)
        s->dpl = c->cpl;
}

void emu_load_seg(struct emu_cpu *c, int seg, uint16_t sel)
{
    if (c->mode == MODE_REAL) {
        emu_load_seg_real(c, seg, sel);
        return;
    }
    unsigned rpl = sel & 3;
    if ((sel & ~3u) == 0) {
        /* A null selector: allowed for SS only in 64-bit mode below CPL 3 */
        if (seg == SEG_SS && (c->mode != MODE_LONG64 || c->cpl == 3 || rpl != c->cpl))
            emu_raise_err(c, EXC_GP, 0);
        load_null(c, seg, sel);
        return;
    }
    uint64_t d = emu_read_desc(c, sel, EXC_GP);
    struct cpu_segment s;
    emu_desc_to_seg(d, sel, &s);
    bool code = s.type & 8, writable = !code && (s.type & 2), readable = !code || (s.type & 2);
    bool conforming = code && (s.type & 4);
    if (seg == SEG_SS) {
        if (!s.s || !writable || rpl != c->cpl || s.dpl != c->cpl)
            emu_raise_err(c, EXC_GP, sel & ~3u);
        if (!s.present)
            emu_raise_err(c, EXC_SS, sel & ~3u);
    } else {
        if (!s.s || !readable)
            emu_raise_err(c, EXC_GP, sel & ~3u);
        if (!conforming && (rpl > s.dpl || c->cpl > s.dpl))
            emu_raise_err(c, EXC_GP, sel & ~3u);
        if (!s.present)
            emu_raise_err(c, EXC_NP, sel & ~3u);
    }
    desc_set_accessed(c, sel, d);
    s.type |= 1;
    if (c->mode == MODE_LONG64 && seg >= SEG_FS)
        s.base = (uint32_t)s.base;  /* the 32-bit base: WRMSR sets 64-bit ones */
    c->seg[seg] = s;
}

void emu_load_cs(struct emu_cpu *c, uint16_t sel, int new_cpl)
{
    if ((sel & ~3u) == 0)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t d = emu_read_desc(c, sel, EXC_GP);
    struct cpu_segment s;
    emu_desc_to_seg(d, sel, &s);
    if (!s.s || !(s.type & 8))
        emu_raise_err(c, EXC_GP, sel & ~3u);
    bool conforming = s.type & 4;
    if (conforming ? s.dpl > new_cpl : s.dpl != new_cpl)
        emu_raise_err(c, EXC_GP, sel & ~3u);
    if (!s.present)
        emu_raise_err(c, EXC_NP, sel & ~3u);
    if ((c->msr.efer & EFER_LMA) && s.l && s.db)
        emu_raise_err(c, EXC_GP, sel & ~3u);
    desc_set_accessed(c, sel, d);
    s.type |= 1;
    s.selector = (uint16_t)((sel & ~3u) | (unsigned)new_cpl);
    c->seg[SEG_CS] = s;
    c->cpl = (uint8_t)new_cpl;
    emu_update_mode(c);
}

/* MOV Sw,Ew (8E) */
OP(op_mov_Sw_Ew)
{
    unsigned seg = i->nnn;
    if (seg == SEG_CS || seg > SEG_GS || i->lock)
        emu_raise(c, EXC_UD);
    uint16_t sel = (uint16_t)rd_E(c, i, 2);
    emu_load_seg(c, (int)seg, sel);
    if (seg == SEG_SS)
        c->intr_shadow = true;
}

/* MOV Ev,Sw (8C): a register destination gets the selector zero-extended
 * to the operand size; memory gets 16 bits */
OP(op_mov_Ew_Sw)
{
    unsigned seg = i->nnn;
    if (seg > SEG_GS || i->lock)
        emu_raise(c, EXC_UD);
    uint16_t sel = c->seg[seg].selector;
    if (i->mod == 3)
        reg_set(c, i->rm, i->osz, sel);
    else
        mem_write(c, i, 2, sel);
}

/* LSS (0F B2), LFS (0F B4), LGS (0F B5), LES (C4), LDS (C5): Mp */
OP(op_load_far_ptr)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    int seg;
    if (i->map == MAP_0F)
        seg = i->op == 0xb2 ? SEG_SS : i->op == 0xb4 ? SEG_FS : SEG_GS;
    else
        seg = i->op == 0xc4 ? SEG_ES : SEG_DS;
    uint64_t ea = insn_ea(c, i);
    uint64_t off = seg_read(c, i->ea_seg, ea, i->osz);
    uint16_t sel = (uint16_t)seg_read(c, i->ea_seg, (ea + i->osz) & mask_of(i->asz), 2);
    emu_load_seg(c, seg, sel);
    wr_G(c, i, i->osz, off);
}

/* The descriptor of sel for LAR/LSL/VERR/VERW, which report an unusable
 * selector in ZF instead of faulting. Returns false when sel is null or
 * outside its table. */
static bool probe_desc(struct emu_cpu *c, uint16_t sel, uint64_t *d)
{
    if ((sel & ~3u) == 0)
        return false;
    uint64_t base, limit;
    if (sel & 4) {
        if (c->ldtr.unusable)
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdt.base;
        limit = c->gdt.limit;
    }
    if ((uint64_t)(sel & ~7u) + 7 > limit)
        return false;
    *d = emu_read_sys(c, base + (sel & ~7u), 8);
    return true;
}

/* Privilege rule shared by the four: DPL >= max(CPL, RPL) unless the
 * segment is conforming code. */
static bool desc_visible(const struct emu_cpu *c, uint64_t d, uint16_t sel)
{
    unsigned dpl = (d >> 45) & 3, type = (d >> 40) & 0xf;
    bool s = (d >> 44) & 1;
    if (s && (type & 0xc) == 0xc)
        return true;
    unsigned need = c->cpl > (sel & 3u) ? c->cpl : (sel & 3u);
    return dpl >= need;
}

/* LAR Gv,Ew (0F 02), LSL Gv,Ew (0F 03) */
OP(op_lar_lsl)
{
    if (c->mode == MODE_REAL)
        emu_raise(c, EXC_UD);
    uint16_t sel = (uint16_t)rd_E(c, i, 2);
    uint64_t d;
    bool ok = probe_desc(c, sel, &d) && desc_visible(c, d, sel);
    if (ok && !((d >> 44) & 1)) {
        unsigned type = (d >> 40) & 0xf;
        bool lm = c->msr.efer & EFER_LMA;
        if (i->op == 0x02)  /* LAR: LDT, TSS, call gate */
            ok = lm ? (type == 2 || type == 9 || type == 0xb || type == 0xc)
                    : (type == 1 || type == 2 || type == 3 || type == 4 || type == 5 || type == 9 || type == 0xb || type == 0xc);
        else                /* LSL: LDT, TSS */
            ok = lm ? (type == 2 || type == 9 || type == 0xb)
                    : (type == 1 || type == 2 || type == 3 || type == 9 || type == 0xb);
    }
    if (!ok) {
        flags_set(c, RFLAGS_ZF, 0);
        return;
    }
    flags_set(c, RFLAGS_ZF, RFLAGS_ZF);
    uint64_t v;
    if (i->op == 0x02) {
        v = (d >> 32) & 0x00f0ff00;
    } else {
        struct cpu_segment s;
        emu_desc_to_seg(d, sel, &s);
        v = s.limit;
    }
    wr_G(c, i, i->osz, v);
}

/* Group 6 /4 VERR, /5 VERW */
void seg_verr_verw(struct emu_cpu *c, const struct insn *i)
{
    uint16_t sel = (uint16_t)rd_E(c, i, 2);
    uint64_t d;
    bool ok = probe_desc(c, sel, &d) && ((d >> 44) & 1) && desc_visible(c, d, sel);
    if (ok) {
        unsigned type = (d >> 40) & 0xf;
        bool code = type & 8;
        ok = i->nnn == 4 ? (!code || (type & 2)) : (!code && (type & 2));
    }
    flags_set(c, RFLAGS_ZF, ok ? RFLAGS_ZF : 0);
}
