/* Forms: SSE and SSE2 (the CPUID baseline emu advertises; SSE3 and later
 * are not advertised yet). Memory operands are 16-byte aligned 70% of the
 * time, so the alignment #GP of the aligned forms is exercised too. */
#include "diff.h"

#define OP2(a, b) .op = { a, b }, .oplen = 2
#define R_ .digit = -1
#define D(n) .digit = n
#define FP F_FP

/* xmm, xmm/m: one form per prefix (none: ps, 66: pd, F3: ss, F2: sd). */
#define PS(nm, op) { nm "ps xmm, %X", S32, RM_BOTH, 0, OP2(0x0f, op), R_, .flags = FP }
#define PD(nm, op) { nm "pd xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, op), R_, .flags = FP }
#define SS(nm, op) { nm "ss xmm, %D", S32, RM_BOTH, 0xf3, OP2(0x0f, op), R_, .flags = FP }
#define SD(nm, op) { nm "sd xmm, %Q", S32, RM_BOTH, 0xf2, OP2(0x0f, op), R_, .flags = FP }
#define ARITH4(nm, op) PS(nm, op), PD(nm, op), SS(nm, op), SD(nm, op)
#define P66(nm, op) { nm " xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, op), R_, .flags = FP }
#define CMPFL (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static const struct diff_spec sse[] = {
    ARITH4("add", 0x58), ARITH4("mul", 0x59), ARITH4("sub", 0x5c), ARITH4("div", 0x5e),
    ARITH4("min", 0x5d), ARITH4("max", 0x5f), ARITH4("sqrt", 0x51),
    PS("and", 0x54), PD("and", 0x54), PS("andn", 0x55), PD("andn", 0x55),
    PS("or", 0x56), PD("or", 0x56), PS("xor", 0x57), PD("xor", 0x57),
    PS("unpckl", 0x14), PD("unpckl", 0x14), PS("unpckh", 0x15), PD("unpckh", 0x15),
    { "cmpps xmm, %X, imm8", S32, RM_BOTH, 0, OP2(0x0f, 0xc2), R_, .imm = 1, .flags = FP },
    { "cmppd xmm, %X, imm8", S32, RM_BOTH, 0x66, OP2(0x0f, 0xc2), R_, .imm = 1, .flags = FP },
    { "cmpss xmm, %D, imm8", S32, RM_BOTH, 0xf3, OP2(0x0f, 0xc2), R_, .imm = 1, .flags = FP },
    { "cmpsd xmm, %Q, imm8", S32, RM_BOTH, 0xf2, OP2(0x0f, 0xc2), R_, .imm = 1, .flags = FP },
    { "shufps xmm, %X, imm8", S32, RM_BOTH, 0, OP2(0x0f, 0xc6), R_, .imm = 1, .flags = FP },
    { "shufpd xmm, %X, imm8", S32, RM_BOTH, 0x66, OP2(0x0f, 0xc6), R_, .imm = 1, .flags = FP },
    { "comiss xmm, %D", S32, RM_BOTH, 0, OP2(0x0f, 0x2f), R_, .flags = FP },
    { "ucomiss xmm, %D", S32, RM_BOTH, 0, OP2(0x0f, 0x2e), R_, .flags = FP },
    { "comisd xmm, %Q", S32, RM_BOTH, 0x66, OP2(0x0f, 0x2f), R_, .flags = FP },
    { "ucomisd xmm, %Q", S32, RM_BOTH, 0x66, OP2(0x0f, 0x2e), R_, .flags = FP },
    /* conversions */
    { "cvtsi2ss xmm, %E", S32 | S64, RM_BOTH, 0xf3, OP2(0x0f, 0x2a), R_, .flags = FP },
    { "cvtsi2sd xmm, %E", S32 | S64, RM_BOTH, 0xf2, OP2(0x0f, 0x2a), R_, .flags = FP },
    { "cvttss2si r%v, %D", S32 | S64, RM_BOTH, 0xf3, OP2(0x0f, 0x2c), R_, .flags = FP },
    { "cvtss2si r%v, %D", S32 | S64, RM_BOTH, 0xf3, OP2(0x0f, 0x2d), R_, .flags = FP },
    { "cvttsd2si r%v, %Q", S32 | S64, RM_BOTH, 0xf2, OP2(0x0f, 0x2c), R_, .flags = FP },
    { "cvtsd2si r%v, %Q", S32 | S64, RM_BOTH, 0xf2, OP2(0x0f, 0x2d), R_, .flags = FP },
    { "cvtps2pd xmm, %Q", S32, RM_BOTH, 0, OP2(0x0f, 0x5a), R_, .flags = FP },
    { "cvtpd2ps xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0x5a), R_, .flags = FP },
    { "cvtss2sd xmm, %D", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x5a), R_, .flags = FP },
    { "cvtsd2ss xmm, %Q", S32, RM_BOTH, 0xf2, OP2(0x0f, 0x5a), R_, .flags = FP },
    { "cvtdq2ps xmm, %X", S32, RM_BOTH, 0, OP2(0x0f, 0x5b), R_, .flags = FP },
    { "cvtps2dq xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0x5b), R_, .flags = FP },
    { "cvttps2dq xmm, %X", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x5b), R_, .flags = FP },
    { "cvtdq2pd xmm, %Q", S32, RM_BOTH, 0xf3, OP2(0x0f, 0xe6), R_, .flags = FP },
    { "cvtpd2dq xmm, %X", S32, RM_BOTH, 0xf2, OP2(0x0f, 0xe6), R_, .flags = FP },
    { "cvttpd2dq xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0xe6), R_, .flags = FP },
    /* moves */
    { "movaps xmm, %X", S32, RM_BOTH, 0, OP2(0x0f, 0x28), R_, .flags = FP },
    { "movaps %X, xmm", S32, RM_BOTH, 0, OP2(0x0f, 0x29), R_, .flags = FP },
    { "movups xmm, %X", S32, RM_BOTH, 0, OP2(0x0f, 0x10), R_, .flags = FP },
    { "movups %X, xmm", S32, RM_BOTH, 0, OP2(0x0f, 0x11), R_, .flags = FP },
    { "movapd xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0x28), R_, .flags = FP },
    { "movupd xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0x10), R_, .flags = FP },
    { "movss xmm, %D", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x10), R_, .flags = FP },
    { "movss %D, xmm", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x11), R_, .flags = FP },
    { "movsd xmm, %Q", S32, RM_BOTH, 0xf2, OP2(0x0f, 0x10), R_, .flags = FP },
    { "movsd %Q, xmm", S32, RM_BOTH, 0xf2, OP2(0x0f, 0x11), R_, .flags = FP },
    { "movdqa xmm, %X", S32, RM_BOTH, 0x66, OP2(0x0f, 0x6f), R_, .flags = FP },
    { "movdqa %X, xmm", S32, RM_BOTH, 0x66, OP2(0x0f, 0x7f), R_, .flags = FP },
    { "movdqu xmm, %X", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x6f), R_, .flags = FP },
    { "movdqu %X, xmm", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x7f), R_, .flags = FP },
    { "movd/movq xmm, %E", S32 | S64, RM_BOTH, 0x66, OP2(0x0f, 0x6e), R_, .flags = FP },
    { "movd/movq %E, xmm", S32 | S64, RM_BOTH, 0x66, OP2(0x0f, 0x7e), R_, .flags = FP },
    { "movq xmm, %Q", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x7e), R_, .flags = FP },
    { "movq %Q, xmm", S32, RM_BOTH, 0x66, OP2(0x0f, 0xd6), R_, .flags = FP },
    { "movlps xmm, m64", S32, RM_MEM, 0, OP2(0x0f, 0x12), R_, .flags = FP },
    { "movhps xmm, m64", S32, RM_MEM, 0, OP2(0x0f, 0x16), R_, .flags = FP },
    { "movlps m64, xmm", S32, RM_MEM, 0, OP2(0x0f, 0x13), R_, .flags = FP },
    { "movhps m64, xmm", S32, RM_MEM, 0, OP2(0x0f, 0x17), R_, .flags = FP },
    { "movhlps xmm, xmm", S32, RM_REG, 0, OP2(0x0f, 0x12), R_, .flags = FP },
    { "movlhps xmm, xmm", S32, RM_REG, 0, OP2(0x0f, 0x16), R_, .flags = FP },
    { "movlpd xmm, m64", S32, RM_MEM, 0x66, OP2(0x0f, 0x12), R_, .flags = FP },
    { "movhpd xmm, m64", S32, RM_MEM, 0x66, OP2(0x0f, 0x16), R_, .flags = FP },
    { "movmskps r32, xmm", S32, RM_REG, 0, OP2(0x0f, 0x50), R_, .flags = FP },
    { "movmskpd r32, xmm", S32, RM_REG, 0x66, OP2(0x0f, 0x50), R_, .flags = FP },
    { "pmovmskb r32, xmm", S32, RM_REG, 0x66, OP2(0x0f, 0xd7), R_, .flags = FP },
    { "movntdq m128, xmm", S32, RM_MEM, 0x66, OP2(0x0f, 0xe7), R_, .flags = FP },
    { "movnti m%v, r%v", S32 | S64, RM_MEM, 0, OP2(0x0f, 0xc3), R_ },
    /* integer SSE2 */
    P66("paddb", 0xfc), P66("paddw", 0xfd), P66("paddd", 0xfe), P66("paddq", 0xd4),
    P66("psubb", 0xf8), P66("psubw", 0xf9), P66("psubd", 0xfa), P66("psubq", 0xfb),
    P66("paddsb", 0xec), P66("paddsw", 0xed), P66("paddusb", 0xdc), P66("paddusw", 0xdd),
    P66("psubsb", 0xe8), P66("psubsw", 0xe9), P66("psubusb", 0xd8), P66("psubusw", 0xd9),
    P66("pmullw", 0xd5), P66("pmulhw", 0xe5), P66("pmulhuw", 0xe4), P66("pmuludq", 0xf4),
    P66("pmaddwd", 0xf5), P66("psadbw", 0xf6), P66("pavgb", 0xe0), P66("pavgw", 0xe3),
    P66("pmaxub", 0xde), P66("pminub", 0xda), P66("pmaxsw", 0xee), P66("pminsw", 0xea),
    P66("pand", 0xdb), P66("pandn", 0xdf), P66("por", 0xeb), P66("pxor", 0xef),
    P66("pcmpeqb", 0x74), P66("pcmpeqw", 0x75), P66("pcmpeqd", 0x76),
    P66("pcmpgtb", 0x64), P66("pcmpgtw", 0x65), P66("pcmpgtd", 0x66),
    P66("packsswb", 0x63), P66("packuswb", 0x67), P66("packssdw", 0x6b),
    P66("punpcklbw", 0x60), P66("punpcklwd", 0x61), P66("punpckldq", 0x62), P66("punpcklqdq", 0x6c),
    P66("punpckhbw", 0x68), P66("punpckhwd", 0x69), P66("punpckhdq", 0x6a), P66("punpckhqdq", 0x6d),
    P66("psrlw", 0xd1), P66("psrld", 0xd2), P66("psrlq", 0xd3), P66("psraw", 0xe1),
    P66("psrad", 0xe2), P66("psllw", 0xf1), P66("pslld", 0xf2), P66("psllq", 0xf3),
    { "psrlw xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x71), D(2), .imm = 1, .flags = FP },
    { "psraw xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x71), D(4), .imm = 1, .flags = FP },
    { "psllw xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x71), D(6), .imm = 1, .flags = FP },
    { "psrld xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x72), D(2), .imm = 1, .flags = FP },
    { "psrad xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x72), D(4), .imm = 1, .flags = FP },
    { "pslld xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x72), D(6), .imm = 1, .flags = FP },
    { "psrlq xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x73), D(2), .imm = 1, .flags = FP },
    { "psrldq xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x73), D(3), .imm = 1, .flags = FP },
    { "psllq xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x73), D(6), .imm = 1, .flags = FP },
    { "pslldq xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0x73), D(7), .imm = 1, .flags = FP },
    { "pshufd xmm, %X, imm8", S32, RM_BOTH, 0x66, OP2(0x0f, 0x70), R_, .imm = 1, .flags = FP },
    { "pshufhw xmm, %X, imm8", S32, RM_BOTH, 0xf3, OP2(0x0f, 0x70), R_, .imm = 1, .flags = FP },
    { "pshuflw xmm, %X, imm8", S32, RM_BOTH, 0xf2, OP2(0x0f, 0x70), R_, .imm = 1, .flags = FP },
    { "pinsrw xmm, %E, imm8", S32, RM_BOTH, 0x66, OP2(0x0f, 0xc4), R_, .imm = 1, .flags = FP },
    { "pextrw r32, xmm, imm8", S32, RM_REG, 0x66, OP2(0x0f, 0xc5), R_, .imm = 1, .flags = FP },
    /* MXCSR: LDMXCSR of a random image raises #GP on reserved bits */
    { "ldmxcsr m32", S32, RM_MEM, 0, OP2(0x0f, 0xae), D(2), .flags = FP },
    { "stmxcsr m32", S32, RM_MEM, 0, OP2(0x0f, 0xae), D(3), .flags = FP },
};
const struct diff_table forms_sse = { "sse", sse, sizeof sse / sizeof sse[0] };
