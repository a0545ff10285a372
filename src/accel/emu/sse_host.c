/* SSE/SSE2 and MMX arithmetic on the host's SSE unit.
 *
 * Each operation is one asm block: save the host's MXCSR, load the guest's
 * (rounding, DAZ, FTZ; flags cleared; every exception masked so nothing
 * traps in the host), run the instruction on XMM0/XMM1, read MXCSR back
 * for the flags it raised, restore the host's MXCSR. One asm block keeps
 * the compiler from moving or constant-folding the arithmetic across the
 * MXCSR changes, which it may do with intrinsics. The operands are always
 * registers: the handlers fetch memory operands (and check alignment)
 * themselves. */
#include "accel/emu/fp.h"

#include <stddef.h>

#define SSE_NAME(name, mnem) [SSE_##name] = mnem,
static const char *const sse_names[SSE_OP_COUNT] = { SSE_FP_OPS(SSE_NAME) SSE_INT_OPS(SSE_NAME) };
#undef SSE_NAME

#define SSE_COUNT1(name, mnem) +1
enum { SSE_FP_COUNT = 0 SSE_FP_OPS(SSE_COUNT1) };
#undef SSE_COUNT1

const char *sse_op_name(enum sse_op op)
{
    return (unsigned)op < SSE_OP_COUNT ? sse_names[op] : "?";
}

bool sse_op_is_fp(enum sse_op op)
{
    return (unsigned)op < SSE_FP_COUNT;
}

/* The guest MXCSR as the host runs it: its control bits, no flags, all
 * exceptions masked. */
static uint32_t sse_host_csr(uint32_t mxcsr)
{
    return (mxcsr & (MXCSR_DAZ | MXCSR_FTZ | 0x6000u)) | MXCSR_MASKS;
}

#define SSE_PRE  "stmxcsr %[h]\n\tldmxcsr %[c]\n\t"
#define SSE_POST "stmxcsr %[c]\n\tldmxcsr %[h]\n\t"

#define SSE_CASE(name, mnem)                                                    \
    case SSE_##name:                                                            \
        __asm__ volatile(SSE_PRE "movdqu %[d], %%xmm0\n\tmovdqu %[s], %%xmm1\n\t" \
                         mnem " %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[d]\n\t" SSE_POST \
                         : [d] "+m"(*d), [c] "+m"(csr), [h] "+m"(host)          \
                         : [s] "m"(*s)                                          \
                         : "xmm0", "xmm1");                                     \
        break;

uint32_t sse_exec(enum sse_op op, fp_xmm *d, const fp_xmm *s, uint32_t mxcsr)
{
    uint32_t csr = sse_host_csr(mxcsr), host = 0;
    switch (op) {
    SSE_FP_OPS(SSE_CASE)
    SSE_INT_OPS(SSE_CASE)
    default:
        return 0;
    }
    return csr & MXCSR_FLAGS;
}

#define MMX_CASE(name, mnem)                                                    \
    case SSE_##name:                                                            \
        __asm__ volatile("movq %[d], %%mm0\n\tmovq %[s], %%mm1\n\t" mnem         \
                         " %%mm1, %%mm0\n\tmovq %%mm0, %[d]\n\temms"            \
                         : [d] "+m"(d) : [s] "m"(s) : "mm0", "mm1");            \
        break;

uint64_t mmx_exec(enum sse_op op, uint64_t d, uint64_t s)
{
    switch (op) {
    MMX_INT_OPS(MMX_CASE)
    default:
        break;
    }
    return d;
}

uint32_t sse_cvt_gpr(enum sse_cvt which, fp_xmm *x, uint64_t *gpr, unsigned size, uint32_t mxcsr)
{
    uint32_t csr = sse_host_csr(mxcsr), host = 0;
    uint64_t g = *gpr;
    bool q = size == 8;

#define CVT_IN(mnem, reg)                                                       \
    __asm__ volatile(SSE_PRE "movdqu %[x], %%xmm0\n\t" mnem " %" reg "[g], %%xmm0\n\t" \
                     "movdqu %%xmm0, %[x]\n\t" SSE_POST                         \
                     : [x] "+m"(*x), [c] "+m"(csr), [h] "+m"(host)              \
                     : [g] "r"(g) : "xmm0")
#define CVT_OUT(mnem, reg)                                                      \
    __asm__ volatile(SSE_PRE "movdqu %[x], %%xmm0\n\t" mnem " %%xmm0, %" reg "[g]\n\t" \
                     SSE_POST                                                   \
                     : [g] "=r"(g), [c] "+m"(csr), [h] "+m"(host)               \
                     : [x] "m"(*x) : "xmm0")

    switch (which) {
    case CVT_SI2SS:
        if (q) CVT_IN("cvtsi2ssq", "q"); else CVT_IN("cvtsi2ssl", "k");
        break;
    case CVT_SI2SD:
        if (q) CVT_IN("cvtsi2sdq", "q"); else CVT_IN("cvtsi2sdl", "k");
        break;
    case CVT_SS2SI:
        if (q) CVT_OUT("cvtss2si", "q"); else CVT_OUT("cvtss2si", "k");
        break;
    case CVT_SD2SI:
        if (q) CVT_OUT("cvtsd2si", "q"); else CVT_OUT("cvtsd2si", "k");
        break;
    case CVT_TSS2SI:
        if (q) CVT_OUT("cvttss2si", "q"); else CVT_OUT("cvttss2si", "k");
        break;
    case CVT_TSD2SI:
        if (q) CVT_OUT("cvttsd2si", "q"); else CVT_OUT("cvttsd2si", "k");
        break;
    }
#undef CVT_IN
#undef CVT_OUT
    if (which >= CVT_SS2SI)
        *gpr = q ? g : (uint32_t)g;
    return csr & MXCSR_FLAGS;
}

uint32_t sse_comi(const fp_xmm *a, const fp_xmm *b, bool double_, bool ordered, uint32_t mxcsr, uint64_t *rflags)
{
    uint32_t csr = sse_host_csr(mxcsr), host = 0;
    uint8_t zf, pf, cf;

#define COMI(mnem)                                                              \
    __asm__ volatile(SSE_PRE "movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t"   \
                     mnem " %%xmm1, %%xmm0\n\tsetz %[z]\n\tsetp %[p]\n\tsetc %[cf]\n\t" \
                     SSE_POST                                                   \
                     : [z] "=q"(zf), [p] "=q"(pf), [cf] "=q"(cf), [c] "+m"(csr), \
                       [h] "+m"(host)                                           \
                     : [a] "m"(*a), [b] "m"(*b) : "xmm0", "xmm1", "cc")
    if (double_) {
        if (ordered) COMI("comisd"); else COMI("ucomisd");
    } else {
        if (ordered) COMI("comiss"); else COMI("ucomiss");
    }
#undef COMI
    uint64_t f = *rflags & ~(uint64_t)(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
    if (zf) f |= RFLAGS_ZF;
    if (pf) f |= RFLAGS_PF;
    if (cf) f |= RFLAGS_CF;
    *rflags = f;
    return csr & MXCSR_FLAGS;
}
