/* Handlers of the SSE/SSE2/MMX plug-in table (sse_table.c), defined in
 * sse_arith.c and sse_move.c. Names follow the mnemonic; _x is the XMM
 * (66) form, _m the MMX (no prefix) form of an integer instruction. */
#ifndef BRUME_ACCEL_EMU_FP_OPS_H
#define BRUME_ACCEL_EMU_FP_OPS_H

#include "accel/emu/fp.h"
#include "accel/emu/insn.h"

#define FP_OP(name) void name(struct emu_cpu *c, const struct insn *i __attribute__((unused)))

FP_OP(op_addps);
FP_OP(op_addpd);
FP_OP(op_addss);
FP_OP(op_addsd);
FP_OP(op_subps);
FP_OP(op_subpd);
FP_OP(op_subss);
FP_OP(op_subsd);
FP_OP(op_mulps);
FP_OP(op_mulpd);
FP_OP(op_mulss);
FP_OP(op_mulsd);
FP_OP(op_divps);
FP_OP(op_divpd);
FP_OP(op_divss);
FP_OP(op_divsd);
FP_OP(op_minps);
FP_OP(op_minpd);
FP_OP(op_minss);
FP_OP(op_minsd);
FP_OP(op_maxps);
FP_OP(op_maxpd);
FP_OP(op_maxss);
FP_OP(op_maxsd);
FP_OP(op_sqrtps);
FP_OP(op_sqrtpd);
FP_OP(op_sqrtss);
FP_OP(op_sqrtsd);
FP_OP(op_rcpps);
FP_OP(op_rcpss);
FP_OP(op_rsqrtps);
FP_OP(op_rsqrtss);
FP_OP(op_cvtps2pd);
FP_OP(op_cvtpd2ps);
FP_OP(op_cvtss2sd);
FP_OP(op_cvtsd2ss);
FP_OP(op_cvtdq2ps);
FP_OP(op_cvtps2dq);
FP_OP(op_cvttps2dq);
FP_OP(op_cvtdq2pd);
FP_OP(op_cvtpd2dq);
FP_OP(op_cvttpd2dq);
FP_OP(op_pand);
FP_OP(op_pandn);
FP_OP(op_por);
FP_OP(op_pxor);
FP_OP(op_unpcklps);
FP_OP(op_unpckhps);
FP_OP(op_unpcklpd);
FP_OP(op_unpckhpd);
FP_OP(op_PUNPCKLQDQ_x);
FP_OP(op_PUNPCKHQDQ_x);
FP_OP(op_cmpps);
FP_OP(op_cmppd);
FP_OP(op_cmpss);
FP_OP(op_cmpsd);
FP_OP(op_comiss);
FP_OP(op_ucomiss);
FP_OP(op_comisd);
FP_OP(op_ucomisd);
FP_OP(op_cvtsi2ss);
FP_OP(op_cvtsi2sd);
FP_OP(op_cvtss2si);
FP_OP(op_cvtsd2si);
FP_OP(op_cvttss2si);
FP_OP(op_cvttsd2si);
FP_OP(op_shufps);
FP_OP(op_shufpd);
FP_OP(op_pshufd);
FP_OP(op_pshuflw);
FP_OP(op_pshufhw);
FP_OP(op_pshufw);
FP_OP(op_shift_imm_x);
FP_OP(op_shift_imm_m);
FP_OP(op_movu_load);
FP_OP(op_mova_load);
FP_OP(op_movu_store);
FP_OP(op_mova_store);
FP_OP(op_movnt_store);
FP_OP(op_movss_load);
FP_OP(op_movss_store);
FP_OP(op_movsd_load);
FP_OP(op_movsd_store);
FP_OP(op_movlps_load);
FP_OP(op_movhps_load);
FP_OP(op_movlpd_load);
FP_OP(op_movhpd_load);
FP_OP(op_movlp_store);
FP_OP(op_movhp_store);
FP_OP(op_movd_x_E);
FP_OP(op_movd_E_x);
FP_OP(op_movq_x_W);
FP_OP(op_movq_W_x);
FP_OP(op_movd_m_E);
FP_OP(op_movd_E_m);
FP_OP(op_movq_m_Q);
FP_OP(op_movq_Q_m);
FP_OP(op_movntq);
FP_OP(op_movq2dq);
FP_OP(op_movdq2q);
FP_OP(op_movmskps);
FP_OP(op_movmskpd);
FP_OP(op_pmovmskb_x);
FP_OP(op_pmovmskb_m);
FP_OP(op_pextrw_x);
FP_OP(op_pextrw_m);
FP_OP(op_pinsrw_x);
FP_OP(op_pinsrw_m);
FP_OP(op_maskmovdqu);
FP_OP(op_maskmovq);
FP_OP(op_emms);
FP_OP(op_grp15_fp);
#define FP_INT_DECL(name, mnem) FP_OP(op_##name##_x); FP_OP(op_##name##_m);
MMX_INT_OPS(FP_INT_DECL)
#undef FP_INT_DECL

#endif
