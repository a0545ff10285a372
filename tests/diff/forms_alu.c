/* Forms: integer arithmetic and logic, shifts and rotates, multiply and
 * divide (Intel SDM vol. 2 operand notation in the names). */
#include "diff.h"

#define OP1(a) .op = { a }, .oplen = 1
#define OP2(a, b) .op = { a, b }, .oplen = 2
#define R_ .digit = -1
#define D(n) .digit = n
#define V (S16 | S32 | S64)
#define ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define RAX (1u << GPR_RAX)
#define RCX (1u << GPR_RCX)
#define RDX (1u << GPR_RDX)

/* The eight classic ALU operations share one layout: op*8 + 0..5, and
 * 80/81/83 with /op. u: flags the SDM leaves undefined (AF for logic). */
#define ALU(nm, n, u)                                                                   \
    { nm " %E, r8", S8, RM_BOTH, 0, OP1(n * 8 + 0), R_, .undef = u },                   \
    { nm " %E, r%v", V, RM_BOTH, 0, OP1(n * 8 + 1), R_, .undef = u },                   \
    { nm " r8, %E", S8, RM_BOTH, 0, OP1(n * 8 + 2), R_, .undef = u },                   \
    { nm " r%v, %E", V, RM_BOTH, 0, OP1(n * 8 + 3), R_, .undef = u },                   \
    { nm " al, imm8", S8, RM_NONE, 0, OP1(n * 8 + 4), .imm = 1, .undef = u },           \
    { nm " rax%v, imm%z", V, RM_NONE, 0, OP1(n * 8 + 5), .imm = 4, .undef = u },        \
    { nm " %E, imm8", S8, RM_BOTH, 0, OP1(0x80), D(n), .imm = 1, .undef = u },          \
    { nm " %E, imm%z", V, RM_BOTH, 0, OP1(0x81), D(n), .imm = 4, .undef = u },          \
    { nm " %E, simm8", V, RM_BOTH, 0, OP1(0x83), D(n), .imm = 1, .undef = u }

#define ALU_LOCK(nm, n, u)                                                                        \
    { "lock " nm " %E, r8", S8, RM_MEM, 0, OP1(n * 8 + 0), R_, .undef = u, .flags = F_LOCKP },     \
    { "lock " nm " %E, r%v", V, RM_MEM, 0, OP1(n * 8 + 1), R_, .undef = u, .flags = F_LOCKP },     \
    { "lock " nm " %E, imm8", S8, RM_MEM, 0, OP1(0x80), D(n), .imm = 1, .undef = u, .flags = F_LOCKP }, \
    { "lock " nm " %E, imm%z", V, RM_MEM, 0, OP1(0x81), D(n), .imm = 4, .undef = u, .flags = F_LOCKP }, \
    { "lock " nm " %E, simm8", V, RM_MEM, 0, OP1(0x83), D(n), .imm = 1, .undef = u, .flags = F_LOCKP }

/* F6/F7 and FE/FF groups: one r/m operand. */
#define UNARY(nm, op8, opv, n, u, fl)                                           \
    { nm " %E", S8, RM_BOTH, 0, OP1(op8), D(n), .undef = u, .flags = fl },     \
    { nm " %E", V, RM_BOTH, 0, OP1(opv), D(n), .undef = u, .flags = fl }
#define UNARY_LOCK(nm, op8, opv, n)                                              \
    { "lock " nm " %E", S8, RM_MEM, 0, OP1(op8), D(n), .flags = F_LOCKP },        \
    { "lock " nm " %E", V, RM_MEM, 0, OP1(opv), D(n), .flags = F_LOCKP }

static const struct diff_spec alu[] = {
    ALU("add", 0, 0), ALU("or", 1, RFLAGS_AF), ALU("adc", 2, 0), ALU("sbb", 3, 0),
    ALU("and", 4, RFLAGS_AF), ALU("sub", 5, 0), ALU("xor", 6, RFLAGS_AF), ALU("cmp", 7, 0),
    ALU_LOCK("add", 0, 0), ALU_LOCK("or", 1, RFLAGS_AF), ALU_LOCK("adc", 2, 0),
    ALU_LOCK("sbb", 3, 0), ALU_LOCK("and", 4, RFLAGS_AF), ALU_LOCK("sub", 5, 0),
    ALU_LOCK("xor", 6, RFLAGS_AF),
    { "test %E, r8", S8, RM_BOTH, 0, OP1(0x84), R_, .undef = RFLAGS_AF },
    { "test %E, r%v", V, RM_BOTH, 0, OP1(0x85), R_, .undef = RFLAGS_AF },
    { "test al, imm8", S8, RM_NONE, 0, OP1(0xa8), .imm = 1, .undef = RFLAGS_AF },
    { "test rax%v, imm%z", V, RM_NONE, 0, OP1(0xa9), .imm = 4, .undef = RFLAGS_AF },
    { "test %E, imm8", S8, RM_BOTH, 0, OP1(0xf6), D(0), .imm = 1, .undef = RFLAGS_AF },
    { "test %E, imm%z", V, RM_BOTH, 0, OP1(0xf7), D(0), .imm = 4, .undef = RFLAGS_AF },
    UNARY("inc", 0xfe, 0xff, 0, 0, 0), UNARY("dec", 0xfe, 0xff, 1, 0, 0),
    UNARY("not", 0xf6, 0xf7, 2, 0, 0), UNARY("neg", 0xf6, 0xf7, 3, 0, 0),
    UNARY_LOCK("inc", 0xfe, 0xff, 0), UNARY_LOCK("dec", 0xfe, 0xff, 1),
    UNARY_LOCK("not", 0xf6, 0xf7, 2), UNARY_LOCK("neg", 0xf6, 0xf7, 3),
};
const struct diff_table forms_alu = { "alu", alu, sizeof alu / sizeof alu[0] };

