/* The x86 decoder: bytes -> struct insn.
 *
 * Pure function of the bytes and the mode (no CPU state), so that it can be
 * tested on byte sequences and cached per physical page later. The tables
 * below say, per opcode, whether a ModRM byte and which immediate follow and
 * how 64-bit mode treats the operand size; they follow the opcode maps of
 * the Intel SDM vol. 2, appendix A. */
#include "accel/emu/insn.h"

enum {
    F_M    = 1 << 0,   /* ModRM follows */
    F_IB   = 1 << 1,   /* imm8, sign-extended */
    F_IW   = 1 << 2,   /* imm16, zero-extended */
    F_IZ   = 1 << 3,   /* imm16/32 by operand size, sign-extended to 64 */
    F_IV   = 1 << 4,   /* imm16/32/64 by operand size (MOV r, imm) */
    F_IWB  = 1 << 5,   /* imm16 then imm8 (ENTER) */
    F_AP   = 1 << 6,   /* far pointer: offset16/32 then selector16 */
    F_MOFFS= 1 << 7,   /* moffs: address-size offset */
    F_D64  = 1 << 8,   /* default operand size 64 in 64-bit mode (66 gives 16) */
    F_F64  = 1 << 9,   /* operand size forced to 64 in 64-bit mode */
    F_I64  = 1 << 10,  /* invalid in 64-bit mode */
    F_UD   = 1 << 11,  /* undefined opcode */
    F_GRP3 = 1 << 12,  /* F6/F7: an immediate for /0 and /1 only */
    F_CR   = 1 << 13,  /* MOV CR/DR: ModRM is always a register, operand size 32/64 */
};

#define M    F_M
#define MIB  (F_M | F_IB)
#define MIZ  (F_M | F_IZ)
#define IB   F_IB
#define IZ   F_IZ
#define D64  F_D64
#define F64  F_F64
#define I64  F_I64
#define UD   F_UD
#define X    0   /* no operands beyond the opcode */
#define PFXB UD  /* a prefix byte: never reaches the table lookup */

/* One-byte opcode map */
static const uint16_t attr_1byte[256] = {
    /* 00 */ M, M, M, M, IB, IZ, I64, I64,   M, M, M, M, IB, IZ, I64, UD /* 0F escape */,
    /* 10 */ M, M, M, M, IB, IZ, I64, I64,   M, M, M, M, IB, IZ, I64, I64,
    /* 20 */ M, M, M, M, IB, IZ, PFXB, I64,  M, M, M, M, IB, IZ, PFXB, I64,
    /* 30 */ M, M, M, M, IB, IZ, PFXB, I64,  M, M, M, M, IB, IZ, PFXB, I64,
    /* 40 INC/DEC (REX in 64-bit mode) */
    X, X, X, X, X, X, X, X,   X, X, X, X, X, X, X, X,
    /* 50 PUSH/POP */
    D64, D64, D64, D64, D64, D64, D64, D64,   D64, D64, D64, D64, D64, D64, D64, D64,
    /* 60 */ I64, I64, I64 | M, M /* ARPL / MOVSXD */, PFXB, PFXB, PFXB, PFXB,
             IZ | D64, MIZ, IB | D64, MIB, X, X, X, X,
    /* 70 Jcc rel8 */
    IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64,
    IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64, IB | F64,
    /* 80 */ MIB, MIZ, MIB | I64, MIB, M, M, M, M,   M, M, M, M, M, M, M, M | D64,
    /* 90 */ X, X, X, X, X, X, X, X,   X, X, F_AP | I64, X, D64, D64, X, X,
    /* A0 */ F_MOFFS, F_MOFFS, F_MOFFS, F_MOFFS, X, X, X, X,   IB, IZ, X, X, X, X, X, X,
    /* B0 */ IB, IB, IB, IB, IB, IB, IB, IB,   F_IV, F_IV, F_IV, F_IV, F_IV, F_IV, F_IV, F_IV,
    /* C0 */ MIB, MIB, F_IW | F64, F64, M | I64, M | I64, MIB, MIZ,
             F_IWB | D64, D64, F_IW, X, X, IB, I64, X,
    /* D0 */ M, M, M, M, IB | I64, IB | I64, UD, X,   M, M, M, M, M, M, M, M,
    /* E0 */ IB | F64, IB | F64, IB | F64, IB | F64, IB, IB, IB, IB,
             IZ | F64, IZ | F64, F_AP | I64, IB | F64, X, X, X, X,
    /* F0 */ PFXB, X, PFXB, PFXB, X, X, M | F_GRP3, M | F_GRP3,   X, X, X, X, X, X, M, M,
};

