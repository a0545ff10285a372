/* Expands form specs into concrete forms, and draws a case for a form: the
 * instruction bytes (prefixes, REX, opcode, ModRM/SIB, displacement,
 * immediates) and the input state (registers, flags, memory, x87/SSE).
 *
 * The generator knows encodings, not semantics: it only has to make every
 * memory access land where intended (inside the data area, or on purpose
 * just outside the region) and give implicit operands (RSI/RDI/RCX of the
 * string ops, the divide's high half, a return address on the stack) values
 * that make the case meaningful. Everything else is random or an edge value. */
#include <stdio.h>
#include <string.h>

#include "diff.h"

uint64_t rng_next(struct diff_rng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- expansion ---------------------------------------------------------- */

static unsigned imm_bytes(uint8_t code, unsigned osz)
{
    switch (code) {
    case 4: return osz == 2 ? 2 : 4;   /* iz */
    case 8: return osz;                /* iv */
    default: return code;              /* 0, 1, 2 */
    }
}

/* Writes the spec's name with %v/%z/%E expanded. */
static void expand_name(char *out, size_t n, const char *tmpl, unsigned bits, bool mem)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 8 < n; p++) {
        if (*p != '%') {
            out[o++] = *p;
            continue;
        }
        p++;
        if (*p == 'v') {
            o += (size_t)snprintf(out + o, n - o, "%u", bits);
        } else if (*p == 'z') {
            o += (size_t)snprintf(out + o, n - o, "%u", bits > 32 ? 32 : bits);
        } else if (*p == 'X' || *p == 'Q' || *p == 'D') {  /* xmm or m128/m64/m32 */
            const char *m = *p == 'X' ? "m128" : *p == 'Q' ? "m64" : "m32";
            o += (size_t)snprintf(out + o, n - o, "%s", mem ? m : "xmm");
        } else if (*p == 'E') {
            unsigned b = bits;
            if (p[1] >= '0' && p[1] <= '9') {
                b = 0;
                while (p[1] >= '0' && p[1] <= '9')
                    b = b * 10 + (unsigned)(*++p - '0');
            }
            o += (size_t)snprintf(out + o, n - o, "%c%u", mem ? 'm' : 'r', b);
        } else {
            out[o++] = *p;
        }
    }
    out[o < n ? o : n - 1] = 0;
}

size_t gen_expand(const struct diff_table *t, struct diff_form *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct diff_spec *s = &t->specs[i];
        for (unsigned sz = 1; sz <= 8; sz <<= 1) {
            if (!(s->sizes & sz))
                continue;
            for (unsigned v = RM_REG; v <= RM_MEM; v++) {
                uint8_t rm;
                if (s->rm == RM_BOTH)
                    rm = (uint8_t)v;
                else if (v == RM_REG)
                    rm = s->rm;
                else
                    continue;
                if (n == max)
                    return n;
                struct diff_form *f = &out[n++];
                memset(f, 0, sizeof *f);
                expand_name(f->name, sizeof f->name, s->name, sz * 8, rm == RM_MEM);
                f->group = t->group;
                f->osz = (uint8_t)sz;
                f->pfx = s->pfx;
                memcpy(f->op, s->op, sizeof f->op);
                f->oplen = s->oplen;
                f->digit = s->digit;
                f->rm = rm;
                f->opreg = s->opreg;
                f->imm = (uint8_t)imm_bytes(s->imm, sz);
                f->imm2 = s->imm2;
                f->undef_kind = s->undef_kind;
                f->undef = s->undef;
                f->flags = s->flags;
                f->implicit = s->implicit;
                f->excluded = s->excluded;
            }
        }
    }
    return n;
}

/* ---- values ------------------------------------------------------------- */

