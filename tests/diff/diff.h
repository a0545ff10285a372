/* Differential instruction tests: each user-level instruction form runs on
 * the host CPU and in brume's emu engine from the same state, and the final
 * states are compared (registers, defined flags, memory, x87/SSE, vector).
 *
 * Files (the file list is the table of contents):
 *   diff.h      shared types: the test region, machine state, forms, cases
 *   native.c    runs a case on the host CPU (signal-based entry and exit)
 *   engine.c    runs a case through emu_flat_run()
 *   gen.c       encodes a form into bytes and draws its input state
 *   forms_*.c   the tables of instruction forms, one file per topic
 *   compare.c   undefined-flag masks, the comparison, the mismatch report
 *   selfcheck.c known-answer cases for the native runner alone
 *   main.c      the diff-runner driver */
#ifndef BRUME_TESTS_DIFF_DIFF_H
#define BRUME_TESTS_DIFF_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/cpu_state.h"

/* The test region, at the same linear address natively and in emu. It sits
 * below 4 GiB so that 32-bit address-size forms (67h) and [disp32] reach it.
 *   code  [base,          base+0x1000)  instruction at CODE_OFF, rest INT3
 *   data  [base+0x1000,   base+0x3000)  memory operands, string buffers
 *   stack [base+0x3000,   base+0x4000)  RSP starts near STACK_TOP
 * Natively the region is surrounded by PROT_NONE guard pages, so an access
 * just outside it raises #PF on both sides. */
#define DIFF_BASE       0x10000000ull
#define DIFF_SIZE       0x4000ull
#define DIFF_CODE_OFF   0x800u
#define DIFF_DATA_OFF   0x1000u
#define DIFF_DATA_SIZE  0x2000u
#define DIFF_STACK_OFF  0x3000u
#define DIFF_STACK_TOP  0x3c00u
#define DIFF_GUARD      0x10000ull
#define DIFF_MAX_INSN   32

/* Machine state compared between the two sides. */
struct diff_state {
    uint64_t regs[GPR_COUNT];
    uint64_t rip;
    uint64_t rflags;
    struct cpu_fxsave fx;
};

/* How a run ended. vector is 3 for the closing INT3 (RIP after it), an
 * exception vector otherwise (RIP at the faulting instruction), -1 when the
 * engine ran out of instructions. */
struct diff_result {
    struct diff_state st;
    int vector;
    uint32_t error_code;
    uint8_t mem[DIFF_SIZE];
};

/* Operand sizes, as a bit set in a form spec. */
enum { S8 = 1, S16 = 2, S32 = 4, S64 = 8 };

/* Where the r/m operand of a ModRM form lives. */
enum { RM_NONE, RM_REG, RM_MEM };

/* Which flags a form leaves undefined beyond its constant mask, by kind. */
enum diff_undef_kind {
    UK_NONE,
    UK_SHIFT,   /* shl/shr/sar: AF if count; OF unless count==1; CF for shl/shr count>=size */
    UK_SAR,     /* sar: like UK_SHIFT but CF stays defined */
    UK_ROT,     /* rol/ror/rcl/rcr: OF unless count==1 */
    UK_SHXD,    /* shld/shrd: AF if count; OF unless count==1 */
};

/* Form flags: what the generator must set up and what the comparison may ignore. */
enum {
    F_CNT_CL   = 1u << 0,  /* count in CL (shifts) */
    F_CNT_1    = 1u << 1,  /* count is 1 (D0/D1 forms) */
    F_CNT_IMM  = 1u << 2,  /* count is the imm8 */
    F_STR      = 1u << 3,  /* string op: RSI/RDI in data, RCX a small count */
    F_DIV      = 1u << 4,  /* divide: often make the high half small (no #DE) */
    F_CMPX     = 1u << 5,  /* cmpxchg: often make the accumulator match */
    F_BTOFF    = 1u << 6,  /* bt* r/m, reg: reg is a bit offset within the data area */
    F_RBP      = 1u << 7,  /* enter/leave: RBP points into the stack */
    F_RET      = 1u << 8,  /* [rsp] holds a return address in the code page */
    F_REL      = 1u << 9,  /* the immediate is a branch displacement in the code page */
    F_LOCKP     = 1u << 10, /* emit a LOCK prefix */
    F_NOREX    = 1u << 11, /* never emit a REX prefix */
    F_FLAGSALL = 1u << 12, /* compare AC/ID/NT too (pushf/popf) */
    F_POPF     = 1u << 13, /* [rsp] holds a random RFLAGS image without TF */
    F_A32      = 1u << 14, /* 67h: 32-bit addressing (string ops use ESI/EDI/ECX) */
    F_CX16     = 1u << 15, /* cmpxchg16b: memory operand 16-byte aligned mostly */
    F_SHXD16   = 1u << 16, /* shld/shrd 16-bit: keep count <= 16 (result undefined above) */
    F_FP       = 1u << 17, /* x87/SSE form: random XMM/MXCSR inputs */
    F_NOMEMFLT = 1u << 18, /* no deliberately faulting addresses (lea: no access) */
    F_X87      = 1u << 20, /* x87 form: random stack, tags, TOP, control word */
    F_JTARGET  = 1u << 19, /* the r/m operand holds a branch target in the code page */
};

