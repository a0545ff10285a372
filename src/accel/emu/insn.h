/* Decoded instructions, the opcode tables, and the operand helpers every
 * handler uses.
 *
 * The decoder (decode.c) turns bytes into a struct insn without touching CPU
 * state; dispatch.c maps (map, opcode) to a handler. Handlers are named in
 * Intel operand notation (op_mov_Gv_Ev: "MOV Gv, Ev"), so the SDM's opcode
 * map and the tables read the same.
 *
 * Plug-in points for SSE/MMX and x87 (other files, other owners):
 *   emu_sse_0f[opcode][pfx], emu_sse_0f38[..][pfx], emu_sse_0f3a[..][pfx]
 *     (sse_table.c) -- used for every 0F opcode that the integer table
 *     leaves to SSE; pfx is the mandatory prefix (PFX_NONE/66/F3/F2).
 *   emu_x87_esc[opcode - 0xD8] (x87_table.c) -- the D8..DF escapes.
 * A NULL entry means "not implemented": the engine stops the VM with the
 * RIP and the bytes, it never raises #UD silently. Use op_ud for opcodes
 * that are architecturally undefined. */
#ifndef BRUME_ACCEL_EMU_INSN_H
#define BRUME_ACCEL_EMU_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "accel/emu/emu.h"

/* Opcode maps */
enum { MAP_1BYTE = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3 };

/* Mandatory prefix classes (the VEX "pp" order) */
enum { PFX_NONE = 0, PFX_66 = 1, PFX_F3 = 2, PFX_F2 = 3 };

/* No register in an address component */
#define EA_NONE 0xff
/* Base "register" for RIP-relative addressing */
#define EA_RIP  0xfe

struct insn {
    uint8_t len;        /* total length in bytes, 1..15 */
    uint8_t map;        /* MAP_* */
    uint8_t op;         /* opcode byte within the map */
    uint8_t pfx;        /* PFX_*: mandatory prefix for SSE tables */
    uint8_t rep;        /* 0, 0xF2 (REPNE) or 0xF3 (REP/REPE) */
    bool lock;
    bool opsize_pfx;    /* 66 was present */
    bool adsize_pfx;    /* 67 was present */
    int8_t seg_override;/* SEG_* or -1 */
    uint8_t rex;        /* the REX byte, 0 if none */
    uint8_t osz;        /* operand size in bytes: 2, 4 or 8 */
    uint8_t asz;        /* address size in bytes: 2, 4 or 8 */

    bool has_modrm;
    uint8_t modrm;
    uint8_t mod;        /* modrm bits 7:6 */
    uint8_t reg;        /* modrm bits 5:3 with REX.R: 0..15 */
    uint8_t rm;         /* modrm bits 2:0 with REX.B (registers only) */
    uint8_t nnn;        /* modrm bits 5:3 alone (group opcode extension) */

    /* memory operand (mod != 3): seg:[base + index*scale + disp] */
    uint8_t ea_base;    /* register, EA_NONE or EA_RIP */
    uint8_t ea_index;   /* register or EA_NONE */
    uint8_t ea_scale;   /* 0..3 (shift) */
    uint8_t ea_seg;     /* default segment (SS for rBP/rSP bases) or the override */
    bool ckpt;          /* in a block: save the flags before it (block.c, flags_safe) */
    int64_t disp;

    uint64_t imm;       /* first immediate, sign- or zero-extended as the opcode says */
    uint64_t imm2;      /* ENTER's second immediate, a far pointer's selector */

    uint8_t bytes[15];  /* the raw bytes, for error messages */
};

typedef void (*emu_op_fn)(struct emu_cpu *c, const struct insn *i);

/* Decoder modes */
struct decode_mode {
    bool code64;        /* 64-bit mode (CS.L with EFER.LMA) */
    bool def32;         /* CS.D: default operand/address size 32 (ignored in 64-bit mode) */
};

enum {
    DECODE_OK = 0,
    DECODE_UD = -1,     /* undefined encoding: #UD */
    DECODE_MORE = -2,   /* needs more bytes than were available */
    DECODE_TOOLONG = -3,/* more than 15 bytes: #GP(0) */
};

