/* SSE/MMX plug-in tables (see insn.h): [opcode][PFX_NONE, PFX_66, PFX_F3,
 * PFX_F2]. An entry left NULL stops the VM with "unimplemented
 * instruction", op_ud makes an encoding #UD. 0F AE [PFX_NONE] receives
 * FXSAVE/FXRSTOR/LDMXCSR/STMXCSR (modrm.reg 0..3, memory forms only).
 * What is implemented, and how, is docs/emu-fp.md. */
#include "accel/emu/fp_ops.h"

/* SSE3 (CPUID.1:ECX.SSE3 clear, see cpuid.c): its encodings are #UD, as on
 * a CPU without it. Give them handlers when SSE3 is advertised. */
#define SSE3_UD op_ud

/* An integer SIMD opcode with its MMX (no prefix) and XMM (66) forms */
#define INT2(name) { op_##name##_m, op_##name##_x, op_ud, op_ud }
/* A floating-point opcode with PS, PD, SS, SD forms */
#define FP4(n) { op_##n##ps, op_##n##pd, op_##n##ss, op_##n##sd }

const emu_op_fn emu_sse_0f[256][4] = {
    [0x10] = { op_movu_load, op_movu_load, op_movss_load, op_movsd_load },
    [0x11] = { op_movu_store, op_movu_store, op_movss_store, op_movsd_store },
    [0x12] = { op_movlps_load, op_movlpd_load, SSE3_UD /* MOVSLDUP */, SSE3_UD /* MOVDDUP */ },
    [0x13] = { op_movlp_store, op_movlp_store, op_ud, op_ud },
    [0x14] = { op_unpcklps, op_unpcklpd, op_ud, op_ud },
    [0x15] = { op_unpckhps, op_unpckhpd, op_ud, op_ud },
    [0x16] = { op_movhps_load, op_movhpd_load, SSE3_UD /* MOVSHDUP */, op_ud },
    [0x17] = { op_movhp_store, op_movhp_store, op_ud, op_ud },
    [0x28] = { op_mova_load, op_mova_load, op_ud, op_ud },
    [0x29] = { op_mova_store, op_mova_store, op_ud, op_ud },
    [0x2a] = { op_cvtpi2ps, op_cvtpi2pd, op_cvtsi2ss, op_cvtsi2sd },
    [0x2b] = { op_movnt_store, op_movnt_store, op_ud, op_ud },
    [0x2c] = { op_cvttps2pi, op_cvttpd2pi, op_cvttss2si, op_cvttsd2si },
    [0x2d] = { op_cvtps2pi, op_cvtpd2pi, op_cvtss2si, op_cvtsd2si },
    [0x2e] = { op_ucomiss, op_ucomisd, op_ud, op_ud },
    [0x2f] = { op_comiss, op_comisd, op_ud, op_ud },
    [0x50] = { op_movmskps, op_movmskpd, op_ud, op_ud },
    [0x51] = FP4(sqrt),
    [0x52] = { op_rsqrtps, op_ud, op_rsqrtss, op_ud },
    [0x53] = { op_rcpps, op_ud, op_rcpss, op_ud },
    [0x54] = { op_pand, op_pand, op_ud, op_ud },     /* ANDPS, ANDPD */
    [0x55] = { op_pandn, op_pandn, op_ud, op_ud },   /* ANDNPS, ANDNPD */
    [0x56] = { op_por, op_por, op_ud, op_ud },       /* ORPS, ORPD */
    [0x57] = { op_pxor, op_pxor, op_ud, op_ud },     /* XORPS, XORPD */
    [0x58] = FP4(add),
    [0x59] = FP4(mul),
    [0x5a] = { op_cvtps2pd, op_cvtpd2ps, op_cvtss2sd, op_cvtsd2ss },
    [0x5b] = { op_cvtdq2ps, op_cvtps2dq, op_cvttps2dq, op_ud },
    [0x5c] = FP4(sub),
    [0x5d] = FP4(min),
    [0x5e] = FP4(div),
    [0x5f] = FP4(max),
    [0x60] = INT2(PUNPCKLBW), [0x61] = INT2(PUNPCKLWD), [0x62] = INT2(PUNPCKLDQ), [0x63] = INT2(PACKSSWB),
    [0x64] = INT2(PCMPGTB), [0x65] = INT2(PCMPGTW), [0x66] = INT2(PCMPGTD), [0x67] = INT2(PACKUSWB),
    [0x68] = INT2(PUNPCKHBW), [0x69] = INT2(PUNPCKHWD), [0x6a] = INT2(PUNPCKHDQ), [0x6b] = INT2(PACKSSDW),
    [0x6c] = { op_ud, op_PUNPCKLQDQ_x, op_ud, op_ud },
    [0x6d] = { op_ud, op_PUNPCKHQDQ_x, op_ud, op_ud },
    [0x6e] = { op_movd_m_E, op_movd_x_E, op_ud, op_ud },
    [0x6f] = { op_movq_m_Q, op_mova_load /* MOVDQA */, op_movu_load /* MOVDQU */, op_ud },
    [0x70] = { op_pshufw, op_pshufd, op_pshufhw, op_pshuflw },
    [0x71] = { op_shift_imm_m, op_shift_imm_x, op_ud, op_ud },
    [0x72] = { op_shift_imm_m, op_shift_imm_x, op_ud, op_ud },
    [0x73] = { op_shift_imm_m, op_shift_imm_x, op_ud, op_ud },
    [0x74] = INT2(PCMPEQB), [0x75] = INT2(PCMPEQW), [0x76] = INT2(PCMPEQD),
    [0x77] = { op_emms, op_ud, op_ud, op_ud },
    [0x7c] = { op_ud, SSE3_UD /* HADDPD */, op_ud, SSE3_UD /* HADDPS */ },
    [0x7d] = { op_ud, SSE3_UD /* HSUBPD */, op_ud, SSE3_UD /* HSUBPS */ },
    [0x7e] = { op_movd_E_m, op_movd_E_x, op_movq_x_W, op_ud },
    [0x7f] = { op_movq_Q_m, op_mova_store /* MOVDQA */, op_movu_store /* MOVDQU */, op_ud },
    [0xae] = { op_grp15_fp, op_ud, op_ud, op_ud },
    [0xc2] = { op_cmpps, op_cmppd, op_cmpss, op_cmpsd },
    [0xc4] = { op_pinsrw_m, op_pinsrw_x, op_ud, op_ud },
    [0xc5] = { op_pextrw_m, op_pextrw_x, op_ud, op_ud },
    [0xc6] = { op_shufps, op_shufpd, op_ud, op_ud },
    [0xd0] = { op_ud, SSE3_UD /* ADDSUBPD */, op_ud, SSE3_UD /* ADDSUBPS */ },
    [0xd1] = INT2(PSRLW), [0xd2] = INT2(PSRLD), [0xd3] = INT2(PSRLQ), [0xd4] = INT2(PADDQ),
    [0xd5] = INT2(PMULLW),
    [0xd6] = { op_ud, op_movq_W_x, op_movq2dq, op_movdq2q },
    [0xd7] = { op_pmovmskb_m, op_pmovmskb_x, op_ud, op_ud },
    [0xd8] = INT2(PSUBUSB), [0xd9] = INT2(PSUBUSW), [0xda] = INT2(PMINUB), [0xdb] = INT2(PAND),
    [0xdc] = INT2(PADDUSB), [0xdd] = INT2(PADDUSW), [0xde] = INT2(PMAXUB), [0xdf] = INT2(PANDN),
    [0xe0] = INT2(PAVGB), [0xe1] = INT2(PSRAW), [0xe2] = INT2(PSRAD), [0xe3] = INT2(PAVGW),
    [0xe4] = INT2(PMULHUW), [0xe5] = INT2(PMULHW),
    [0xe6] = { op_ud, op_cvttpd2dq, op_cvtdq2pd, op_cvtpd2dq },
    [0xe7] = { op_movntq, op_movnt_store /* MOVNTDQ */, op_ud, op_ud },
    [0xe8] = INT2(PSUBSB), [0xe9] = INT2(PSUBSW), [0xea] = INT2(PMINSW), [0xeb] = INT2(POR),
    [0xec] = INT2(PADDSB), [0xed] = INT2(PADDSW), [0xee] = INT2(PMAXSW), [0xef] = INT2(PXOR),
    [0xf0] = { op_ud, op_ud, op_ud, SSE3_UD /* LDDQU */ },
    [0xf1] = INT2(PSLLW), [0xf2] = INT2(PSLLD), [0xf3] = INT2(PSLLQ), [0xf4] = INT2(PMULUDQ),
    [0xf5] = INT2(PMADDWD), [0xf6] = INT2(PSADBW),
    [0xf7] = { op_maskmovq, op_maskmovdqu, op_ud, op_ud },
    [0xf8] = INT2(PSUBB), [0xf9] = INT2(PSUBW), [0xfa] = INT2(PSUBD), [0xfb] = INT2(PSUBQ),
    [0xfc] = INT2(PADDB), [0xfd] = INT2(PADDW), [0xfe] = INT2(PADDD),
};

/* 0F 38 and 0F 3A hold SSSE3, SSE4.1/4.2, MOVBE, CRC32, AES, PCLMULQDQ,
 * SHA, ADX...: none is advertised by cpuid.c, so every encoding is #UD
 * (the architectural behaviour without the feature). When one of them is
 * advertised, its entries must get handlers (or NULL: "unimplemented"). */
#define UD4 { op_ud, op_ud, op_ud, op_ud }
#define UD16 UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4, UD4
#define UD256 UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16, UD16

const emu_op_fn emu_sse_0f38[256][4] = { UD256 };
const emu_op_fn emu_sse_0f3a[256][4] = { UD256 };
