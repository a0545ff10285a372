/* The emu engine's x87, MMX and SSE kernels: pure functions on the FXSAVE
 * image (struct cpu_fxsave) and on 128-bit values, with no knowledge of
 * struct emu_cpu, decoding or guest memory. The instruction handlers
 * (x87_ops.c, sse_*.c) fetch operands, check the architectural conditions
 * (CR0.EM/TS, CR4.OSFXSR, alignment, pending #MF) and call these.
 *
 * Exactness comes from the host: brume's emu engine runs on x86-64 hosts,
 * so every floating-point operation is executed by the host's own x87 or
 * SSE unit on the guest's values, under the guest's control word / MXCSR,
 * and the resulting status is read back (see docs/emu-fp.md). Data
 * movement, shuffles and control instructions are plain C. */
#ifndef BRUME_ACCEL_EMU_FP_H
#define BRUME_ACCEL_EMU_FP_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/cpu_state.h"

#if !defined(__x86_64__)
#error "the emu engine's floating point runs the host's x87/SSE: x86-64 hosts only (see docs/emu-fp.md)"
#endif

/* One XMM register (or an MMX register in the low 8 bytes). */
typedef union {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    int8_t sb[16];
    int16_t sw[8];
    int32_t sd[4];
    int64_t sq[2];
    float f[4];
    double g[2];
} __attribute__((aligned(16))) fp_xmm;

/* ---- x87 status and control words ---- */
#define FSW_IE  0x0001u
#define FSW_DE  0x0002u
#define FSW_ZE  0x0004u
#define FSW_OE  0x0008u
#define FSW_UE  0x0010u
#define FSW_PE  0x0020u
#define FSW_SF  0x0040u
#define FSW_ES  0x0080u
#define FSW_C0  0x0100u
#define FSW_C1  0x0200u
#define FSW_C2  0x0400u
#define FSW_TOP_SHIFT 11
#define FSW_TOP 0x3800u
#define FSW_C3  0x4000u
#define FSW_B   0x8000u
#define FSW_EXC 0x003fu     /* the six exception flags */

#define FCW_DEFAULT 0x037fu /* FNINIT: all masked, 64-bit precision, nearest */

#define MXCSR_DEFAULT 0x1f80u
#define MXCSR_FLAGS   0x003fu
#define MXCSR_DAZ     0x0040u
#define MXCSR_MASKS   0x1f80u
#define MXCSR_FTZ     0x8000u

/* Full x87 tag values (FNSTENV/FNSAVE format) */
enum { X87_TAG_VALID = 0, X87_TAG_ZERO = 1, X87_TAG_SPECIAL = 2, X87_TAG_EMPTY = 3 };

static inline unsigned x87_top(const struct cpu_fxsave *fx)
{
    return (fx->fsw >> FSW_TOP_SHIFT) & 7;
}

/* FCW as the hardware keeps it: bits 6 reads as one, 13-15 as zero. */
static inline uint16_t x87_fcw_norm(uint16_t v)
{
    return (uint16_t)((v & 0x1f3fu) | 0x40u);
}

/* True when a waiting x87 instruction must raise #MF first. ES (and B)
 * are kept equal to "an exception flag is set whose mask bit in FCW is
 * clear" by every path that loads FSW or FCW (x87_fix_es). */
static inline bool x87_mf_pending(const struct cpu_fxsave *fx)
{
    return (fx->fsw & FSW_ES) != 0;
}

/* ---- x87_host.c: executing x87 instructions on the host's x87 ---- */

/* Does the x87 escape (esc = opcode - 0xD8, 0..7) with this ModRM byte
 * name an instruction that x87_host_exec runs? For memory forms (modrm <
 * 0xC0) only the reg field matters. Control instructions (FLDENV, FNSTCW,
 * FNINIT, ...) are not host-executed: see x87_ctl.c. */
bool x87_host_form(unsigned esc, unsigned modrm);

/* Size in bytes of the memory operand of a host-executed memory form
 * (2, 4, 8 or 10), or 0 for register forms. */
unsigned x87_mem_size(unsigned esc, unsigned modrm);

/* Does the form write its memory operand (FST, FISTP, FBSTP, ...)? */
bool x87_mem_is_store(unsigned esc, unsigned modrm);

/* Runs one x87 instruction on the host with the x87 state of *fx: loads it
 * into the host's x87 (with the guest's FCW as it is), executes the
 * instruction (mem is its memory operand, at least 16 bytes), saves the x87
 * state back into *fx and restores the host's. *rflags carries the guest's
 * arithmetic flags in (FCMOVcc) and out (FCOMI). FIP/FDP/FOP are left to
 * the caller. MXCSR and the XMM registers of *fx are not changed.
 * Requires x87_host_form() and !x87_mf_pending(fx) (a pending unmasked
 * exception would trap in the host). */
