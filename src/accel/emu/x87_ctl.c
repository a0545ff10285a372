/* x87 control instructions and state formats, in C: FNINIT, FNCLEX, the
 * full tag word, the FNSTENV/FLDENV and FNSAVE/FRSTOR images, and MMX
 * register aliasing. These move state around without arithmetic, so C is
 * exact; they are not host-executed because their images carry the
 * guest's FIP/FDP, which the host would replace with its own. */
#include "accel/emu/fp.h"

#include <string.h>

/* Changes TOP keeping the physical registers where they are: the FXSAVE
 * layout holds them in stack order (st[i] = ST(i) = physical (TOP + i)),
 * so the array rotates. FNINIT and FLDENV change TOP this way. */
static void x87_set_top(struct cpu_fxsave *fx, unsigned top)
{
    unsigned old = x87_top(fx);
    if (top != old) {
        uint8_t st[8][16];
        for (unsigned j = 0; j < 8; j++)
            memcpy(st[j], fx->st[(j + top - old) & 7], 16);
        memcpy(fx->st, st, sizeof(st));
    }
    fx->fsw = (uint16_t)((fx->fsw & ~FSW_TOP) | (top << FSW_TOP_SHIFT));
}

void x87_init(struct cpu_fxsave *fx)
{
    x87_set_top(fx, 0);
    fx->fcw = FCW_DEFAULT;
    fx->fsw = 0;
    fx->ftw = 0;
    fx->fop = 0;
    fx->fip = 0;
    fx->fdp = 0;
}

void x87_clex(struct cpu_fxsave *fx)
{
    fx->fsw &= ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

void x87_fix_es(struct cpu_fxsave *fx)
{
    if (fx->fsw & ~fx->fcw & FSW_EXC)
        fx->fsw |= FSW_ES | FSW_B;
    else
        fx->fsw &= ~(FSW_ES | FSW_B);
}

/* The tag an occupied register's contents deserve (SDM vol. 1, 8.1.7). */
static unsigned x87_tag_of(const uint8_t r[10])
{
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, r, 8);
    memcpy(&se, r + 8, 2);
    unsigned exp = se & 0x7fff;
    if (exp == 0x7fff)
        return X87_TAG_SPECIAL;
    if (exp == 0)
        return mant == 0 ? X87_TAG_ZERO : X87_TAG_SPECIAL;  /* zero / denormal */
    if (!(mant >> 63))
        return X87_TAG_SPECIAL;                              /* unnormal */
    return X87_TAG_VALID;
}

uint16_t x87_full_tag(const struct cpu_fxsave *fx)
{
    unsigned top = x87_top(fx);
    uint16_t tw = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned t = X87_TAG_EMPTY;
        if (fx->ftw & (1u << p))
            t = x87_tag_of(fx->st[(p - top) & 7]);
        tw |= (uint16_t)(t << (2 * p));
    }
    return tw;
}

uint8_t x87_abridge_tag(uint16_t full)
{
    uint8_t a = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((full >> (2 * p)) & 3) != X87_TAG_EMPTY)
            a |= (uint8_t)(1u << p);
    return a;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

unsigned x87_env_size(bool opsize16)
{
    return opsize16 ? 14 : 28;
}

/* Protected-mode layouts (SDM vol. 1, figures 8-9 and 8-10). The unused
 * upper halves of the 32-bit format read as ones on current CPUs
 * (checked against the host in the unit test); FCS/FDS are stored as 0
 * (the "FPU CS and DS deprecated" behaviour). */
void x87_env_store(const struct cpu_fxsave *fx, uint8_t *out, bool opsize16)
{
    uint16_t fsw = fx->fsw;
    if (opsize16) {
        put16(out + 0, fx->fcw);
        put16(out + 2, fsw);
        put16(out + 4, x87_full_tag(fx));
        put16(out + 6, (uint16_t)fx->fip);
        put16(out + 8, 0);
        put16(out + 10, (uint16_t)fx->fdp);
        put16(out + 12, 0);
        return;
    }
    put32(out + 0, 0xffff0000u | fx->fcw);
    put32(out + 4, 0xffff0000u | fsw);
    put32(out + 8, 0xffff0000u | x87_full_tag(fx));
    put32(out + 12, (uint32_t)fx->fip);
    put32(out + 16, (uint32_t)(fx->fop & 0x7ff) << 16);
    put32(out + 20, (uint32_t)fx->fdp);
    put32(out + 24, 0xffff0000u);
}

void x87_env_load(struct cpu_fxsave *fx, const uint8_t *in, bool opsize16)
{
    unsigned step = opsize16 ? 2 : 4;  /* 16-bit fields, or in dwords */
    uint16_t fsw = get16(in + step);
    x87_set_top(fx, (fsw >> FSW_TOP_SHIFT) & 7);
    fx->fcw = x87_fcw_norm(get16(in + 0));
    fx->fsw = fsw;
    fx->ftw = x87_abridge_tag(get16(in + 2 * step));
    if (opsize16) {
        fx->fip = get16(in + 6);
        fx->fdp = get16(in + 10);
        fx->fop = 0;
    } else {
        fx->fip = get32(in + 12);
        fx->fop = (get32(in + 16) >> 16) & 0x7ff;
        fx->fdp = get32(in + 20);
    }
    x87_fix_es(fx);
}

unsigned x87_save_size(bool opsize16)
{
    return x87_env_size(opsize16) + 80;
}

void x87_save_store(const struct cpu_fxsave *fx, uint8_t *out, bool opsize16)
{
    unsigned off = x87_env_size(opsize16);
    x87_env_store(fx, out, opsize16);
    for (unsigned i = 0; i < 8; i++)
        memcpy(out + off + 10 * i, fx->st[i], 10);
}

void x87_save_load(struct cpu_fxsave *fx, const uint8_t *in, bool opsize16)
{
    unsigned off = x87_env_size(opsize16);
    x87_env_load(fx, in, opsize16);
    for (unsigned i = 0; i < 8; i++) {
        memset(fx->st[i], 0, 16);
        memcpy(fx->st[i], in + off + 10 * i, 10);
    }
}

/* The FXSAVE layout keeps registers in stack order (st[i] = ST(i)) while
 * MMn is physical register n: making TOP 0 rotates the array. */
void mmx_enter(struct cpu_fxsave *fx)
{
    x87_set_top(fx, 0);
    fx->ftw = 0xff;
}

uint64_t mmx_read(struct cpu_fxsave *fx, unsigned n)
{
    uint64_t v;
    memcpy(&v, fx->st[n & 7], 8);
    return v;
}

void mmx_write(struct cpu_fxsave *fx, unsigned n, uint64_t v)
{
    memcpy(fx->st[n & 7], &v, 8);
    fx->st[n & 7][8] = 0xff;
    fx->st[n & 7][9] = 0xff;
}

void mmx_emms(struct cpu_fxsave *fx)
{
    fx->ftw = 0;
}