/* Decodes one instruction from buf[0..avail). Returns DECODE_OK and fills
 * *i, or a DECODE_* error. Never reads beyond avail (at most 15). */
int emu_decode(const uint8_t *buf, unsigned avail, struct decode_mode m, struct insn *i);

/* One instruction of a decoded block (block.c): the handler and its operands. */
struct emu_binsn {
    emu_op_fn fn;
    struct insn i;
};

/* A decoded block: instructions that run one after another, decoded once.
 * It starts at host byte host, lies within one guest page and ends with a
 * control transfer or an instruction that changes how code is fetched. The
 * header is followed by a copy of the raw bytes (checked at each entry, in
 * the header's cache line for short blocks), then by the instructions. */
struct emu_block {
    const uint8_t *host;  /* first byte */
    uintptr_t page;       /* host address of the first byte of its guest page */
    uint64_t ripmask;     /* RIP wrap of the mode: 0xffff, 0xffffffff or ~0 */
    struct emu_block *next[2]; /* last blocks run after this one: fall-through, other */
    const void *code;     /* its block code (jit.c), or NULL: run by exec.c's loop */
    /* Where its code jumps to a chained successor (any page: the code
     * finds the successor's host byte through the TLB), k as for next[]
     * (jit.c patches them: emu_jit_link); NULL: no code. */
    uint8_t *link_at[2];
    /* Jumps of its code to a target at a constant distance on its own
     * page (the fall-through, a Jcc's two ways, JMP/CALL rel): emu_jit_link
     * points them at the code of the block at page + direct_off[k], with
     * no TLB lookup (jit_goto). */
    uint8_t *direct_at[2];
    uint16_t direct_off[2];
    /* Its check slot: guest_ram_gen when its bytes last equalled guest
     * memory's, and while the count has not moved they still do; 0 once
     * this vCPU stored into its page (block.c). The slots are packed in
     * one array, so that the slots of the blocks that run often share
     * cache lines (block code reads one at each entry). */
    uint64_t *check;
    struct emu_block *pnext; /* the next block decoded from its page (block.c) */
    struct emu_block *hnext; /* the next block in its hash bucket (block.c) */
    uint16_t nbytes;      /* bytes covered */
    uint16_t ins_off;     /* offset of the instructions from the header */
    uint8_t n;            /* instructions */
    uint8_t mode;         /* decode_mode key: code64 | def32 << 1 */
    bool wide;            /* 8 bytes from host are readable (for the check of short blocks) */
    /* Replaced by a block decoded from the new bytes: it never matches
     * again, even if the old bytes come back (block.c drops it from its
     * page's list, so stores would no longer clear its slot). */
    bool dead;
    uint8_t relinks;      /* times a link was changed (jit.c) */
    uint8_t ndirect;      /* direct_at[] in use */
    uint8_t bytes[];      /* nbytes, then padding, then the instructions */
};

static inline const struct emu_binsn *emu_block_insns(const struct emu_block *b)
{
    return (const struct emu_binsn *)(const void *)((const uint8_t *)b + b->ins_off);
}

/* True when b's bytes equal those at p (the self-modifying code check).
 * Reads 8 bytes at b->bytes even for shorter blocks: the instructions
 * follow them. */
static inline bool emu_block_bytes_equal(const struct emu_block *b, const uint8_t *p)
{
    unsigned n = b->nbytes;
    uint64_t x, y, d = 0;
    if (n <= 8 && b->wide) {
        memcpy(&x, b->bytes, 8);
        memcpy(&y, p, 8);
        return !((x ^ y) & (n == 8 ? ~0ull : (1ull << (8 * n)) - 1));
    }
    if (n < 8) {
        for (unsigned k = 0; k < n; k++)
            d |= (uint64_t)(b->bytes[k] ^ p[k]);
        return !d;
    }
    unsigned k = 0;
    for (; k + 8 <= n; k += 8) {
        memcpy(&x, b->bytes + k, 8);
        memcpy(&y, p + k, 8);
        d |= x ^ y;
    }
    if (k < n) {  /* the last 8 bytes, overlapping */
        memcpy(&x, b->bytes + n - 8, 8);
        memcpy(&y, p + n - 8, 8);
        d |= x ^ y;
    }
    return !d;
}