void x87_host_exec(struct cpu_fxsave *fx, unsigned esc, unsigned modrm, void *mem, uint64_t *rflags);

/* Checks the layout of the host stubs (unit tests). */
bool x87_host_selftest(void);

/* After x87_host_exec of a store form: was the memory operand left
 * unwritten (an unmasked invalid-operation, overflow or underflow)? */
bool x87_store_suppressed(const struct cpu_fxsave *fx);

/* ---- x87_ctl.c: control instructions, in C ---- */

/* FNINIT: FCW=0x37F, FSW=0, all tags empty, FIP/FDP/FOP=0. */
void x87_init(struct cpu_fxsave *fx);
/* FNCLEX: clears the exception flags, SF, ES and B. */
void x87_clex(struct cpu_fxsave *fx);
/* The full 16-bit tag word, computed from the registers like FNSTENV. */
uint16_t x87_full_tag(const struct cpu_fxsave *fx);
/* The abridged tag (FXSAVE) of a full tag word. */
uint8_t x87_abridge_tag(uint16_t full);
/* Recomputes ES and B from the flags and the masks (after FLDCW, FLDENV,
 * FRSTOR, FXRSTOR). */
void x87_fix_es(struct cpu_fxsave *fx);

/* FNSTENV / FLDENV images: 28 bytes (32-bit operand size, also 64-bit
 * mode without REX.W... FSTENV has no 64-bit form) or 14 bytes (16-bit
 * operand size). Protected-mode format; FCS/FDS stored as 0. */
unsigned x87_env_size(bool opsize16);
void x87_env_store(const struct cpu_fxsave *fx, uint8_t *out, bool opsize16);
void x87_env_load(struct cpu_fxsave *fx, const uint8_t *in, bool opsize16);
/* FNSAVE / FRSTOR images: the environment followed by ST0..ST7 as ten
 * bytes each (108 or 94 bytes). x87_save_store does not reinitialize: the
 * caller does x87_init after the store succeeded. */
unsigned x87_save_size(bool opsize16);
void x87_save_store(const struct cpu_fxsave *fx, uint8_t *out, bool opsize16);
void x87_save_load(struct cpu_fxsave *fx, const uint8_t *in, bool opsize16);

/* MMX register access: MMn is the low 64 bits of physical register n. Any
 * MMX instruction sets TOP=0 and all tags valid; a write also sets the
 * exponent field (bytes 8-9) to all ones. */
uint64_t mmx_read(struct cpu_fxsave *fx, unsigned n);
void mmx_write(struct cpu_fxsave *fx, unsigned n, uint64_t v);
void mmx_enter(struct cpu_fxsave *fx);
/* EMMS: all tags empty. */
void mmx_emms(struct cpu_fxsave *fx);

/* ---- fxsave.c: FXSAVE / FXRSTOR images ---- */

/* The MXCSR bits this CPU (the host, so that its SSE can run them)
 * supports: the MXCSR_MASK field FXSAVE stores. */
uint32_t fp_mxcsr_mask(void);
/* Writes the 512-byte image of FXSAVE (rex_w: 64-bit FIP/FDP; else 32-bit
 * offsets with zero selectors). Bytes from 160 + 16 * xmm_regs on are left
 * untouched; xmm_regs is 16 in 64-bit mode, 8 otherwise. */
void fxsave_store(const struct cpu_fxsave *fx, uint8_t out[512], bool rex_w, unsigned xmm_regs);
/* Checks an FXRSTOR image: returns false when MXCSR has bits outside the
 * mask (#GP). */
bool fxsave_image_valid(const uint8_t in[512]);
/* Loads an image that passed fxsave_image_valid. */
void fxsave_load(struct cpu_fxsave *fx, const uint8_t in[512], bool rex_w, unsigned xmm_regs);

/* ---- sse_host.c: SSE arithmetic on the host's SSE ---- */

/* Two-operand SSE operations executed on the host: d = d op s. The FP
 * ones run under the guest's MXCSR (rounding, DAZ, FTZ) with every
 * exception masked and return the exception flags they raised; the
 * integer ones return 0. The list is the table the handlers and the
 * differential tests enumerate. */
