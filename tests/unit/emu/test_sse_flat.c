/* Programs run through emu_flat_run with asserted results.
 * Generated from assembly (the source is in each comment); the expected
 * values follow the Intel SDM. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/emu.h"
#include "flat_util.h"
#include "util/log.h"

#define RF(bit) ((f->st.rflags & (bit)) != 0)

/* movaps xmm0, [0x408100]; addps xmm0, [0x408110]; int3 */
static void test_sse_addps(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x28, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x58, 0x04, 0x25, 0x10, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { float _v[] = { 1.0f, 2.0f, -1.0f, 0.25f }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { float _v[] = { 0.5f, 0.25f, 1.0f, 2.0f }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 0, 4); _v; }), 0x3fc00000); /* 1.5 */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 1, 4); _v; }), 0x40100000); /* 2.25 */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 2, 4); _v; }), 0); /* +0 */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 3, 4); _v; }), 0x40100000); /* 2.25 */
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0);
}

/* movsd xmm1, [0x408100]; divsd xmm1, [0x408108]; int3 */
static void test_sse_divsd_third(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x0c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x5e, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { 1.0, 3.0 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0x3fd5555555555555ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 1, 8); _v; }), 0);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x20); /* PE */
}

/* ldmxcsr [0x408110]; movsd xmm1, [0x408100]; divsd xmm1, [0x408108]; int3 */
static void test_sse_divsd_round_up(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x10, 0x0c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x5e, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { 1.0, 3.0 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint32_t _v[] = { 0x5f80 }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0x3fd5555555555556ull);
}

/* movss xmm0, [0x408100]; xorps xmm1, xmm1; divss xmm0, xmm1; int3 */
static void test_sse_divss_zero_masked(struct flat *f)
{
    static const uint8_t code[] = { 0xf3, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x57, 0xc9, 0xf3, 0x0f, 0x5e, 0xc1, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { float _v[] = { 1.0f }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 0, 4); _v; }), 0x7f800000);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x04); /* ZE */
}

/* ldmxcsr [0x408110]; movss xmm0, [0x408100]; xorps xmm1, xmm1; divss xmm0, xmm1; int3 */
static void test_sse_divss_zero_unmasked(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x57, 0xc9, 0xf3, 0x0f, 0x5e, 0xc1, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { float _v[] = { 1.0f }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint32_t _v[] = { 0x1d80 }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 19); /* #XM */
    CHECK_EQ(f->st.rip, FLAT_BASE + 20);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 0, 4); _v; }), 0x3f800000); /* unchanged */
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x04);
}

/* movsd xmm0, [0x408100]; sqrtsd xmm0, xmm0; int3 */
static void test_sse_sqrtsd_neg(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x51, 0xc0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { -1.0 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 0, 8); _v; }), 0xfff8000000000000ull);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x01);
}

/* movsd xmm0, [0x408100]; movsd xmm1, [0x408108]; minsd xmm0, xmm1; movsd xmm2, [0x408108]; minsd xmm2, [0x408100]; int3 */
static void test_sse_minsd_nan(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x10, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x5d, 0xc1, 0xf2, 0x0f, 0x10, 0x14, 0x25, 0x08, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x5d, 0x14, 0x25, 0x00, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x7ff8000000000001ull, 0x4000000000000000ull }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 0, 8); _v; }), 0x4000000000000000ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }), 0x7ff8000000000001ull);
}

/* movsd xmm0, [0x408100]; cvttsd2si eax, xmm0; cvttsd2si rbx, xmm0; movsd xmm1, [0x408108]; cvtsd2si ecx, xmm1; int3 */
static void test_sse_cvt_indefinite(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x2c, 0xc0, 0xf2, 0x48, 0x0f, 0x2c, 0xd8, 0xf2, 0x0f, 0x10, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x2d, 0xc9, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { 1e10, __builtin_nan("") }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x80000000u);
    CHECK_EQ(f->st.regs[GPR_RBX], 10000000000ull);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x80000000u);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x01);
}