/* True when block b starts at host byte p, was decoded in mode key and
 * its bytes are still those of guest memory: they were at the last check
 * and nothing has changed them since (its slot still holds gen:
 * emu_block_gen, read before this call), or they are now. */
static inline bool emu_block_matches(struct emu_block *b, const uint8_t *p, uint8_t key, uint64_t gen)
{
    if (!b || b->host != p || b->mode != key || b->dead)
        return false;
    if (*b->check == gen && gen != EMU_GEN_NEVER)
        return true;
    if (!emu_block_bytes_equal(b, p))
        return false;
    *b->check = gen;
    return true;
}

/* The block that starts at host byte p, at offset page_off in its guest
 * page with avail bytes readable from p (to the page end, or to the end
 * of the flat runner's memory), in decode mode key (decoding it if it is not cached or its bytes
 * changed); NULL when none can be built there (the first instruction
 * crosses the page or does not decode): the caller then steps that
 * instruction alone. prev, when not NULL, is the block that ran just
 * before: its successor links are tried first and updated. */
struct emu_block *emu_block_get(struct emu_cpu *c, struct emu_block *prev, const uint8_t *p, unsigned page_off,
                                unsigned avail, uint8_t key);

/* Records that b ran right after prev (k: 0 when b is prev's
 * fall-through, else 1): the loop tries it first next time, and prev's
 * block code jumps straight to b's when both have code (in one mode). */
void emu_block_link(struct emu_cpu *c, struct emu_block *prev, unsigned k, struct emu_block *b);

/* Returns the handler for a decoded instruction (never NULL: unknown
 * entries map to op_unimpl). */
emu_op_fn emu_dispatch(const struct insn *i);

/* A faster handler for this decoded form when special.c has one, else fn
 * (the general handler of the opcode tables). */
emu_op_fn emu_specialize(const struct insn *i, emu_op_fn fn);

/* Plug-in tables (see the top of this file) */
extern const emu_op_fn emu_sse_0f[256][4];
extern const emu_op_fn emu_sse_0f38[256][4];
extern const emu_op_fn emu_sse_0f3a[256][4];
extern const emu_op_fn emu_x87_esc[8];

/* Shared handlers */
void op_ud(struct emu_cpu *c, const struct insn *i);      /* #UD */
void op_unimpl(struct emu_cpu *c, const struct insn *i);  /* stops the VM */

/* ---- operand helpers ---- */

static inline uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
    return 1ull << (size * 8 - 1);
}

/* Sign-extends the low size bytes of v. */
static inline int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return (int64_t)(v << sh) >> sh;
}

/* Register n (0..15) read as size bytes; byte registers 4..7 are AH..BH
 * when the instruction has no REX prefix. */
static inline uint64_t reg_read(const struct emu_cpu *c, const struct insn *i, unsigned n, unsigned size)
{
    switch (size) {
    case 1:
        if (n >= 4 && n < 8 && !i->rex)
            return (c->r[n - 4] >> 8) & 0xff;
        return c->r[n] & 0xff;
    case 2: return c->r[n] & 0xffff;
    case 4: return c->r[n] & 0xffffffff;
    default: return c->r[n];
    }
}

/* Writes size bytes to register n: 32-bit writes zero the upper half,
 * 8- and 16-bit writes keep the rest. */
static inline void reg_write(struct emu_cpu *c, const struct insn *i, unsigned n, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        if (n >= 4 && n < 8 && !i->rex)
            c->r[n - 4] = (c->r[n - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        else
            c->r[n] = (c->r[n] & ~0xffull) | (v & 0xff);
        break;
    case 2: c->r[n] = (c->r[n] & ~0xffffull) | (v & 0xffff); break;
    case 4: c->r[n] = v & 0xffffffff; break;
    default: c->r[n] = v; break;
    }
}

/* Writes a register of the given size, whole-register semantics (no AH). */
static inline void reg_set(struct emu_cpu *c, unsigned n, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: c->r[n] = (c->r[n] & ~0xffull) | (v & 0xff); break;
    case 2: c->r[n] = (c->r[n] & ~0xffffull) | (v & 0xffff); break;
    case 4: c->r[n] = v & 0xffffffff; break;
    default: c->r[n] = v; break;
    }
}

