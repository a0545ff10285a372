/* Forms: x87. Inputs are random stacks (tags, TOP, values including
 * denormals, unnormals, infinities and NaNs) and rounding modes; the
 * comparison covers FCW, FSW, the abridged tag word and ST0..7. */
#include "diff.h"

#define OP1(a) .op = { a }, .oplen = 1
#define OP2(a, b) .op = { a, b }, .oplen = 2
#define D(n) .digit = n
#define X (F_X87 | F_NOREX)

/* The eight arithmetic operations of D8/DC/DA/DE /0../7 */
#define ARITH8(X8) X8(0, "fadd") X8(1, "fmul") X8(2, "fcom") X8(3, "fcomp") \
    X8(4, "fsub") X8(5, "fsubr") X8(6, "fdiv") X8(7, "fdivr")
#define M32(n, s) { s " m32fp", S32, RM_MEM, 0, OP1(0xd8), D(n), .flags = X },
#define M64(n, s) { s " m64fp", S32, RM_MEM, 0, OP1(0xdc), D(n), .flags = X },
#define I32(n, s) { "fi" s " m32int", S32, RM_MEM, 0, OP1(0xda), D(n), .flags = X },
#define I16(n, s) { "fi" s " m16int", S32, RM_MEM, 0, OP1(0xde), D(n), .flags = X },
#define STI(n, s) { s " st0, sti", S32, RM_REG, 0, OP1(0xd8), D(n), .flags = X },
#define NOOP(nm, b) { nm, S32, RM_NONE, 0, OP2(0xd9, b), .flags = X }