/* movsd xmm0, [0x408100]; cvtsd2si eax, xmm0; cvttsd2si ebx, xmm0; movsd xmm1, [0x408108]; cvtsd2si rcx, xmm1; cvtss2si edx, [0x408110]; int3 */
static void test_sse_cvt_round(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf2, 0x0f, 0x2d, 0xc0, 0xf2, 0x0f, 0x2c, 0xd8, 0xf2, 0x0f, 0x10, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0xf2, 0x48, 0x0f, 0x2d, 0xc9, 0xf3, 0x0f, 0x2d, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { 2.5, -3.5 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { float _v[] = { -0.5f }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 2);
    CHECK_EQ(f->st.regs[GPR_RBX], 2);
    CHECK_EQ(f->st.regs[GPR_RCX], (uint64_t)-4);
    CHECK_EQ(f->st.regs[GPR_RDX], 0);
}

/* mov rax, 0x7fffffffffffffff; cvtsi2sd xmm0, rax; mov eax, -7; cvtsi2ss xmm1, eax; int3 */
static void test_sse_cvtsi2sd(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xf2, 0x48, 0x0f, 0x2a, 0xc0, 0xb8, 0xf9, 0xff, 0xff, 0xff, 0xf3, 0x0f, 0x2a, 0xc8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 0, 8); _v; }), 0x43e0000000000000ull); /* 2^63 */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[1] + 4 * 0, 4); _v; }), 0xc0e00000); /* -7.0f */
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x20);
}

/* cvtps2pd xmm0, [0x408100]; cvtpd2ps xmm1, xmm0; cvtdq2ps xmm2, [0x408110]; int3 */
static void test_sse_cvtps2pd(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x5a, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x5a, 0xc8, 0x0f, 0x5b, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { float _v[] = { 1.5f, -2.0f }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { int32_t _v[] = { 1, -2, 16777217, 0 }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 0, 8); _v; }), 0x3ff8000000000000ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 1, 8); _v; }), 0xc000000000000000ull);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[1] + 4 * 0, 4); _v; }), 0x3fc00000);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 1, 8); _v; }), 0);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[2] + 4 * 2, 4); _v; }), 0x4b800000); /* 16777217 -> 2^24 */
}

/* movsd xmm0, [0x408100]; comisd xmm0, [0x408108]; setb al; setz bl; setp cl; ucomisd xmm0, [0x408110]; setp dl; int3 */
static void test_sse_comisd(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x2f, 0x04, 0x25, 0x08, 0x81, 0x40, 0x00, 0x0f, 0x92, 0xc0, 0x0f, 0x94, 0xc3, 0x0f, 0x9a, 0xc1, 0x66, 0x0f, 0x2e, 0x04, 0x25, 0x10, 0x81, 0x40, 0x00, 0x0f, 0x9a, 0xc2, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { 1.0, 2.0, __builtin_nan("") }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0);
    CHECK_EQ(f->st.regs[GPR_RCX] & 0xff, 0);
    CHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 1);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0); /* UCOMISD: QNaN is quiet */
}

/* movsd xmm0, [0x408100]; comisd xmm0, xmm0; int3 */
static void test_sse_comisd_nan(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x2f, 0xc0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { double _v[] = { __builtin_nan("") }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK(RF(RFLAGS_ZF) && RF(RFLAGS_PF) && RF(RFLAGS_CF));
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0x01); /* COMISD: QNaN signals */
}