/* The effective address (offset) of the memory operand, wrapped to the
 * address size. */
static inline uint64_t insn_ea(const struct emu_cpu *c, const struct insn *i)
{
    uint64_t a = (uint64_t)i->disp;
    if (i->ea_base == EA_RIP)
        a += c->rip + i->len;
    else if (i->ea_base != EA_NONE)
        a += c->r[i->ea_base];
    if (i->ea_index != EA_NONE)
        a += c->r[i->ea_index] << i->ea_scale;
    return a & mask_of(i->asz);
}

/* Linear address of the memory operand for an access of size bytes. */
static inline uint64_t insn_lin(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    uint64_t ea = insn_ea(c, i);
    /* 64-bit mode without FS/GS: no base, only the canonical check */
    if (c->mode == MODE_LONG64 && i->ea_seg < SEG_FS && emu_canonical(ea))
        return ea;
    return emu_linear(c, i->ea_seg, ea, size);
}

/* Linear address of a 16-byte operand that must be 16-byte aligned
 * (legacy SSE, CMPXCHG16B, FXSAVE): a misaligned one is #GP(0) whatever
 * the segment, and this check comes before the segment/canonical checks
 * (a misaligned non-canonical stack reference is #GP, not #SS). Only the
 * low bits of the linear address matter, so they are computed first. */
static inline uint64_t insn_lin_align16(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    uint64_t base = c->seg[i->ea_seg].base;
    if (c->mode == MODE_LONG64 && i->ea_seg != SEG_FS && i->ea_seg != SEG_GS)
        base = 0;
    if ((base + insn_ea(c, i)) & 15)
        emu_raise_err(c, EXC_GP, 0);
    return insn_lin(c, i, size);
}

/* Memory operand at ModRM + extra bytes (for BT with register offsets, ...) */
static inline uint64_t mem_read(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    return emu_read_lin(c, insn_lin(c, i, size), size);
}

static inline void mem_write(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    emu_write_lin(c, insn_lin(c, i, size), size, v);
}

/* Linear address of seg:off: in 64-bit mode without FS/GS it is off
 * itself when canonical (inline); the rest is emu_linear's. */
static inline uint64_t seg_lin(struct emu_cpu *c, int seg, uint64_t off, unsigned size)
{
    if (c->mode == MODE_LONG64 && seg < SEG_FS && emu_canonical(off))
        return off;
    return emu_linear(c, seg, off, size);
}

/* Segment-relative access (string instructions, stack, moffs) */
static inline uint64_t seg_read(struct emu_cpu *c, int seg, uint64_t off, unsigned size)
{
    return emu_read_lin(c, seg_lin(c, seg, off, size), size);
}

static inline void seg_write(struct emu_cpu *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    emu_write_lin(c, seg_lin(c, seg, off, size), size, v);
}

/* E operand (ModRM r/m): register or memory */
static inline uint64_t rd_E(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    if (i->mod == 3)
        return reg_read(c, i, i->rm, size);
    return mem_read(c, i, size);
}

static inline void wr_E(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    if (i->mod == 3)
        reg_write(c, i, i->rm, size, v);
    else
        mem_write(c, i, size, v);
}

/* G operand (ModRM reg) */
static inline uint64_t rd_G(const struct emu_cpu *c, const struct insn *i, unsigned size)
{
    return reg_read(c, i, i->reg, size);
}

static inline void wr_G(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    reg_write(c, i, i->reg, size, v);
}

/* Operand size of a "b" opcode (bit 0 clear) or the "v" size. */
static inline unsigned osz_bv(const struct insn *i)
{
    return (i->op & 1) ? i->osz : 1;
}