/* One concrete instruction form: a spec line expanded for one operand size
 * and one r/m variant. */
struct diff_form {
    char name[48];            /* Intel notation, e.g. "add m32, r32" */
    const char *group;
    uint8_t osz;              /* operand size in bytes (1/2/4/8) */
    uint8_t pfx;              /* mandatory prefix (F2/F3/66 as opcode extension) or 0 */
    uint8_t op[3], oplen;
    int8_t digit;             /* ModRM reg field fixed (/digit), -1: a register (/r) */
    uint8_t rm;               /* RM_NONE, RM_REG, RM_MEM */
    bool opreg;               /* register in the low 3 opcode bits (+r) */
    uint8_t imm;              /* immediate bytes (0, 1, 2, 4, 8), imm2: second immediate */
    uint8_t imm2;
    uint8_t undef_kind;
    uint32_t undef;           /* flags the SDM leaves undefined, always */
    uint32_t flags;           /* F_* */
    uint16_t implicit;        /* registers used implicitly (bit per GPR) */
    const char *excluded;     /* not run: why (e.g. not implemented by the engine) */
};

/* A spec line of a forms table, before expansion. The name uses %v for the
 * operand size, %z for min(size, 32), %E for the r/m operand ("r32"/"m32")
 * and %E8/%E16/%E32/%E64 for an r/m operand of a fixed size. */
struct diff_spec {
    const char *name;
    uint8_t sizes;            /* S8|S16|S32|S64 */
    uint8_t rm;               /* RM_NONE, RM_REG, RM_MEM, or RM_REG|RM_MEM << 2 = both */
    uint8_t pfx;
    uint8_t op[3], oplen;
    int8_t digit;
    bool opreg;
    uint8_t imm;              /* 0, 1 (ib), 2 (iw), 4 (iz: 2 for 16-bit), 8 (iv: size) */
    uint8_t imm2;
    uint8_t undef_kind;
    uint32_t undef;
    uint32_t flags;
    uint16_t implicit;
    const char *excluded;
};
#define RM_BOTH 3

/* A forms table: one per topic file. */
struct diff_table {
    const char *group;
    const struct diff_spec *specs;
    size_t count;
};

/* One generated case. */
struct diff_case {
    uint8_t bytes[DIFF_MAX_INSN];
    unsigned len;
    struct diff_state in;
    uint8_t image[DIFF_SIZE];  /* initial region contents: code, data, stack */
    uint64_t ea;               /* the memory operand's address, if any */
    uint64_t count;            /* shift/rotate count as encoded (CL or imm or 1) */
    bool has_count;
};

/* Deterministic generator (xorshift64*). */
struct diff_rng { uint64_t s; };
uint64_t rng_next(struct diff_rng *r);
static inline uint64_t rng_below(struct diff_rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }

/* forms_*.c */
extern const struct diff_table forms_alu, forms_shift, forms_muldiv, forms_bit, forms_move,
    forms_stack, forms_string, forms_flags, forms_branch, forms_except, forms_sse, forms_x87;

/* gen.c: expands a table into forms; returns the number written (<= max). */
size_t gen_expand(const struct diff_table *t, struct diff_form *out, size_t max);
/* Draws case number idx of form f from seed; deterministic in (seed, form name, idx). */
void gen_case(const struct diff_form *f, uint64_t seed, uint64_t idx, struct diff_case *c);

/* native.c */
int native_init(void);
int native_run(const struct diff_case *c, struct diff_result *out);

/* engine.c: 0, -ENOSYS when emu_flat_run is not in this build, or -errno
 * from the engine (reason in err_get()). */
bool engine_available(void);
int engine_run(const struct diff_case *c, struct diff_result *out);

/* compare.c: flags to compare for this case; prints nothing. */
uint64_t compare_flag_mask(const struct diff_form *f, const struct diff_case *c);
/* Compares; if buf is not NULL writes a description of each difference. */
int compare_results(const struct diff_form *f, const struct diff_case *c,
                    const struct diff_result *nat, const struct diff_result *emu,
                    char *buf, size_t buflen);
void compare_print_case(const struct diff_form *f, const struct diff_case *c, uint64_t seed,
                        uint64_t idx);

/* selfcheck.c: known-answer cases for the native runner; returns failures. */
int selfcheck_run(void);

#endif