/* movaps xmm0, [0x408100]; cmpltps xmm0, [0x408110]; movaps xmm1, [0x408100]; cmpunordps xmm1, [0x408110]; int3 */
static void test_sse_cmpps(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x28, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0xc2, 0x04, 0x25, 0x10, 0x81, 0x40, 0x00, 0x01, 0x0f, 0x28, 0x0c, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0xc2, 0x0c, 0x25, 0x10, 0x81, 0x40, 0x00, 0x03, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { float _v[] = { 1.0f, 2.0f, __builtin_nanf(""), -0.0f }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { float _v[] = { 2.0f, 1.0f, 1.0f, 0.0f }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 0, 4); _v; }), 0xffffffffu);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 1, 4); _v; }), 0);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 2, 4); _v; }), 0);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 3, 4); _v; }), 0); /* -0 < +0 is false */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 1, 8); _v; }), 0xffffffffull); /* lane 2 unordered, lane 3 not */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0);
}

/* movups xmm0, [0x408104]; movaps xmm1, [0x408104]; int3 */
static void test_sse_movaps_misaligned(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x10, 0x04, 0x25, 0x04, 0x81, 0x40, 0x00, 0x0f, 0x28, 0x0c, 0x25, 0x04, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
    CHECK_EQ(f->st.rip, FLAT_BASE + 8);
}

/* addps xmm1, [0x408104]; int3 */
static void test_sse_addps_misaligned(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x58, 0x0c, 0x25, 0x04, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* addss xmm1, [0x408104]; int3 */
static void test_sse_addss_unaligned(struct flat *f)
{
    static const uint8_t code[] = { 0xf3, 0x0f, 0x58, 0x0c, 0x25, 0x04, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
}

/* mov rdi, 0x408100; pxor xmm0, xmm0; L: movdqu xmm1, [rdi]; pcmpeqb xmm1, xmm0; pmovmskb eax, xmm1; add rdi, 16; test eax, eax; jz L; bsf eax, eax; lea rax, [rdi + rax - 16 - 0x408100]; int3 */
static void test_sse_strlen(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0xef, 0xc0, 0xf3, 0x0f, 0x6f, 0x0f, 0x66, 0x0f, 0x74, 0xc8, 0x66, 0x0f, 0xd7, 0xc1, 0x48, 0x83, 0xc7, 0x10, 0x85, 0xc0, 0x74, 0xec, 0x0f, 0xbc, 0xc0, 0x48, 0x8d, 0x84, 0x07, 0xf0, 0x7e, 0xbf, 0xff, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    memcpy(f->mem + 0x8100, "the quick brown fox jumps", 26);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 25);
}

/* movdqa xmm0, [0x408100]; movdqa xmm1, xmm0; paddusb xmm1, [0x408110]; movdqa xmm2, xmm0; psubsw xmm2, [0x408110]; movdqa xmm3, xmm0; pmaddwd xmm3, [0x408110]; movdqa xmm4, xmm0; psadbw xmm4, [0x408110]; int3 */
static void test_sse_int_ops(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0xc8, 0x66, 0x0f, 0xdc, 0x0c, 0x25, 0x10, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0xd0, 0x66, 0x0f, 0xe9, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0xd8, 0x66, 0x0f, 0xf5, 0x1c, 0x25, 0x10, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0xe0, 0x66, 0x0f, 0xf6, 0x24, 0x25, 0x10, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint16_t _v[] = { 0xfff0, 0x8000, 3, 4, 5, 6, 7, 0x7fff }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint16_t _v[] = { 0x0020, 1, 2, 3, 1, 1, 1, 0xffff }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* paddusb: f0+20 -> ff, ff+00 -> ff, 00+01 -> 01, 80+00 -> 80 */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }) & 0xffffffff, 0x8001ffff);
    /* psubsw: 0x8000 - 1 saturates at 0x8000; 0x7fff - (-1) at 0x7fff */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }) >> 16 & 0xffff, 0x8000);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 1, 8); _v; }) >> 48, 0x7fff);
    /* pmaddwd: (-16)*32 + (-32768)*1 = -33280 */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 0, 8); _v; }) & 0xffffffff, (uint32_t)-33280);
}