/* A read-modify-write of the E operand: fn computes the new value (and
 * flags) from the old value and src. With LOCK on memory the update is
 * atomic against other vCPUs (host compare-and-swap, or the per-VM split
 * lock for page-crossing / MMIO operands). write=false: only compute (CMP,
 * TEST). Returns the old value. */
typedef uint64_t (*emu_rmw_fn)(struct emu_cpu *c, uint64_t old, uint64_t src, unsigned size);
uint64_t emu_rmw_E(struct emu_cpu *c, const struct insn *i, unsigned size, emu_rmw_fn fn, uint64_t src, bool write);
/* The same at a linear address (locked if lock). */
uint64_t emu_rmw_lin(struct emu_cpu *c, uint64_t lin, unsigned size, emu_rmw_fn fn, uint64_t src, bool lock);

/* LOCK is allowed only on these forms with a memory destination. */
static inline void emu_check_lock(struct emu_cpu *c, const struct insn *i)
{
    if (i->lock && i->mod == 3)
        emu_raise(c, EXC_UD);
}

/* ---- flags.c ---- */
#define FLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
/* Sets SF, ZF, PF from res (size bytes); clears nothing else. */
static inline uint64_t flags_szp(uint64_t res, unsigned size)
{
    uint64_t f = 0;
    res &= mask_of(size);
    if (res == 0)
        f |= RFLAGS_ZF;
    if (res & sign_bit(size))
        f |= RFLAGS_SF;
    if (!__builtin_parity((unsigned)(res & 0xff)))
        f |= RFLAGS_PF;
    return f;
}

/* Records a flag-setting operation (see struct emu_lazy_flags): a, b and
 * res already masked to size. */
static inline void flags_lazy(struct emu_cpu *c, uint32_t kind, unsigned size, uint64_t a, uint64_t b, uint64_t res)
{
    c->lf.op = kind | (size << LF_SIZE_SHIFT);
    c->lf.a = a;
    c->lf.b = b;
    c->lf.res = res;
}

/* SF/ZF/PF from res, CF/AF/OF from the bits of cao (logic ops: 0). */
static inline void flags_lazy_szp(struct emu_cpu *c, unsigned size, uint64_t res, uint64_t cao)
{
    c->lf.op = LF_SZP | (size << LF_SIZE_SHIFT);
    c->lf.b = cao;
    c->lf.res = res;
}

/* Sets the flags in which to values (a partial update: the others keep
 * their values, so the lazy record is materialized first). */
static inline void flags_set(struct emu_cpu *c, uint64_t which, uint64_t values)
{
    emu_flags_sync(c);
    c->rflags = (c->rflags & ~which) | (values & which);
}

/* CF alone (ADC/SBB/RCL/RCR/INC/DEC need it, not the rest): RFLAGS_CF or 0. */
static inline uint64_t emu_flags_cf(const struct emu_cpu *c)
{
    const struct emu_lazy_flags *l = &c->lf;
    bool cin = l->op & LF_CIN;
    switch (l->op & LF_KIND) {
    case LF_ADD: return (cin ? l->res <= l->a : l->res < l->a) ? RFLAGS_CF : 0;
    case LF_SUB: return (cin ? l->a <= l->b : l->a < l->b) ? RFLAGS_CF : 0;
    case LF_INC: case LF_DEC: case LF_SZP: return l->b & RFLAGS_CF;
    default: return c->rflags & RFLAGS_CF;
    }
}

bool emu_cond_slow(const struct emu_cpu *c, unsigned cc);

/* Jcc/SETcc/CMOVcc condition 0..15. After CMP/SUB and after logic ops
 * (the usual producers of a condition) it is computed from the record
 * directly; otherwise from the materialized flags. */