#define SSE_FP_OPS(X)                                                   \
    X(ADDPS, "addps") X(ADDPD, "addpd") X(ADDSS, "addss") X(ADDSD, "addsd") \
    X(SUBPS, "subps") X(SUBPD, "subpd") X(SUBSS, "subss") X(SUBSD, "subsd") \
    X(MULPS, "mulps") X(MULPD, "mulpd") X(MULSS, "mulss") X(MULSD, "mulsd") \
    X(DIVPS, "divps") X(DIVPD, "divpd") X(DIVSS, "divss") X(DIVSD, "divsd") \
    X(MINPS, "minps") X(MINPD, "minpd") X(MINSS, "minss") X(MINSD, "minsd") \
    X(MAXPS, "maxps") X(MAXPD, "maxpd") X(MAXSS, "maxss") X(MAXSD, "maxsd") \
    X(SQRTPS, "sqrtps") X(SQRTPD, "sqrtpd") X(SQRTSS, "sqrtss") X(SQRTSD, "sqrtsd") \
    X(RCPPS, "rcpps") X(RCPSS, "rcpss") X(RSQRTPS, "rsqrtps") X(RSQRTSS, "rsqrtss") \
    X(CMPEQPS, "cmpeqps") X(CMPLTPS, "cmpltps") X(CMPLEPS, "cmpleps") X(CMPUNORDPS, "cmpunordps") \
    X(CMPNEQPS, "cmpneqps") X(CMPNLTPS, "cmpnltps") X(CMPNLEPS, "cmpnleps") X(CMPORDPS, "cmpordps") \
    X(CMPEQPD, "cmpeqpd") X(CMPLTPD, "cmpltpd") X(CMPLEPD, "cmplepd") X(CMPUNORDPD, "cmpunordpd") \
    X(CMPNEQPD, "cmpneqpd") X(CMPNLTPD, "cmpnltpd") X(CMPNLEPD, "cmpnlepd") X(CMPORDPD, "cmpordpd") \
    X(CMPEQSS, "cmpeqss") X(CMPLTSS, "cmpltss") X(CMPLESS, "cmpless") X(CMPUNORDSS, "cmpunordss") \
    X(CMPNEQSS, "cmpneqss") X(CMPNLTSS, "cmpnltss") X(CMPNLESS, "cmpnless") X(CMPORDSS, "cmpordss") \
    X(CMPEQSD, "cmpeqsd") X(CMPLTSD, "cmpltsd") X(CMPLESD, "cmplesd") X(CMPUNORDSD, "cmpunordsd") \
    X(CMPNEQSD, "cmpneqsd") X(CMPNLTSD, "cmpnltsd") X(CMPNLESD, "cmpnlesd") X(CMPORDSD, "cmpordsd") \
    X(CVTSS2SD, "cvtss2sd") X(CVTSD2SS, "cvtsd2ss") X(CVTPS2PD, "cvtps2pd") X(CVTPD2PS, "cvtpd2ps") \
    X(CVTDQ2PS, "cvtdq2ps") X(CVTPS2DQ, "cvtps2dq") X(CVTTPS2DQ, "cvttps2dq") \
    X(CVTDQ2PD, "cvtdq2pd") X(CVTPD2DQ, "cvtpd2dq") X(CVTTPD2DQ, "cvttpd2dq")

/* The integer operations that exist both as MMX (0F xx without a prefix)
 * and as SSE2 (66 0F xx) forms. PMINUB..PSADBW were added to MMX with SSE. */
#define SIMD_INT_SHARED_OPS(X)                                          \
    X(PADDB, "paddb") X(PADDW, "paddw") X(PADDD, "paddd") X(PADDQ, "paddq") \
    X(PSUBB, "psubb") X(PSUBW, "psubw") X(PSUBD, "psubd") X(PSUBQ, "psubq") \
    X(PADDSB, "paddsb") X(PADDSW, "paddsw") X(PADDUSB, "paddusb") X(PADDUSW, "paddusw") \
    X(PSUBSB, "psubsb") X(PSUBSW, "psubsw") X(PSUBUSB, "psubusb") X(PSUBUSW, "psubusw") \
    X(PCMPEQB, "pcmpeqb") X(PCMPEQW, "pcmpeqw") X(PCMPEQD, "pcmpeqd") \
    X(PCMPGTB, "pcmpgtb") X(PCMPGTW, "pcmpgtw") X(PCMPGTD, "pcmpgtd") \
    X(PMINUB, "pminub") X(PMAXUB, "pmaxub") X(PMINSW, "pminsw") X(PMAXSW, "pmaxsw") \
    X(PAVGB, "pavgb") X(PAVGW, "pavgw") \
    X(PMULLW, "pmullw") X(PMULHW, "pmulhw") X(PMULHUW, "pmulhuw") X(PMULUDQ, "pmuludq") \
    X(PMADDWD, "pmaddwd") X(PSADBW, "psadbw") \
    X(PSLLW, "psllw") X(PSLLD, "pslld") X(PSLLQ, "psllq") \
    X(PSRLW, "psrlw") X(PSRLD, "psrld") X(PSRLQ, "psrlq") X(PSRAW, "psraw") X(PSRAD, "psrad") \
    X(PACKSSWB, "packsswb") X(PACKUSWB, "packuswb") X(PACKSSDW, "packssdw") \
    X(PUNPCKLBW, "punpcklbw") X(PUNPCKLWD, "punpcklwd") X(PUNPCKLDQ, "punpckldq") \
    X(PUNPCKHBW, "punpckhbw") X(PUNPCKHWD, "punpckhwd") X(PUNPCKHDQ, "punpckhdq") \
    X(PAND, "pand") X(PANDN, "pandn") X(POR, "por") X(PXOR, "pxor")