/* movdqa xmm0, [0x408100]; packuswb xmm0, xmm0; movdqa xmm1, [0x408100]; packsswb xmm1, xmm1; movq xmm2, [0x408110]; punpcklbw xmm2, xmm2; int3 */
static void test_sse_pack_unpack(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x67, 0xc0, 0x66, 0x0f, 0x6f, 0x0c, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x63, 0xc9, 0xf3, 0x0f, 0x7e, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x60, 0xd2, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { int16_t _v[] = { -5, 300, 128, 127, 0, 1, -200, 255 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint8_t _v[] = { 1, 2, 3, 4, 5, 6, 7, 8 }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* packuswb: -5->0, 300->ff, 128->80, 127->7f, 0, 1, -200->0, 255->ff */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 0, 8); _v; }), 0xff0001007f80ff00ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[0] + 8 * 1, 8); _v; }), 0xff0001007f80ff00ull);
    /* packsswb: -5->fb, 300->7f, 128->7f, 127->7f, 0, 1, -200->80, 255->7f */
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0x7f8001007f7f7ffbull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }), 0x0404030302020101ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 1, 8); _v; }), 0x0808070706060505ull);
}

/* movdqa xmm0, [0x408100]; movdqa xmm1, xmm0; psrlw xmm1, 4; movdqa xmm2, xmm0; psraw xmm2, 20; movdqa xmm3, xmm0; psllq xmm3, 64; movdqa xmm4, xmm0; psrldq xmm4, 3; movdqa xmm5, xmm0; pslldq xmm5, 15; movdqa xmm6, xmm0; psrld xmm6, [0x408110]; int3 */
static void test_sse_shifts(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0xc8, 0x66, 0x0f, 0x71, 0xd1, 0x04, 0x66, 0x0f, 0x6f, 0xd0, 0x66, 0x0f, 0x71, 0xe2, 0x14, 0x66, 0x0f, 0x6f, 0xd8, 0x66, 0x0f, 0x73, 0xf3, 0x40, 0x66, 0x0f, 0x6f, 0xe0, 0x66, 0x0f, 0x73, 0xdc, 0x03, 0x66, 0x0f, 0x6f, 0xe8, 0x66, 0x0f, 0x73, 0xfd, 0x0f, 0x66, 0x0f, 0x6f, 0xf0, 0x66, 0x0f, 0xd2, 0x34, 0x25, 0x10, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x8001800180018001ull, 0x1122334455667788ull }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint64_t _v[] = { 1, 0xffffffffffffffffull }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0x0800080008000800ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }), 0xffffffffffffffffull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 0, 8); _v; }), 0);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 1, 8); _v; }), 0);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[4] + 8 * 0, 8); _v; }), 0x6677888001800180ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[4] + 8 * 1, 8); _v; }), 0x0000001122334455ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[5] + 8 * 1, 8); _v; }), 0x0100000000000000ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[5] + 8 * 0, 8); _v; }), 0);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[6] + 8 * 0, 8); _v; }), 0x4000c0004000c000ull);
}

/* movdqa xmm0, [0x408100]; pshufd xmm1, xmm0, 0x1b; movaps xmm2, xmm0; shufps xmm2, xmm0, 0x4e; pshuflw xmm3, xmm0, 0x00; pextrw eax, xmm0, 5; mov ebx, 0xbeef; pinsrw xmm0, ebx, 7; movmskps ecx, xmm0; int3 */
static void test_sse_shuffles(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x70, 0xc8, 0x1b, 0x0f, 0x28, 0xd0, 0x0f, 0xc6, 0xd0, 0x4e, 0xf2, 0x0f, 0x70, 0xd8, 0x00, 0x66, 0x0f, 0xc5, 0xc0, 0x05, 0xbb, 0xef, 0xbe, 0x00, 0x00, 0x66, 0x0f, 0xc4, 0xc3, 0x07, 0x0f, 0x50, 0xc8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint32_t _v[] = { 0x00010000, 0x80020001, 0x00030002, 0x00040003 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 0, 8); _v; }), 0x0003000200040003ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 1, 8); _v; }), 0x0001000080020001ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }), 0x0004000300030002ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 0, 8); _v; }), 0x0000000000000000ull);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x0003);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 3, 4); _v; }), 0xbeef0003ull);
    CHECK_EQ(f->st.regs[GPR_RCX], 0xa);
}