/* Two-byte opcode map (0F xx) */
static const uint16_t attr_0f[256] = {
    /* 00 */ M, M, M, M, UD, X, X, X,   X, X, UD, X, UD, M, UD, UD,
    /* 10 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* 20 */ F_CR, F_CR, F_CR, F_CR, UD, UD, UD, UD,   M, M, M, M, M, M, M, M,
    /* 30 */ X, X, X, X, X, X, UD, UD,   UD, UD, UD, UD, UD, UD, UD, UD,
    /* 40 CMOVcc */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* 50 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* 60 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* 70 */ MIB, MIB, MIB, MIB, M, M, M, X,   UD, UD, UD, UD, M, M, M, M,
    /* 80 Jcc rel32 */
    IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64,
    IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64, IZ | F64,
    /* 90 SETcc */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* A0 */ D64, D64, X, M, MIB, M, UD, UD,   D64, D64, X, M, MIB, M, M, M,
    /* B0 */ M, M, M, M, M, M, M, M,   M, M, MIB, M, M, M, M, M,
    /* C0 */ M, M, MIB, M, MIB, MIB, MIB, M,   X, X, X, X, X, X, X, X,
    /* D0 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* E0 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
    /* F0 */ M, M, M, M, M, M, M, M,   M, M, M, M, M, M, M, M,
};

struct cursor {
    const uint8_t *buf;
    unsigned pos, avail;
    int err;
};

static inline uint64_t take(struct cursor *k, unsigned n)
{
    uint64_t v = 0;
    if (k->pos + n > 15) {
        if (!k->err)
            k->err = DECODE_TOOLONG;
        return 0;
    }
    if (k->pos + n > k->avail) {
        if (!k->err)
            k->err = DECODE_MORE;
        return 0;
    }
    for (unsigned b = 0; b < n; b++)
        v |= (uint64_t)k->buf[k->pos + b] << (8 * b);
    k->pos += n;
    return v;
}

/* The 16-bit addressing forms: base and index per rm value. */
static const uint8_t ea16_base[8] = { GPR_RBX, GPR_RBX, GPR_RBP, GPR_RBP, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RBX };
static const uint8_t ea16_index[8] = { GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, EA_NONE, EA_NONE, EA_NONE, EA_NONE };

static void decode_modrm(struct cursor *k, struct insn *i, bool code64)
{
    uint8_t m = (uint8_t)take(k, 1);
    i->has_modrm = true;
    i->modrm = m;
    i->mod = m >> 6;
    i->nnn = (m >> 3) & 7;
    i->reg = i->nnn | ((i->rex & 4) << 1);
    i->rm = (m & 7) | ((i->rex & 1) << 3);
    i->ea_base = EA_NONE;
    i->ea_index = EA_NONE;
    i->ea_scale = 0;
    i->disp = 0;
    if (i->mod == 3)
        return;
    bool ss = false;
    unsigned rm = m & 7;
    if (i->asz == 2) {
        if (i->mod == 0 && rm == 6) {
            i->disp = (int64_t)(uint16_t)take(k, 2);
        } else {
            i->ea_base = ea16_base[rm];
            i->ea_index = ea16_index[rm];
            ss = i->ea_base == GPR_RBP;
            if (i->mod == 1)
                i->disp = (int8_t)take(k, 1);
            else if (i->mod == 2)
                i->disp = (int16_t)take(k, 2);
        }
    } else {
        if (rm == 4) {
            uint8_t sib = (uint8_t)take(k, 1);
            unsigned base = sib & 7, index = ((sib >> 3) & 7) | ((i->rex & 2) << 2);
            i->ea_scale = sib >> 6;
            if (index != 4)
                i->ea_index = (uint8_t)index;
            if (base == 5 && i->mod == 0) {
                i->disp = (int32_t)take(k, 4);
            } else {
                i->ea_base = (uint8_t)(base | ((i->rex & 1) << 3));
                ss = i->ea_base == GPR_RSP || i->ea_base == GPR_RBP;
            }
        } else if (rm == 5 && i->mod == 0) {
            i->disp = (int32_t)take(k, 4);
            if (code64)
                i->ea_base = EA_RIP;
        } else {
            i->ea_base = (uint8_t)(rm | ((i->rex & 1) << 3));
            ss = i->ea_base == GPR_RBP;
        }
        if (i->mod == 1)
            i->disp = (int8_t)take(k, 1);
        else if (i->mod == 2)
            i->disp = (int32_t)take(k, 4);
    }
    if (i->seg_override >= 0)
        i->ea_seg = (uint8_t)i->seg_override;
    else
        i->ea_seg = ss ? SEG_SS : SEG_DS;
}