static const struct diff_spec x87[] = {
    ARITH8(M32) ARITH8(M64) ARITH8(STI)
    { "fiadd m32int", S32, RM_MEM, 0, OP1(0xda), D(0), .flags = X },
    { "fimul m32int", S32, RM_MEM, 0, OP1(0xda), D(1), .flags = X },
    { "fisub m32int", S32, RM_MEM, 0, OP1(0xda), D(4), .flags = X },
    { "fidiv m32int", S32, RM_MEM, 0, OP1(0xda), D(6), .flags = X },
    { "fiadd m16int", S32, RM_MEM, 0, OP1(0xde), D(0), .flags = X },
    { "fidivr m16int", S32, RM_MEM, 0, OP1(0xde), D(7), .flags = X },
    { "fadd sti, st0", S32, RM_REG, 0, OP1(0xdc), D(0), .flags = X },
    { "fsub sti, st0", S32, RM_REG, 0, OP1(0xdc), D(4), .flags = X },
    { "fdiv sti, st0", S32, RM_REG, 0, OP1(0xdc), D(6), .flags = X },
    { "faddp sti, st0", S32, RM_REG, 0, OP1(0xde), D(0), .flags = X },
    { "fmulp sti, st0", S32, RM_REG, 0, OP1(0xde), D(1), .flags = X },
    { "fsubrp sti, st0", S32, RM_REG, 0, OP1(0xde), D(4), .flags = X },
    { "fsubp sti, st0", S32, RM_REG, 0, OP1(0xde), D(5), .flags = X },
    { "fdivrp sti, st0", S32, RM_REG, 0, OP1(0xde), D(6), .flags = X },
    { "fdivp sti, st0", S32, RM_REG, 0, OP1(0xde), D(7), .flags = X },
    { "fld m32fp", S32, RM_MEM, 0, OP1(0xd9), D(0), .flags = X },
    { "fst m32fp", S32, RM_MEM, 0, OP1(0xd9), D(2), .flags = X },
    { "fstp m32fp", S32, RM_MEM, 0, OP1(0xd9), D(3), .flags = X },
    { "fld m64fp", S32, RM_MEM, 0, OP1(0xdd), D(0), .flags = X },
    { "fst m64fp", S32, RM_MEM, 0, OP1(0xdd), D(2), .flags = X },
    { "fstp m64fp", S32, RM_MEM, 0, OP1(0xdd), D(3), .flags = X },
    { "fld m80fp", S32, RM_MEM, 0, OP1(0xdb), D(5), .flags = X },
    { "fstp m80fp", S32, RM_MEM, 0, OP1(0xdb), D(7), .flags = X },
    { "fild m16int", S32, RM_MEM, 0, OP1(0xdf), D(0), .flags = X },
    { "fild m32int", S32, RM_MEM, 0, OP1(0xdb), D(0), .flags = X },
    { "fild m64int", S32, RM_MEM, 0, OP1(0xdf), D(5), .flags = X },
    { "fist m16int", S32, RM_MEM, 0, OP1(0xdf), D(2), .flags = X },
    { "fist m32int", S32, RM_MEM, 0, OP1(0xdb), D(2), .flags = X },
    { "fistp m32int", S32, RM_MEM, 0, OP1(0xdb), D(3), .flags = X },
    { "fistp m64int", S32, RM_MEM, 0, OP1(0xdf), D(7), .flags = X },
    { "fbld m80bcd", S32, RM_MEM, 0, OP1(0xdf), D(4), .flags = X },
    { "fbstp m80bcd", S32, RM_MEM, 0, OP1(0xdf), D(6), .flags = X },
    { "fld sti", S32, RM_REG, 0, OP1(0xd9), D(0), .flags = X },
    { "fxch sti", S32, RM_REG, 0, OP1(0xd9), D(1), .flags = X },
    { "fst sti", S32, RM_REG, 0, OP1(0xdd), D(2), .flags = X },
    { "fstp sti", S32, RM_REG, 0, OP1(0xdd), D(3), .flags = X },
    { "ffree sti", S32, RM_REG, 0, OP1(0xdd), D(0), .flags = X },
    { "fucom sti", S32, RM_REG, 0, OP1(0xdd), D(4), .flags = X },
    { "fucomp sti", S32, RM_REG, 0, OP1(0xdd), D(5), .flags = X },
    { "fucomi st0, sti", S32, RM_REG, 0, OP1(0xdb), D(5), .flags = X },
    { "fcomi st0, sti", S32, RM_REG, 0, OP1(0xdb), D(6), .flags = X },
    { "fucomip st0, sti", S32, RM_REG, 0, OP1(0xdf), D(5), .flags = X },
    { "fcomip st0, sti", S32, RM_REG, 0, OP1(0xdf), D(6), .flags = X },
    { "fcmovb st0, sti", S32, RM_REG, 0, OP1(0xda), D(0), .flags = X },
    { "fcmove st0, sti", S32, RM_REG, 0, OP1(0xda), D(1), .flags = X },
    { "fcmovbe st0, sti", S32, RM_REG, 0, OP1(0xda), D(2), .flags = X },
    { "fcmovu st0, sti", S32, RM_REG, 0, OP1(0xda), D(3), .flags = X },
    { "fcmovnb st0, sti", S32, RM_REG, 0, OP1(0xdb), D(0), .flags = X },
    { "fcmovne st0, sti", S32, RM_REG, 0, OP1(0xdb), D(1), .flags = X },
    NOOP("fchs", 0xe0), NOOP("fabs", 0xe1), NOOP("ftst", 0xe4), NOOP("fxam", 0xe5),
    NOOP("fld1", 0xe8), NOOP("fldl2t", 0xe9), NOOP("fldl2e", 0xea), NOOP("fldpi", 0xeb),
    NOOP("fldlg2", 0xec), NOOP("fldln2", 0xed), NOOP("fldz", 0xee),
    NOOP("f2xm1", 0xf0), NOOP("fyl2x", 0xf1), NOOP("fptan", 0xf2), NOOP("fpatan", 0xf3),
    NOOP("fxtract", 0xf4), NOOP("fprem1", 0xf5), NOOP("fdecstp", 0xf6), NOOP("fincstp", 0xf7),
    NOOP("fprem", 0xf8), NOOP("fyl2xp1", 0xf9), NOOP("fsqrt", 0xfa), NOOP("fsincos", 0xfb),
    NOOP("frndint", 0xfc), NOOP("fscale", 0xfd), NOOP("fsin", 0xfe), NOOP("fcos", 0xff),
    NOOP("fnop", 0xd0),
    { "fcompp", S32, RM_NONE, 0, OP2(0xde, 0xd9), .flags = X },
    { "fucompp", S32, RM_NONE, 0, OP2(0xda, 0xe9), .flags = X },
    { "fnstsw ax", S32, RM_NONE, 0, OP2(0xdf, 0xe0), .flags = X },
    { "fnclex", S32, RM_NONE, 0, OP2(0xdb, 0xe2), .flags = X },
    { "fninit", S32, RM_NONE, 0, OP2(0xdb, 0xe3), .flags = X },
    { "fldcw m16", S32, RM_MEM, 0, OP1(0xd9), D(5), .flags = X },
    { "fnstcw m16", S32, RM_MEM, 0, OP1(0xd9), D(7), .flags = X },
    { "fnstsw m16", S32, RM_MEM, 0, OP1(0xdd), D(7), .flags = X },
};
const struct diff_table forms_x87 = { "x87", x87, sizeof x87 / sizeof x87[0] };