/* movsd xmm0, [0x408100]; movhps xmm0, [0x408108]; movlps [0x408000], xmm0; movhpd [0x408008], xmm0; movq xmm1, xmm0; movd ecx, xmm0; movq rdx, xmm0; mov eax, -1; movd xmm2, eax; movhlps xmm3, xmm0; movlhps xmm3, xmm0; movss xmm4, [0x408100]; movss xmm4, xmm2; int3 */
static void test_sse_moves(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x16, 0x04, 0x25, 0x08, 0x81, 0x40, 0x00, 0x0f, 0x13, 0x04, 0x25, 0x00, 0x80, 0x40, 0x00, 0x66, 0x0f, 0x17, 0x04, 0x25, 0x08, 0x80, 0x40, 0x00, 0xf3, 0x0f, 0x7e, 0xc8, 0x66, 0x0f, 0x7e, 0xc1, 0x66, 0x48, 0x0f, 0x7e, 0xc2, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x66, 0x0f, 0x6e, 0xd0, 0x0f, 0x12, 0xd8, 0x0f, 0x16, 0xd8, 0xf3, 0x0f, 0x10, 0x24, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x10, 0xe2, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x1111111122222222ull, 0x3333333344444444ull }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x1111111122222222ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 8); _v; }), 0x3333333344444444ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[1] + 8 * 1, 8); _v; }), 0);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x22222222);
    CHECK_EQ(f->st.regs[GPR_RDX], 0x1111111122222222ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 0, 8); _v; }), 0xffffffffull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[2] + 8 * 1, 8); _v; }), 0);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 0, 8); _v; }), 0x3333333344444444ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 1, 8); _v; }), 0x1111111122222222ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[4] + 8 * 0, 8); _v; }), 0xffffffffull); /* MOVSS load zeroed the rest, reg-reg merges */
}

/* ldmxcsr [0x408110]; movss xmm0, [0x408100]; mulss xmm0, xmm0; stmxcsr [0x408000]; ldmxcsr [0x408114]; movss xmm1, [0x408104]; addss xmm1, xmm1; int3 */
static void test_sse_ftz_daz(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x10, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x10, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x59, 0xc0, 0x0f, 0xae, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0x0f, 0xae, 0x14, 0x25, 0x14, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x10, 0x0c, 0x25, 0x04, 0x81, 0x40, 0x00, 0xf3, 0x0f, 0x58, 0xc9, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint32_t _v[] = { 0x1f800000, 0x00000001 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint32_t _v[] = { 0x9f80, 0x1fc0 }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[0] + 4 * 0, 4); _v; }), 0);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }) & 0x3f, 0x30); /* UE|PE */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[1] + 4 * 0, 4); _v; }), 0);
    CHECK_EQ(f->st.fx.mxcsr & 0x3f, 0); /* DAZ: no DE */
}