static uint64_t size_mask(unsigned bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

/* An edge value for a size: limits, their neighbours, carry and overflow
 * boundaries, alternating patterns. */
static uint64_t edge_value(struct diff_rng *r, unsigned bits)
{
    uint64_t m = size_mask(bits), smax = m >> 1, smin = smax + 1;
    const uint64_t v[] = {
        0, 1, 2, 3, m, m - 1, smax, smax - 1, smin, smin + 1,
        0x5555555555555555ull & m, 0xaaaaaaaaaaaaaaaaull & m,
        1ull << (bits / 2), (1ull << (bits - 2)), smax >> 1, (smin >> 1) | smin,
    };
    return v[rng_below(r, sizeof v / sizeof v[0])];
}

/* A register or immediate value centred on an operand size of `bits`. */
static uint64_t gen_value(struct diff_rng *r, unsigned bits)
{
    static const unsigned sizes[] = { 8, 16, 32, 64 };
    if (rng_below(r, 4) == 0)
        bits = sizes[rng_below(r, 4)];
    uint64_t m = size_mask(bits), v;
    unsigned k = (unsigned)rng_below(r, 10);
    if (k < 4)
        return rng_next(r);
    if (k < 8)
        v = edge_value(r, bits);
    else if (k == 8)
        v = rng_below(r, bits + 3);
    else
        v = (0 - rng_below(r, bits + 3)) & m;
    switch (rng_below(r, 3)) {  /* the bits above the size */
    case 0: return v;
    case 1: return v | (rng_next(r) & ~m);
    default: return (v & (1ull << (bits - 1))) ? (v | ~m) : v;  /* sign-extended */
    }
}

/* Shift and rotate counts: idx walks 0..size+1 and the interesting larger
 * counts first, so a bounded run covers every count; then random bytes. */
static uint8_t gen_count(struct diff_rng *r, unsigned bits, uint64_t idx)
{
    static const uint8_t extra[] = { 0x1f, 0x20, 0x21, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xff, 0xe1 };
    if (idx < bits + 2)
        return (uint8_t)idx;
    idx -= bits + 2;
    if (idx < sizeof extra)
        return extra[idx];
    if (rng_below(r, 2))
        return (uint8_t)rng_below(r, bits + 2);
    return (uint8_t)rng_next(r);
}

/* 16 bytes of SSE operand: random bits, or float/double edge values per
 * lane (zeros, ones, infinities, NaNs quiet and signalling, denormals,
 * limits). */
static void fp_fill(struct diff_rng *r, uint8_t *p)
{
    static const uint32_t f32[] = {
        0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
        0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x3f000000,
    };
    static const uint64_t f64[] = {
        0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull,
        0x000fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull, 0x43e0000000000000ull,
        0xc3e0000000000000ull, 0x41e0000000000000ull, 0x3fe0000000000000ull,
    };
    unsigned kind = (unsigned)rng_below(r, 4);
    for (int i = 0; i < 16; i += 8) {
        uint64_t v;
        if (kind == 0) {
            v = rng_next(r);
        } else if (kind == 1) {
            v = f32[rng_below(r, 16)] | (uint64_t)f32[rng_below(r, 16)] << 32;
        } else if (kind == 2) {
            v = f64[rng_below(r, 16)];
        } else {   /* small integers, for the integer and conversion forms */
            v = gen_value(r, 8u << rng_below(r, 4));
        }
        memcpy(p + i, &v, 8);
    }
}

/* ---- encoding ----------------------------------------------------------- */

struct enc {
    uint8_t b[DIFF_MAX_INSN];
    unsigned n;
};

static void put(struct enc *e, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes && e->n < DIFF_MAX_INSN; i++)
        e->b[e->n++] = (uint8_t)(v >> (8 * i));
}

/* Picks a register in 0..15 (0..7 without REX) not in `avoid`. */
static unsigned pick_reg(struct diff_rng *r, uint32_t avoid, bool rex_ok)
{
    unsigned lim = rex_ok ? 16 : 8;
    for (int tries = 0; tries < 64; tries++) {
        unsigned x = (unsigned)rng_below(r, lim);
        if (!(avoid & (1u << x)))
            return x;
    }
    for (unsigned x = 0; x < lim; x++)
        if (!(avoid & (1u << x)))
            return x;
    return 3;
}

static void mem_write(struct diff_case *c, uint64_t addr, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t a = addr + i;
        if (a >= DIFF_BASE && a < DIFF_BASE + DIFF_SIZE)
            c->image[a - DIFF_BASE] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t mem_read(const struct diff_case *c, uint64_t addr, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t a = addr + i;
        if (a >= DIFF_BASE && a < DIFF_BASE + DIFF_SIZE)
            v |= (uint64_t)c->image[a - DIFF_BASE] << (8 * i);
    }
    return v;
}

/* Value of an 8/16/32/64-bit register operand as the instruction sees it. */
static uint64_t reg_read(const struct diff_case *c, unsigned reg, unsigned osz, bool rex)
{
    if (osz == 1 && !rex && reg >= 4 && reg < 8)
        return (c->in.regs[reg - 4] >> 8) & 0xff;
    return c->in.regs[reg] & size_mask(osz * 8);
}

