/* SSE/MMX data movement with an immediate or a mask result: shuffles,
 * byte shifts, MOVMSK. No floating-point semantics (no exceptions, NaNs
 * copied bit for bit), so plain C is exact. */
#include "accel/emu/fp.h"

#include <string.h>

void sse_shufps(fp_xmm *d, const fp_xmm *s, uint8_t imm)
{
    fp_xmm r;
    r.d[0] = d->d[imm & 3];
    r.d[1] = d->d[(imm >> 2) & 3];
    r.d[2] = s->d[(imm >> 4) & 3];
    r.d[3] = s->d[(imm >> 6) & 3];
    *d = r;
}

void sse_shufpd(fp_xmm *d, const fp_xmm *s, uint8_t imm)
{
    fp_xmm r;
    r.q[0] = d->q[imm & 1];
    r.q[1] = s->q[(imm >> 1) & 1];
    *d = r;
}

void sse_pshufd(fp_xmm *d, const fp_xmm *s, uint8_t imm)
{
    fp_xmm r;
    for (unsigned k = 0; k < 4; k++)
        r.d[k] = s->d[(imm >> (2 * k)) & 3];
    *d = r;
}

void sse_pshuflw(fp_xmm *d, const fp_xmm *s, uint8_t imm)
{
    fp_xmm r = *s;
    for (unsigned k = 0; k < 4; k++)
        r.w[k] = s->w[(imm >> (2 * k)) & 3];
    *d = r;
}

void sse_pshufhw(fp_xmm *d, const fp_xmm *s, uint8_t imm)
{
    fp_xmm r = *s;
    for (unsigned k = 0; k < 4; k++)
        r.w[4 + k] = s->w[4 + ((imm >> (2 * k)) & 3)];
    *d = r;
}

uint64_t mmx_pshufw(uint64_t s, uint8_t imm)
{
    uint64_t r = 0;
    for (unsigned k = 0; k < 4; k++)
        r |= ((s >> (16 * ((imm >> (2 * k)) & 3))) & 0xffff) << (16 * k);
    return r;
}

/* PSLLDQ/PSRLDQ: counts above 15 clear the register. */
void sse_pslldq(fp_xmm *d, uint8_t imm)
{
    fp_xmm r;
    memset(&r, 0, sizeof(r));
    if (imm < 16)
        memcpy(r.b + imm, d->b, 16 - imm);
    *d = r;
}

void sse_psrldq(fp_xmm *d, uint8_t imm)
{
    fp_xmm r;
    memset(&r, 0, sizeof(r));
    if (imm < 16)
        memcpy(r.b, d->b + imm, 16 - imm);
    *d = r;
}

unsigned sse_pmovmskb(const fp_xmm *s, unsigned bytes)
{
    unsigned m = 0;
    for (unsigned k = 0; k < bytes && k < 16; k++)
        m |= (unsigned)(s->b[k] >> 7) << k;
    return m;
}

unsigned sse_movmskps(const fp_xmm *s)
{
    unsigned m = 0;
    for (unsigned k = 0; k < 4; k++)
        m |= (s->d[k] >> 31) << k;
    return m;
}

unsigned sse_movmskpd(const fp_xmm *s)
{
    return (unsigned)((s->q[0] >> 63) | ((s->q[1] >> 63) << 1));
}