#define MMX_INT_OPS(X) SIMD_INT_SHARED_OPS(X)

/* SSE2 integer operations: the shared ones plus the 128-bit-only forms. */
#define SSE_INT_OPS(X)                                                  \
    SIMD_INT_SHARED_OPS(X)                                              \
    X(PUNPCKLQDQ, "punpcklqdq") X(PUNPCKHQDQ, "punpckhqdq") \
    X(UNPCKLPS, "unpcklps") X(UNPCKHPS, "unpckhps") X(UNPCKLPD, "unpcklpd") X(UNPCKHPD, "unpckhpd")

#define SSE_ENUM(name, mnem) SSE_##name,
enum sse_op { SSE_FP_OPS(SSE_ENUM) SSE_INT_OPS(SSE_ENUM) SSE_OP_COUNT };
#undef SSE_ENUM

/* The mnemonic of an operation (tests, error messages). */
const char *sse_op_name(enum sse_op op);
/* Is op a floating-point operation (MXCSR matters, flags returned)? */
bool sse_op_is_fp(enum sse_op op);

/* d = d op s on the host. mxcsr is the guest's MXCSR: rounding, DAZ and
 * FTZ are honoured, its flags and masks are not (every exception is masked
 * on the host). Returns the exception flags raised (MXCSR bits 0..5). */
uint32_t sse_exec(enum sse_op op, fp_xmm *d, const fp_xmm *s, uint32_t mxcsr);
/* The MMX form of an integer operation on 64-bit values: returns d op s. */
uint64_t mmx_exec(enum sse_op op, uint64_t d, uint64_t s);

/* Scalar conversions between XMM and general registers.
 * which: CVT_SI2SS/SD take the integer in *gpr (32 or 64 bits, size) and
 * write the low lane of *x; CVT(T)SS2SI/SD2SI read the low lane and write
 * *gpr (the integer indefinite on overflow / NaN). Return flags. */
enum sse_cvt { CVT_SI2SS, CVT_SI2SD, CVT_SS2SI, CVT_SD2SI, CVT_TSS2SI, CVT_TSD2SI };
uint32_t sse_cvt_gpr(enum sse_cvt which, fp_xmm *x, uint64_t *gpr, unsigned size, uint32_t mxcsr);

/* COMISS/UCOMISS/COMISD/UCOMISD: compares the low lanes; *rflags gets ZF,
 * PF, CF (OF, SF, AF cleared). double_ = the SD forms, ordered = COMIS*. */
uint32_t sse_comi(const fp_xmm *a, const fp_xmm *b, bool double_, bool ordered, uint32_t mxcsr, uint64_t *rflags);

/* ---- sse_shuf.c: data movement in C (no floating-point semantics) ---- */
void sse_shufps(fp_xmm *d, const fp_xmm *s, uint8_t imm);
void sse_shufpd(fp_xmm *d, const fp_xmm *s, uint8_t imm);
void sse_pshufd(fp_xmm *d, const fp_xmm *s, uint8_t imm);
void sse_pshuflw(fp_xmm *d, const fp_xmm *s, uint8_t imm);
void sse_pshufhw(fp_xmm *d, const fp_xmm *s, uint8_t imm);
uint64_t mmx_pshufw(uint64_t s, uint8_t imm);
void sse_pslldq(fp_xmm *d, uint8_t imm);
void sse_psrldq(fp_xmm *d, uint8_t imm);
unsigned sse_pmovmskb(const fp_xmm *s, unsigned bytes);
unsigned sse_movmskps(const fp_xmm *s);
unsigned sse_movmskpd(const fp_xmm *s);

#endif