int emu_decode(const uint8_t *buf, unsigned avail, struct decode_mode m, struct insn *i)
{
    struct cursor k = { buf, 0, avail > 15 ? 15 : avail, 0 };
    uint8_t b;
    uint8_t last_sse = 0; /* the last of 66/F2/F3 */

    memset(i, 0, offsetof(struct insn, bytes));
    i->seg_override = -1;
    i->ea_base = i->ea_index = EA_NONE;
    i->ea_seg = SEG_DS;

    for (;;) {
        b = (uint8_t)take(&k, 1);
        if (k.err)
            return k.err;
        switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            /* ES/CS/SS/DS overrides: null prefixes in 64-bit mode */
            if (!m.code64)
                i->seg_override = (int8_t)((b >> 3) & 3);
            i->rex = 0;
            continue;
        case 0x64: case 0x65:
            i->seg_override = (int8_t)(SEG_FS + (b & 1));
            i->rex = 0;
            continue;
        case 0x66:
            i->opsize_pfx = true;
            if (!last_sse)
                last_sse = 0x66;
            i->rex = 0;
            continue;
        case 0x67:
            i->adsize_pfx = true;
            i->rex = 0;
            continue;
        case 0xf0:
            i->lock = true;
            i->rex = 0;
            continue;
        case 0xf2: case 0xf3:
            i->rep = b;
            last_sse = b;
            i->rex = 0;
            continue;
        default:
            break;
        }
        if (m.code64 && (b & 0xf0) == 0x40) {
            i->rex = b; /* only effective when the opcode follows directly */
            continue;
        }
        break;
    }
    i->pfx = last_sse == 0xf3 ? PFX_F3 : last_sse == 0xf2 ? PFX_F2 : last_sse == 0x66 ? PFX_66 : PFX_NONE;

    uint16_t attr;
    if (b == 0x0f) {
        b = (uint8_t)take(&k, 1);
        if (k.err)
            return k.err;
        if (b == 0x38 || b == 0x3a) {
            i->map = b == 0x38 ? MAP_0F38 : MAP_0F3A;
            b = (uint8_t)take(&k, 1);
            if (k.err)
                return k.err;
            attr = i->map == MAP_0F3A ? MIB : M;
        } else {
            i->map = MAP_0F;
            attr = attr_0f[b];
        }
    } else {
        i->map = MAP_1BYTE;
        attr = attr_1byte[b];
    }
    i->op = b;
    if ((attr & F_UD) || (m.code64 && (attr & F_I64)))
        return DECODE_UD;

    bool w = i->rex & 8;
    if (m.code64) {
        if (w)
            i->osz = 8;
        else if (attr & F_F64)
            i->osz = 8;
        else if (attr & F_D64)
            i->osz = i->opsize_pfx ? 2 : 8;
        else
            i->osz = i->opsize_pfx ? 2 : 4;
        i->asz = i->adsize_pfx ? 4 : 8;
    } else {
        i->osz = (m.def32 ^ i->opsize_pfx) ? 4 : 2;
        i->asz = (m.def32 ^ i->adsize_pfx) ? 4 : 2;
    }

    if (attr & F_CR) {
        /* MOV to/from CRn/DRn: the r/m field always names a register */
        uint8_t mr = (uint8_t)take(&k, 1);
        if (k.err)
            return k.err;
        i->has_modrm = true;
        i->modrm = mr;
        i->mod = 3;
        i->nnn = (mr >> 3) & 7;
        i->reg = i->nnn | ((i->rex & 4) << 1);
        i->rm = (mr & 7) | ((i->rex & 1) << 3);
        i->osz = m.code64 ? 8 : 4;
    } else if (attr & F_M) {
        decode_modrm(&k, i, m.code64);
        if (k.err)
            return k.err;
    }

    if (i->map == MAP_1BYTE) {
        if (attr & F_GRP3) {
            if (i->nnn < 2)
                attr |= (b & 1) ? F_IZ : F_IB;
        } else if (b == 0xff && m.code64 && !w) {
            if (i->nnn == 2 || i->nnn == 4)
                i->osz = 8;                      /* CALL/JMP near indirect */
            else if (i->nnn == 6)
                i->osz = i->opsize_pfx ? 2 : 8;  /* PUSH Ev */
        }
    }
    if (i->seg_override >= 0 && !i->has_modrm)
        i->ea_seg = (uint8_t)i->seg_override;

    if (attr & F_IB)
        i->imm = (uint64_t)(int8_t)take(&k, 1);
    else if (attr & F_IW)
        i->imm = take(&k, 2);
    else if (attr & F_IZ)
        i->imm = i->osz == 2 ? (uint64_t)(int16_t)take(&k, 2) : (uint64_t)(int32_t)take(&k, 4);
    else if (attr & F_IV)
        i->imm = take(&k, i->osz);
    else if (attr & F_IWB) {
        i->imm = take(&k, 2);
        i->imm2 = take(&k, 1);
    } else if (attr & F_AP) {
        i->imm = take(&k, i->osz == 2 ? 2 : 4);
        i->imm2 = take(&k, 2);
    } else if (attr & F_MOFFS)
        i->imm = take(&k, i->asz);
    if (k.err)
        return k.err;

    i->len = (uint8_t)k.pos;
    memcpy(i->bytes, buf, k.pos);
    return DECODE_OK;
}
