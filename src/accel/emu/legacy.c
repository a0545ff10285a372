/* Instructions that exist only outside 64-bit mode (the decoder raises #UD
 * for them in 64-bit mode): the BCD adjustments DAA/DAS/AAA/AAS/AAM/AAD,
 * PUSHA/POPA, BOUND and ARPL. Flags follow the SDM's pseudo-code; flags it
 * calls undefined are cleared. */
#include "accel/emu/insn.h"

static inline uint8_t al(const struct emu_cpu *c) { return (uint8_t)c->r[GPR_RAX]; }
static inline uint8_t ah(const struct emu_cpu *c) { return (uint8_t)(c->r[GPR_RAX] >> 8); }
static inline void set_al(struct emu_cpu *c, uint8_t v) { reg_set(c, GPR_RAX, 1, v); }
static inline void set_ax(struct emu_cpu *c, uint16_t v) { reg_set(c, GPR_RAX, 2, v); }

/* DAA (27), DAS (2F) */
OP(op_daa_das)
{
    bool das = i->op == 0x2f;
    uint8_t old_al = al(c), v = old_al;
    emu_flags_sync(c);
    bool old_cf = c->rflags & RFLAGS_CF, cf = false, af = false;
    if ((v & 0xf) > 9 || (c->rflags & RFLAGS_AF)) {
        cf = old_cf || (das ? v < 6 : v > 0xf9);
        v = (uint8_t)(das ? v - 6 : v + 6);
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        v = (uint8_t)(das ? v - 0x60 : v + 0x60);
        cf = true;
    } else if (!das) {
        cf = false;
    }
    set_al(c, v);
    c->rflags = (c->rflags & ~FLAGS_ARITH) | flags_szp(v, 1) | (cf ? RFLAGS_CF : 0) | (af ? RFLAGS_AF : 0);
}

/* AAA (37), AAS (3F) */
OP(op_aaa_aas)
{
    bool aas = i->op == 0x3f;
    uint16_t ax = (uint16_t)c->r[GPR_RAX];
    emu_flags_sync(c);
    bool adjust = (al(c) & 0xf) > 9 || (c->rflags & RFLAGS_AF);
    if (adjust) {
        if (aas)
            ax = (uint16_t)((((ax >> 8) - 1) << 8) | ((ax - 6) & 0xff));
        else
            ax = (uint16_t)(ax + 0x106);
    }
    set_ax(c, (uint16_t)(ax & 0xff0f));
    c->rflags = (c->rflags & ~FLAGS_ARITH) | (adjust ? (RFLAGS_AF | RFLAGS_CF) : 0) |
                flags_szp(ax & 0x0f, 1);
}

/* AAM Ib (D4): #DE for a zero base */
OP(op_aam)
{
    uint8_t base = (uint8_t)i->imm, v = al(c);
    if (base == 0)
        emu_raise(c, EXC_DE);
    uint8_t q = v / base, r = v % base;
    set_ax(c, (uint16_t)((q << 8) | r));
    emu_flags_sync(c);
    c->rflags = (c->rflags & ~FLAGS_ARITH) | flags_szp(r, 1);
}

/* AAD Ib (D5) */
OP(op_aad)
{
    uint8_t base = (uint8_t)i->imm;
    uint8_t v = (uint8_t)(al(c) + ah(c) * base);
    set_ax(c, v);
    emu_flags_sync(c);
    c->rflags = (c->rflags & ~FLAGS_ARITH) | flags_szp(v, 1);
}

/* PUSHA/PUSHAD (60): AX CX DX BX (old SP) BP SI DI */
OP(op_pusha)
{
    unsigned size = i->osz, ss = emu_stack_size(c);
    uint64_t m = mask_of(ss), sp = c->r[GPR_RSP] & m;
    for (unsigned r = 0; r < 8; r++) {
        uint64_t v = r == GPR_RSP ? sp : c->r[r];
        seg_write(c, SEG_SS, (sp - (r + 1) * size) & m, size, v);
    }
    reg_set(c, GPR_RSP, ss, sp - 8 * size);
}

/* POPA/POPAD (61): the stored SP is skipped */
OP(op_popa)
{
    unsigned size = i->osz, ss = emu_stack_size(c);
    uint64_t m = mask_of(ss), sp = c->r[GPR_RSP] & m;
    uint64_t v[8];
    for (unsigned r = 0; r < 8; r++)
        v[r] = seg_read(c, SEG_SS, (sp + (7 - r) * size) & m, size);
    for (unsigned r = 0; r < 8; r++)
        if (r != GPR_RSP)
            reg_set(c, r, size, v[r]);
    reg_set(c, GPR_RSP, ss, sp + 8 * size);
}

/* BOUND Gv,Ma (62): #BR when the index is outside [lower, upper] */
OP(op_bound)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    unsigned size = i->osz;
    uint64_t ea = insn_ea(c, i);
    int64_t lo = sext(seg_read(c, i->ea_seg, ea, size), size);
    int64_t hi = sext(seg_read(c, i->ea_seg, (ea + size) & mask_of(i->asz), size), size);
    int64_t idx = sext(rd_G(c, i, size), size);
    if (idx < lo || idx > hi)
        emu_raise(c, EXC_BR);
}

/* ARPL Ew,Gw (63 outside 64-bit mode) */
void legacy_arpl(struct emu_cpu *c, const struct insn *i)
{
    if (c->mode == MODE_REAL)
        emu_raise(c, EXC_UD);
    uint16_t d = (uint16_t)rd_E(c, i, 2), s = (uint16_t)rd_G(c, i, 2);
    if ((d & 3) < (s & 3)) {
        wr_E(c, i, 2, (uint16_t)((d & ~3u) | (s & 3u)));
        flags_set(c, RFLAGS_ZF, RFLAGS_ZF);
    } else {
        flags_set(c, RFLAGS_ZF, 0);
    }
}