/* Shifts and rotates by 1, by CL and by imm8. */
#define SHIFT(nm, n, k)                                                                             \
    { nm " %E, 1", S8, RM_BOTH, 0, OP1(0xd0), D(n), .undef_kind = k, .flags = F_CNT_1 },            \
    { nm " %E, 1", V, RM_BOTH, 0, OP1(0xd1), D(n), .undef_kind = k, .flags = F_CNT_1 },             \
    { nm " %E, cl", S8, RM_BOTH, 0, OP1(0xd2), D(n), .undef_kind = k, .flags = F_CNT_CL, .implicit = RCX }, \
    { nm " %E, cl", V, RM_BOTH, 0, OP1(0xd3), D(n), .undef_kind = k, .flags = F_CNT_CL, .implicit = RCX },  \
    { nm " %E, imm8", S8, RM_BOTH, 0, OP1(0xc0), D(n), .imm = 1, .undef_kind = k, .flags = F_CNT_IMM },     \
    { nm " %E, imm8", V, RM_BOTH, 0, OP1(0xc1), D(n), .imm = 1, .undef_kind = k, .flags = F_CNT_IMM }

static const struct diff_spec shift[] = {
    SHIFT("rol", 0, UK_ROT), SHIFT("ror", 1, UK_ROT), SHIFT("rcl", 2, UK_ROT),
    SHIFT("rcr", 3, UK_ROT), SHIFT("shl", 4, UK_SHIFT), SHIFT("shr", 5, UK_SHIFT),
    SHIFT("sar", 7, UK_SAR),
    { "shld %E, r%v, imm8", V, RM_BOTH, 0, OP2(0x0f, 0xa4), R_, .imm = 1, .undef_kind = UK_SHXD,
      .flags = F_CNT_IMM | F_SHXD16 },
    { "shld %E, r%v, cl", V, RM_BOTH, 0, OP2(0x0f, 0xa5), R_, .undef_kind = UK_SHXD,
      .flags = F_CNT_CL | F_SHXD16, .implicit = RCX },
    { "shrd %E, r%v, imm8", V, RM_BOTH, 0, OP2(0x0f, 0xac), R_, .imm = 1, .undef_kind = UK_SHXD,
      .flags = F_CNT_IMM | F_SHXD16 },
    { "shrd %E, r%v, cl", V, RM_BOTH, 0, OP2(0x0f, 0xad), R_, .undef_kind = UK_SHXD,
      .flags = F_CNT_CL | F_SHXD16, .implicit = RCX },
};
const struct diff_table forms_shift = { "shift", shift, sizeof shift / sizeof shift[0] };

#define MULU (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF)
static const struct diff_spec muldiv[] = {
    UNARY("mul", 0xf6, 0xf7, 4, MULU, 0), UNARY("imul", 0xf6, 0xf7, 5, MULU, 0),
    { "div %E", S8, RM_BOTH, 0, OP1(0xf6), D(6), .undef = ARITH, .flags = F_DIV, .implicit = RAX | RDX },
    { "div %E", V, RM_BOTH, 0, OP1(0xf7), D(6), .undef = ARITH, .flags = F_DIV, .implicit = RAX | RDX },
    { "idiv %E", S8, RM_BOTH, 0, OP1(0xf6), D(7), .undef = ARITH, .flags = F_DIV, .implicit = RAX | RDX },
    { "idiv %E", V, RM_BOTH, 0, OP1(0xf7), D(7), .undef = ARITH, .flags = F_DIV, .implicit = RAX | RDX },
    { "imul r%v, %E", V, RM_BOTH, 0, OP2(0x0f, 0xaf), R_, .undef = MULU },
    { "imul r%v, %E, simm8", V, RM_BOTH, 0, OP1(0x6b), R_, .imm = 1, .undef = MULU },
    { "imul r%v, %E, imm%z", V, RM_BOTH, 0, OP1(0x69), R_, .imm = 4, .undef = MULU },
};
const struct diff_table forms_muldiv = { "muldiv", muldiv, sizeof muldiv / sizeof muldiv[0] };
