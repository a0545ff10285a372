/* FXSAVE / FXRSTOR images (SDM vol. 1, table 10-2 and 10-3). struct
 * cpu_fxsave already has the 64-bit layout; these functions add the
 * 32-bit layout (FIP/FDP as offsets with FCS/FDS selectors) and the number
 * of XMM registers of the mode. Bytes 288..511 (reserved and "available to
 * software": Linux keeps its XSAVE magic at 464) are never written. */
#include "accel/emu/fp.h"

#include <string.h>

uint32_t fp_mxcsr_mask(void)
{
    struct cpu_fxsave host;
    memset(&host, 0, sizeof(host));
    __asm__ volatile("fxsave64 %0" : "=m"(host));
    /* 0 means the original mask 0xFFBF (no DAZ). Bits above 15 (AMD's
     * misaligned-SSE mode) are not offered to the guest. */
    uint32_t m = host.mxcsr_mask ? host.mxcsr_mask : 0xffbfu;
    return m & 0xffffu;
}

void fxsave_store(const struct cpu_fxsave *fx, uint8_t out[512], bool rex_w, unsigned xmm_regs)
{
    uint8_t head[32];
    uint16_t fsw = fx->fsw;
    uint32_t mask = fp_mxcsr_mask();

    memset(head, 0, sizeof(head));
    memcpy(head + 0, &fx->fcw, 2);
    memcpy(head + 2, &fsw, 2);
    head[4] = fx->ftw;
    memcpy(head + 6, &fx->fop, 2);
    if (rex_w) {
        memcpy(head + 8, &fx->fip, 8);
        memcpy(head + 16, &fx->fdp, 8);
    } else {
        uint32_t ip = (uint32_t)fx->fip, dp = (uint32_t)fx->fdp;
        memcpy(head + 8, &ip, 4);   /* FCS at 12 and FDS at 20 stay 0 */
        memcpy(head + 16, &dp, 4);
    }
    memcpy(head + 24, &fx->mxcsr, 4);
    memcpy(head + 28, &mask, 4);
    memcpy(out, head, sizeof(head));
    memcpy(out + 32, fx->st, sizeof(fx->st));
    memcpy(out + 160, fx->xmm, 16 * (xmm_regs > 16 ? 16 : xmm_regs));
}

bool fxsave_image_valid(const uint8_t in[512])
{
    uint32_t mxcsr;
    memcpy(&mxcsr, in + 24, 4);
    return (mxcsr & ~fp_mxcsr_mask()) == 0;
}

void fxsave_load(struct cpu_fxsave *fx, const uint8_t in[512], bool rex_w, unsigned xmm_regs)
{
    memcpy(&fx->fcw, in + 0, 2);
    fx->fcw = x87_fcw_norm(fx->fcw);
    memcpy(&fx->fsw, in + 2, 2);
    fx->ftw = in[4];
    memcpy(&fx->fop, in + 6, 2);
    fx->fop &= 0x7ff;
    if (rex_w) {
        memcpy(&fx->fip, in + 8, 8);
        memcpy(&fx->fdp, in + 16, 8);
    } else {
        uint32_t ip, dp;
        memcpy(&ip, in + 8, 4);
        memcpy(&dp, in + 16, 4);
        fx->fip = ip;
        fx->fdp = dp;
    }
    memcpy(&fx->mxcsr, in + 24, 4);
    fx->mxcsr_mask = fp_mxcsr_mask();
    for (unsigned i = 0; i < 8; i++) {
        memset(fx->st[i], 0, 16);
        memcpy(fx->st[i], in + 32 + 16 * i, 10);
    }
    memcpy(fx->xmm, in + 160, 16 * (xmm_regs > 16 ? 16 : xmm_regs));
    x87_fix_es(fx);
}