/* ldmxcsr [0x408100]; int3 */
static void test_sse_ldmxcsr_reserved(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xae, 0x14, 0x25, 0x00, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint32_t _v[] = { 0x10000 }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* movq mm0, [0x408100]; movq mm1, mm0; pcmpeqb mm1, [0x408108]; pshufw mm2, mm0, 0x1b; pmovmskb eax, mm1; movd ebx, mm2; movq2dq xmm3, mm0; movq [0x408000], mm1; emms; int3 */
static void test_sse_mmx_ops(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x6f, 0xc8, 0x0f, 0x74, 0x0c, 0x25, 0x08, 0x81, 0x40, 0x00, 0x0f, 0x70, 0xd0, 0x1b, 0x0f, 0xd7, 0xc1, 0x0f, 0x7e, 0xd3, 0xf3, 0x0f, 0xd6, 0xd8, 0x0f, 0x7f, 0x0c, 0x25, 0x00, 0x80, 0x40, 0x00, 0x0f, 0x77, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x0004000300020001ull, 0x0004ff0300020001ull }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xffff00ffffffffffull);
    CHECK_EQ(f->st.regs[GPR_RAX], 0xdf);
    CHECK_EQ(f->st.regs[GPR_RBX], 0x00030004);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[3] + 8 * 0, 8); _v; }), 0x0004000300020001ull);
    CHECK_EQ(f->st.fx.ftw, 0);
}

/* movdqa xmm15, [0x408300]; fxsave64 [0x408000]; pxor xmm15, xmm15; fxrstor64 [0x408000]; int3 */
static void test_sse_fxsave_xmm(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0x44, 0x0f, 0x6f, 0x3c, 0x25, 0x00, 0x83, 0x40, 0x00, 0x48, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x80, 0x40, 0x00, 0x66, 0x45, 0x0f, 0xef, 0xff, 0x48, 0x0f, 0xae, 0x0c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x0123456789abcdefull, 0xfedcba9876543210ull }; memcpy(f->mem + 0x8000 + 768, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 400, 8); _v; }), 0x0123456789abcdefull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 408, 8); _v; }), 0xfedcba9876543210ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[15] + 8 * 0, 8); _v; }), 0x0123456789abcdefull);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 28, 4); _v; }), 0xffff);
}

/* mov rdi, 0x408000; movdqa xmm0, [0x408100]; movdqa xmm1, [0x408110]; maskmovdqu xmm0, xmm1; int3 */
static void test_sse_maskmovdqu(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x66, 0x0f, 0x6f, 0x0c, 0x25, 0x10, 0x81, 0x40, 0x00, 0x66, 0x0f, 0xf7, 0xc1, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    { uint64_t _v[] = { 0x1122334455667788ull, 0x99aabbccddeeff00ull }; memcpy(f->mem + 0x8000 + 256, _v, sizeof(_v)); }
    { uint64_t _v[] = { 0x80000000000000ffull, 0x0080000000000000ull }; memcpy(f->mem + 0x8000 + 272, _v, sizeof(_v)); }
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x1100000000000088ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 8); _v; }), 0x00aa000000000000ull);
}

int main(void)
{
    struct flat *f = calloc(1, sizeof(*f));
    test_sse_addps(f);
    test_sse_divsd_third(f);
    test_sse_divsd_round_up(f);
    test_sse_divss_zero_masked(f);
    test_sse_divss_zero_unmasked(f);
    test_sse_sqrtsd_neg(f);
    test_sse_minsd_nan(f);
    test_sse_cvt_indefinite(f);
    test_sse_cvt_round(f);
    test_sse_cvtsi2sd(f);
    test_sse_cvtps2pd(f);
    test_sse_comisd(f);
    test_sse_comisd_nan(f);
    test_sse_cmpps(f);
    test_sse_movaps_misaligned(f);
    test_sse_addps_misaligned(f);
    test_sse_addss_unaligned(f);
    test_sse_strlen(f);
    test_sse_int_ops(f);
    test_sse_pack_unpack(f);
    test_sse_shifts(f);
    test_sse_shuffles(f);
    test_sse_moves(f);
    test_sse_ftz_daz(f);
    test_sse_ldmxcsr_reserved(f);
    test_sse_mmx_ops(f);
    test_sse_fxsave_xmm(f);
    test_sse_maskmovdqu(f);
    if (test_failures)
        fprintf(stderr, "last error: %s\n", err_get());
    free(f);
    TEST_MAIN_END();
}