/* An address for a memory operand that faults on purpose: just past the
 * region (straddling its end or not), below it, or non-canonical. */
static uint64_t fault_address(struct diff_rng *r, unsigned osz, bool canonical_only)
{
    switch (rng_below(r, canonical_only ? 3 : 4)) {
    case 0: return DIFF_BASE + DIFF_SIZE - (osz > 1 ? 1 + rng_below(r, osz - 1) : 0);
    case 1: return DIFF_BASE - 1 - rng_below(r, 64);
    case 2: return DIFF_BASE + DIFF_SIZE + rng_below(r, 0x1000);
    default: return 0x8000000000000000ull + rng_below(r, 0x10000) * 8;
    }
}

void gen_case(const struct diff_form *f, uint64_t seed, uint64_t idx, struct diff_case *c)
{
    struct diff_rng rr = { 0 }, *r = &rr;
    uint64_t h = 1469598103934665603ull;
    for (const char *p = f->name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    rr.s = mix64(seed ^ mix64(h ^ mix64(idx))) | 1;

    memset(c, 0, sizeof *c);
    unsigned bits = f->osz * 8u;
    const uint64_t data = DIFF_BASE + DIFF_DATA_OFF;
    const uint64_t code = DIFF_BASE + DIFF_CODE_OFF;

    /* Memory: code page all INT3, data and stack random with edge values. */
    memset(c->image, 0xcc, DIFF_DATA_OFF);
    for (unsigned i = DIFF_DATA_OFF; i < DIFF_SIZE; i += 8) {
        uint64_t v = rng_below(r, 4) ? rng_next(r) : edge_value(r, 8u << rng_below(r, 4));
        memcpy(c->image + i, &v, 8);
    }

    for (int i = 0; i < GPR_COUNT; i++)
        c->in.regs[i] = gen_value(r, bits);
    c->in.regs[GPR_RSP] = DIFF_BASE + DIFF_STACK_TOP - 8 * rng_below(r, 32);
    if (rng_below(r, 10) == 0)
        c->in.regs[GPR_RSP] -= 1 + rng_below(r, 7);
    const uint64_t arith = RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF;
    c->in.rflags = (rng_next(r) & arith) | RFLAGS_FIXED | RFLAGS_IF;
    if (rng_below(r, (f->flags & F_STR) ? 2 : 8) == 0)
        c->in.rflags |= RFLAGS_DF;

    c->in.fx.fcw = 0x37f;
    c->in.fx.mxcsr = 0x1f80;
    c->in.fx.mxcsr_mask = 0xffff;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j += 8) {
            uint64_t v = gen_value(r, 64);
            memcpy(&c->in.fx.xmm[i][j], &v, 8);
        }

    if (f->flags & F_FP) {
        for (int i = 0; i < 16; i++)
            fp_fill(r, c->in.fx.xmm[i]);
        /* Every exception masked (an unmasked one is its own form); random
         * rounding, FTZ/DAZ and sticky flags. */
        c->in.fx.mxcsr = 0x1f80 | (uint32_t)(rng_next(r) & 0x603f);
        if (rng_below(r, 4) == 0)
            c->in.fx.mxcsr |= 0x8040;
    }

    if (f->flags & F_X87) {
        /* ST0..7: zeros, denormals, unnormals, infinities, NaNs and normal
         * numbers around 1 and at the limits, with random tags and TOP so
         * that stack overflow and underflow happen too. */
        static const uint16_t exps[] = { 0, 0, 1, 0x3ffe, 0x3fff, 0x3fff, 0x4000, 0x401e, 0x403e,
                                         0x43fe, 0x7ffe, 0x7fff, 0x3c00, 0xbfff, 0xc000, 0xffff };
        for (int i = 0; i < 8; i++) {
            uint64_t m = rng_next(r);
            switch (rng_below(r, 4)) {
            case 0: m = 1ull << 63; break;
            case 1: m |= 1ull << 63; break;
            case 2: m = (m | 1ull << 63) & ~0xffffffffull; break;
            default: break;   /* integer bit clear: unnormal or denormal */
            }
            uint16_t e = exps[rng_below(r, 16)];
            if (rng_below(r, 8) == 0)
                e = (uint16_t)rng_next(r);
            memcpy(c->in.fx.st[i], &m, 8);
            memcpy(c->in.fx.st[i] + 8, &e, 2);
        }
        c->in.fx.ftw = rng_below(r, 3) ? (uint8_t)rng_next(r) : (rng_below(r, 2) ? 0xff : 0);
        c->in.fx.fsw = (uint16_t)(rng_below(r, 8) << 11);
        c->in.fx.fcw = (uint16_t)(0x37f | (rng_below(r, 4) << 10));   /* rounding control */
        if (rng_below(r, 8) == 0)
            c->in.fx.fcw &= (uint16_t)~0x300;   /* single precision */
    }

    /* Registers named by the encoding. */
    bool rex_ok = !(f->flags & F_NOREX);
    uint32_t avoid = f->implicit;
    unsigned reg = f->digit >= 0 ? (unsigned)f->digit : pick_reg(r, 0, rex_ok);
    unsigned rmreg = pick_reg(r, 0, rex_ok);
    if (f->digit < 0)
        avoid |= 1u << reg;
    if (f->opreg)
        rmreg = pick_reg(r, 0, rex_ok);

    struct enc e = { .n = 0 };
    uint8_t rex = 0;
    if (f->osz == 8)
        rex |= 0x48;
    if (f->digit < 0 && reg >= 8)
        rex |= 0x44;

    /* ModRM/SIB/displacement for a memory operand (filled below, once the
     * instruction length is known for RIP-relative forms). */
    uint8_t modrm = 0, sib = 0;
    bool has_sib = false;
    int disp_bytes = 0;
    uint64_t disp = 0;
    bool riprel = false;
    bool fault = false;
    unsigned mem_size = f->osz;
    if (f->op[0] == 0x0f && f->op[1] == 0xc7)
        mem_size = f->osz * 2;   /* cmpxchg8b/16b */

    if (f->rm == RM_MEM) {
        uint64_t off;
        if (f->flags & F_BTOFF)
            off = DIFF_DATA_SIZE / 2;
        else
            off = rng_below(r, DIFF_DATA_SIZE - 32);
        unsigned align = (f->flags & (F_CX16 | F_FP)) ? 16 : f->osz;
        if (rng_below(r, 10) < 7)
            off &= ~(uint64_t)(align - 1);
        uint64_t ea = data + off;
        if (!(f->flags & F_NOMEMFLT) && rng_below(r, 100) < 4) {
            fault = true;
            ea = fault_address(r, mem_size, false);
        }
        unsigned mode = (unsigned)rng_below(r, 6);
        if (fault && ea >> 47)
            mode = (unsigned)rng_below(r, 4);  /* needs a register base */
        unsigned base = pick_reg(r, avoid | (1u << GPR_RSP), rex_ok);
        unsigned mod = 0, rmf = base & 7;
        uint64_t basev = ea;
        switch (mode) {
        case 0:  /* [base] */
            if ((base & 7) == 5) {
                mod = 1, disp_bytes = 1;
            }
            break;
        case 1:  /* [base+disp8] */
            mod = 1, disp_bytes = 1;
            disp = (uint64_t)(int64_t)(int8_t)rng_next(r);
            break;
        case 2:  /* [base+disp32] */
            mod = 2, disp_bytes = 4;
            disp = (uint64_t)(int64_t)(int32_t)(rng_below(r, 2) ? rng_next(r) : rng_below(r, 0x2000) - 0x1000);
            break;
        case 3: { /* [base+index*scale+disp8] */
            unsigned index = pick_reg(r, avoid | (1u << GPR_RSP) | (1u << base), rex_ok);
            unsigned scale = (unsigned)rng_below(r, 4);
            uint64_t iv = rng_below(r, 2) ? rng_below(r, 64) : (uint64_t)-(int64_t)rng_below(r, 64);
            if (rng_below(r, 4) == 0)
                iv = rng_next(r);
            c->in.regs[index] = iv;
            basev -= iv << scale;
            mod = 1, disp_bytes = 1;
            disp = (uint64_t)(int64_t)(int8_t)rng_next(r);
            rmf = 4, has_sib = true;
            sib = (uint8_t)((scale << 6) | ((index & 7) << 3) | (base & 7));
            if (index >= 8)
                rex |= 0x42;
            avoid |= 1u << index;
            break;
        }
        case 4:  /* [rip+disp32] */
            riprel = true;
            mod = 0, rmf = 5, disp_bytes = 4;
            break;
        default: /* [disp32] through SIB without base or index */
            mod = 0, rmf = 4, has_sib = true, disp_bytes = 4;
            sib = 0x25;
            disp = ea;
            break;
        }
        if (mode <= 3) {
            if ((base & 7) == 4 && !has_sib) {  /* r12 as base needs a SIB */
                rmf = 4, has_sib = true;
                sib = 0x24;
            }
            if (base >= 8)
                rex |= 0x41;
            c->in.regs[base] = basev - disp;
            avoid |= 1u << base;
        }
        modrm = (uint8_t)((mod << 6) | ((reg & 7) << 3) | rmf);
        c->ea = ea;
    } else if (f->rm == RM_REG) {
        if (rmreg >= 8)
            rex |= 0x41;
        modrm = (uint8_t)(0xc0 | ((reg & 7) << 3) | (rmreg & 7));
    } else if (f->opreg) {
        if (rmreg >= 8)
            rex |= 0x41;
    }
    if (rex_ok && !rex && rng_below(r, 4) == 0)
        rex = 0x40;   /* a plain REX: SPL..DIL instead of AH..BH, else a no-op */
    bool has_rex = rex != 0;

    /* Prefixes, opcode, ModRM, SIB, displacement. */
    if (f->flags & F_LOCKP)
        put(&e, 0xf0, 1);
    if (f->osz == 2 && f->pfx != 0x66)
        put(&e, 0x66, 1);
    if (f->pfx)
        put(&e, f->pfx, 1);
    if (f->flags & F_A32)
        put(&e, 0x67, 1);
    if (has_rex)
        put(&e, rex, 1);
    for (unsigned i = 0; i < f->oplen; i++) {
        uint8_t b = f->op[i];
        if (f->opreg && i == f->oplen - 1u)
            b = (uint8_t)(b + (rmreg & 7));
        put(&e, b, 1);
    }
    unsigned disp_at = 0;
    if (f->rm != RM_NONE) {
        put(&e, modrm, 1);
        if (has_sib)
            put(&e, sib, 1);
        disp_at = e.n;
        put(&e, disp, (unsigned)disp_bytes);
    }

    /* Immediates. */
    uint64_t imm = gen_value(r, f->imm ? f->imm * 8u : 8);
    if (f->flags & F_CNT_IMM) {
        imm = gen_count(r, bits, idx);
        if ((f->flags & F_SHXD16) && f->osz == 2 && (imm & 31) > 16)
            imm &= 15;
        c->count = imm, c->has_count = true;
    }
    unsigned imm_at = e.n;
    put(&e, imm, f->imm);
    if (f->imm2)
        put(&e, rng_below(r, 3) ? rng_below(r, 4) : rng_next(r), f->imm2);
    if (f->flags & F_REL) {
        /* A target inside the code page (which is all INT3). */
        int64_t next = (int64_t)(code + e.n);
        int64_t target = (int64_t)(DIFF_BASE + 0x10 + rng_below(r, 0xfe0));
        if (f->imm == 1)
            target = next + (int8_t)rng_next(r);
        /* Never back into the instruction itself: that would loop. */
        if (target >= (int64_t)code && target < next)
            target = next + (int64_t)rng_below(r, 100);
        uint64_t rel = (uint64_t)(target - next);
        e.n = imm_at;
        put(&e, rel, f->imm);
    }
    if (riprel) {
        uint64_t rel = c->ea - (code + e.n);
        memcpy(&e.b[disp_at], &rel, 4);
    }
    (void)reg_read;

    /* Implicit operands. */
    if (f->flags & F_CNT_CL) {
        uint8_t cnt = gen_count(r, bits, idx);
        if ((f->flags & F_SHXD16) && f->osz == 2 && (cnt & 31) > 16)
            cnt &= 15;
        c->in.regs[GPR_RCX] = (c->in.regs[GPR_RCX] & ~0xffull) | cnt;
        c->count = cnt, c->has_count = true;
    }
    if (f->flags & F_CNT_1)
        c->count = 1, c->has_count = true;
    if (f->flags & F_STR) {
        uint64_t hi = (f->flags & F_A32) ? (rng_next(r) & ~0xffffffffull) : 0;
        c->in.regs[GPR_RSI] = hi | (data + 0x600 + rng_below(r, 0x400));
        c->in.regs[GPR_RDI] = hi | (data + 0x1200 + rng_below(r, 0x400));
        if (f->pfx == 0xf2 || f->pfx == 0xf3) {
            static const uint64_t counts[] = { 0, 1, 2, 3 };
            uint64_t n = idx < 4 ? counts[idx] : rng_below(r, 65);
            c->in.regs[GPR_RCX] = ((f->flags & F_A32) ? (rng_next(r) & ~0xffffffffull) : 0) | n;
        }
        if (rng_below(r, 100) < 3) {   /* run off the end of the region */
            c->in.regs[GPR_RDI] = hi | (DIFF_BASE + DIFF_SIZE - rng_below(r, 24));
            c->in.rflags &= ~RFLAGS_DF;
        }
    }
    if (f->flags & F_DIV) {
        uint64_t lo = c->in.regs[GPR_RAX], m = size_mask(bits), hv;
        bool neg = f->osz == 1 ? (lo >> 7) & 1 : (lo >> (bits - 1)) & 1;
        switch (rng_below(r, 5)) {
        case 0: hv = 0; break;
        case 1: hv = neg ? m : 0; break;
        case 2: hv = rng_below(r, 16); break;
        case 3: hv = neg ? m - rng_below(r, 16) : rng_below(r, 16); break;
        default: hv = rng_next(r); break;
        }
        if (f->osz == 1)
            c->in.regs[GPR_RAX] = (lo & ~0xff00ull) | ((hv & 0xff) << 8);
        else
            c->in.regs[GPR_RDX] = (c->in.regs[GPR_RDX] & ~m) | (hv & m);
    }
    if ((f->flags & F_CMPX) && rng_below(r, 2)) {
        if (f->op[0] == 0x0f && f->op[1] == 0xc7) {   /* cmpxchg8b/16b */
            unsigned half = f->osz;
            uint64_t m = size_mask(half * 8);
            c->in.regs[GPR_RAX] = (c->in.regs[GPR_RAX] & ~m) | mem_read(c, c->ea, half);
            c->in.regs[GPR_RDX] = (c->in.regs[GPR_RDX] & ~m) | mem_read(c, c->ea + half, half);
        } else {
            uint64_t m = size_mask(bits);
            uint64_t v = f->rm == RM_MEM ? mem_read(c, c->ea, f->osz)
                                         : reg_read(c, rmreg, f->osz, has_rex);
            c->in.regs[GPR_RAX] = (c->in.regs[GPR_RAX] & ~m) | v;
        }
    }
    if (f->flags & F_BTOFF) {
        int64_t lim = f->rm == RM_MEM ? (DIFF_DATA_SIZE / 2) * 8 - 64 : 1 << 20;
        int64_t o = rng_below(r, 3) ? (int64_t)rng_below(r, 2 * lim) - lim : (int64_t)rng_below(r, 140) - 70;
        if (f->osz == 2 && (o > 32767 || o < -32768))
            o %= 32768;
        uint64_t m = size_mask(bits);
        if (f->rm == RM_MEM || rng_below(r, 2))
            c->in.regs[reg] = (c->in.regs[reg] & ~m) | ((uint64_t)o & m);
    }
    if (f->flags & F_RBP)
        c->in.regs[GPR_RBP] = DIFF_BASE + DIFF_STACK_OFF + 0x400 + 8 * rng_below(r, 0x80);
    if (f->flags & F_RET)
        mem_write(c, c->in.regs[GPR_RSP], DIFF_BASE + 0x10 + rng_below(r, 0xfe0), 8);
    if (f->flags & F_POPF)
        mem_write(c, c->in.regs[GPR_RSP], rng_next(r) & ~RFLAGS_TF & 0x3fffff, 8);
    if (f->implicit & (1u << GPR_RBX) && f->rm == RM_NONE && !(f->flags & F_STR))
        c->in.regs[GPR_RBX] = data + rng_below(r, DIFF_DATA_SIZE - 256);   /* xlat */
    if ((f->flags & (F_FP | F_X87)) && f->rm == RM_MEM && c->ea >= data && c->ea + 16 <= data + DIFF_DATA_SIZE)
        fp_fill(r, c->image + (c->ea - DIFF_BASE));
    if (f->flags & F_JTARGET) {
        uint64_t t = DIFF_BASE + 0x10 + rng_below(r, 0xfe0);
        if (t >= code && t < code + e.n)
            t = code + e.n + rng_below(r, 64);
        if (f->rm == RM_MEM)
            mem_write(c, c->ea, t, 8);
        else
            c->in.regs[rmreg] = t;
    }
    (void)fault;

    memcpy(c->bytes, e.b, e.n);
    c->len = e.n;
    memcpy(c->image + DIFF_CODE_OFF, e.b, e.n);
    c->in.rip = code;
}