static inline bool emu_cond(const struct emu_cpu *c, unsigned cc)
{
    uint32_t op = c->lf.op;
    unsigned size = (op >> LF_SIZE_SHIFT) & 15;
    bool r;
    if ((op & (LF_KIND | LF_CIN)) == LF_SUB) {
        uint64_t a = c->lf.a, b = c->lf.b;
        switch (cc >> 1) {
        case 0: r = ((a ^ b) & (a ^ c->lf.res)) & sign_bit(size); break;   /* O */
        case 1: r = a < b; break;                                         /* B */
        case 2: r = a == b; break;                                        /* E */
        case 3: r = a <= b; break;                                        /* BE */
        case 4: r = c->lf.res & sign_bit(size); break;                    /* S */
        case 5: r = !__builtin_parity((unsigned)(c->lf.res & 0xff)); break; /* P */
        case 6: r = sext(a, size) < sext(b, size); break;                 /* L */
        default: r = sext(a, size) <= sext(b, size); break;               /* LE */
        }
        return (cc & 1) ? !r : r;
    }
    if (op != LF_NONE && ((0x34u >> (cc >> 1)) & 1)) {
        /* E, S, P: from the result, whatever the kind */
        uint64_t res = c->lf.res;
        if ((cc >> 1) == 2)
            r = res == 0;
        else if ((cc >> 1) == 4)
            r = res & sign_bit(size);
        else
            r = !__builtin_parity((unsigned)(res & 0xff));
        return (cc & 1) ? !r : r;
    }
    if (op == (LF_SZP | (size << LF_SIZE_SHIFT)) && c->lf.b == 0) {
        /* logic ops: CF = OF = 0 */
        uint64_t res = c->lf.res;
        switch (cc >> 1) {
        case 0: case 1: r = false; break;                                 /* O, B */
        case 2: case 3: r = res == 0; break;                              /* E, BE */
        case 4: case 6: r = res & sign_bit(size); break;                  /* S, L */
        case 5: r = !__builtin_parity((unsigned)(res & 0xff)); break;     /* P */
        default: r = res == 0 || (res & sign_bit(size)); break;           /* LE */
        }
        return (cc & 1) ? !r : r;
    }
    return emu_cond_slow(c, cc);
}

/* ---- alu.c (the ALU cores, shared with string.c and friends) ---- */
uint64_t alu_add(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_adc(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_sub(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_sbb(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_and(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_or(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_xor(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size);

/* ---- stack.c ---- */
unsigned emu_stack_size(const struct emu_cpu *c);  /* 2, 4 or 8: the SS/RSP width */
void emu_push_slow(struct emu_cpu *c, unsigned size, uint64_t v);
uint64_t emu_pop_slow(struct emu_cpu *c, unsigned size);
uint64_t emu_peek_slow(struct emu_cpu *c, unsigned size, unsigned offset);

/* PUSH: memory first, then RSP (a faulting push changes nothing). 64-bit
 * mode with a canonical address is inline; the rest is stack.c's. */
static inline void emu_push(struct emu_cpu *c, unsigned size, uint64_t v)
{
    uint64_t sp = c->r[GPR_RSP] - size;
    if (c->mode == MODE_LONG64 && emu_canonical(sp)) {
        emu_write_lin(c, sp, size, v);
        c->r[GPR_RSP] = sp;
        return;
    }
    emu_push_slow(c, size, v);
}

/* Reads the value POP would return (at RSP + offset), without changing RSP. */
static inline uint64_t emu_peek(struct emu_cpu *c, unsigned size, unsigned offset)
{
    uint64_t sp = c->r[GPR_RSP] + offset;
    if (c->mode == MODE_LONG64 && emu_canonical(sp))
        return emu_read_lin(c, sp, size);
    return emu_peek_slow(c, size, offset);
}

static inline uint64_t emu_pop(struct emu_cpu *c, unsigned size)
{
    uint64_t sp = c->r[GPR_RSP];
    if (c->mode == MODE_LONG64 && emu_canonical(sp)) {
        uint64_t v = emu_read_lin(c, sp, size);
        c->r[GPR_RSP] = sp + size;
        return v;
    }
    return emu_pop_slow(c, size);
}

/* ---- branch.c ---- */
/* Sets next_rip, with the operand-size wrap and canonical check. */
void emu_jump(struct emu_cpu *c, uint64_t target, unsigned osz);

/* Handler declarations, one per topic file, used by dispatch.c */
#define OP(name) void name(struct emu_cpu *c, const struct insn *i)
#include "accel/emu/ops.h"


#endif
