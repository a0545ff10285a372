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

/* fld1; fld1; faddp; fstp qword ptr [0x408000]; int3 */
static void test_x87_add_store(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xe8, 0xde, 0xc1, 0xdd, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x4000000000000000ull);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
    CHECK_EQ(f->st.fx.ftw, 0);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 0);
}

/* fldcw word ptr [0x408100]; fld1; fidiv dword ptr [0x408104]; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_third_pc24(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xda, 0x34, 0x25, 0x04, 0x81, 0x40, 0x00, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x7f; uint32_t three = 3; memcpy(f->mem + 0x8100, &cw, 2); memcpy(f->mem + 0x8104, &three, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xaaaaab0000000000ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0x3ffd);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 0x20); /* PE */
}

/* fldcw word ptr [0x408100]; fld1; fidiv dword ptr [0x408104]; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_third_pc53(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xda, 0x34, 0x25, 0x04, 0x81, 0x40, 0x00, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x27f; uint32_t three = 3; memcpy(f->mem + 0x8100, &cw, 2); memcpy(f->mem + 0x8104, &three, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xaaaaaaaaaaaaa800ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0x3ffd);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 0x20); /* PE */
}

/* fldcw word ptr [0x408100]; fld1; fidiv dword ptr [0x408104]; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_third_pc64(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xda, 0x34, 0x25, 0x04, 0x81, 0x40, 0x00, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x37f; uint32_t three = 3; memcpy(f->mem + 0x8100, &cw, 2); memcpy(f->mem + 0x8104, &three, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xaaaaaaaaaaaaaaabull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0x3ffd);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 0x20); /* PE */
}

/* fldcw word ptr [0x408100]; fld1; fidiv dword ptr [0x408104]; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_third_pc64_down(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xda, 0x34, 0x25, 0x04, 0x81, 0x40, 0x00, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x77f; uint32_t three = 3; memcpy(f->mem + 0x8100, &cw, 2); memcpy(f->mem + 0x8104, &three, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xaaaaaaaaaaaaaaaaull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0x3ffd);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 0x20); /* PE */
}

/* fldpi; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_fldpi(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xeb, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xc90fdaa22168c235ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0x4000);
}

/* fadd st(0), st(1); fstp tbyte ptr [0x408000]; int3 */
static void test_x87_underflow(struct flat *f)
{
    static const uint8_t code[] = { 0xd8, 0xc1, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xc000000000000000ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0xffff);
    CHECK_EQ(f->st.fx.fsw & 0x2ff, 0x41);
}

/* fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1; fldz; fnstsw ax; fstp tbyte ptr [0x408000]; int3 */
static void test_x87_overflow(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xee, 0xdf, 0xe0, 0xdb, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xc000000000000000ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 2); _v; }), 0xffff);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x3ac1, 0x3a41); /* TOP 7, C1, SF, IE */
    CHECK_EQ(f->st.fx.ftw, 0x7f);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
}

/* fld1; fld qword ptr [0x408100]; fcom st(1); fnstsw ax; fcompp; int3 */
static void test_x87_fcom_gt(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd8, 0xd1, 0xdf, 0xe0, 0xde, 0xd9, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    double two = 2.0; memcpy(f->mem + 0x8100, &two, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x3800, 6 << 11);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
    CHECK_EQ(f->st.fx.ftw, 0);
}

/* fld qword ptr [0x408100]; fld1; fcomp st(1); fnstsw ax; int3 */
static void test_x87_fcom_lt(struct flat *f)
{
    static const uint8_t code[] = { 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xd8, 0xd9, 0xdf, 0xe0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    double two = 2.0; memcpy(f->mem + 0x8100, &two, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x0100);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 7);
}

/* fld1; fld1; fcompp; fnstsw ax; int3 */
static void test_x87_fcom_eq(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xe8, 0xde, 0xd9, 0xdf, 0xe0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4000);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
}

/* fld qword ptr [0x408100]; fld1; fcompp; fnstsw ax; int3 */
static void test_x87_fcom_nan(struct flat *f)
{
    static const uint8_t code[] = { 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xde, 0xd9, 0xdf, 0xe0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint64_t qnan = 0x7ff8000000000000ull; memcpy(f->mem + 0x8100, &qnan, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4500);
    CHECK_EQ(f->st.fx.fsw & 1, 1); /* FCOM: IE on QNaN */
}

/* fld qword ptr [0x408100]; fld1; fucompp; fnstsw ax; int3 */
static void test_x87_fucom_nan(struct flat *f)
{
    static const uint8_t code[] = { 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xda, 0xe9, 0xdf, 0xe0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint64_t qnan = 0x7ff8000000000000ull; memcpy(f->mem + 0x8100, &qnan, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4500);
    CHECK_EQ(f->st.fx.fsw & 1, 0); /* FUCOM: no IE on QNaN */
}

/* fld1; fldz; fcomi st(0), st(1); setb al; setz bl; fucomip st(0), st(1); fstp st(0); int3 */
static void test_x87_fcomi(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xee, 0xdb, 0xf1, 0x0f, 0x92, 0xc0, 0x0f, 0x94, 0xc3, 0xdf, 0xe9, 0xdd, 0xd8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
    CHECK_EQ(f->st.fx.ftw, 0);
}

/* fld1; fldz; stc; fcmovb st(0), st(1); fstp qword ptr [0x408000]; clc; fldz; fcmovb st(0), st(1); fstp qword ptr [0x408008]; fstp st(0); int3 */
static void test_x87_fcmov(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xee, 0xf9, 0xda, 0xc1, 0xdd, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xf8, 0xd9, 0xee, 0xda, 0xc1, 0xdd, 0x1c, 0x25, 0x08, 0x80, 0x40, 0x00, 0xdd, 0xd8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x3ff0000000000000ull);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 8); _v; }), 0);
}

/* fld qword ptr [0x408100]; fistp dword ptr [0x408000]; int3 */
static void test_x87_fist_overflow(struct flat *f)
{
    static const uint8_t code[] = { 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xdb, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    double big = 1e10; memcpy(f->mem + 0x8100, &big, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }), 0x80000000u);
    CHECK_EQ(f->st.fx.fsw & 0x3f, 1);
}

/* fld qword ptr [0x408100]; fisttp dword ptr [0x408000]; fld qword ptr [0x408108]; fisttp word ptr [0x408004]; fld qword ptr [0x408100]; fistp dword ptr [0x408008]; int3 */
static void test_x87_fisttp(struct flat *f)
{
    static const uint8_t code[] = { 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xdb, 0x0c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xdd, 0x04, 0x25, 0x08, 0x81, 0x40, 0x00, 0xdf, 0x0c, 0x25, 0x04, 0x80, 0x40, 0x00, 0xdd, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xdb, 0x1c, 0x25, 0x08, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    double a = 2.7, b = -2.7; memcpy(f->mem + 0x8100, &a, 8); memcpy(f->mem + 0x8108, &b, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }), 2);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 4, 2); _v; }), 0xfffe);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 4); _v; }), 3);
}

/* fild dword ptr [0x408100]; fbstp tbyte ptr [0x408000]; int3 */
static void test_x87_fbstp(struct flat *f)
{
    static const uint8_t code[] = { 0xdb, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xdf, 0x34, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    int32_t v = -12345; memcpy(f->mem + 0x8100, &v, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x12345);
    CHECK_EQ(f->mem[0x8009], 0x80);
}

/* fxam; fnstsw ax; int3 */
static void test_x87_fxam_empty(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe5, 0xdf, 0xe0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4100);
}

/* fld1; fchs; fsqrt; fstp qword ptr [0x408000]; int3 */
static void test_x87_fsqrt_neg(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xe0, 0xd9, 0xfa, 0xdd, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0xfff8000000000000ull);
    CHECK_EQ(f->st.fx.fsw & 1, 1);
}

/* fild dword ptr [0x408104]; fild dword ptr [0x408100]; fprem; fnstsw ax; fistp dword ptr [0x408000]; fstp st(0); int3 */
static void test_x87_fprem(struct flat *f)
{
    static const uint8_t code[] = { 0xdb, 0x04, 0x25, 0x04, 0x81, 0x40, 0x00, 0xdb, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xf8, 0xdf, 0xe0, 0xdb, 0x1c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xdd, 0xd8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    int32_t a = 17, b = 5; memcpy(f->mem + 0x8100, &a, 4); memcpy(f->mem + 0x8104, &b, 4);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }), 2);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x4700, 0x4200);
}

/* fld1; fnstenv [0x408000]; fnstcw word ptr [0x408020]; int3 */
static void test_x87_fnstenv(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0x34, 0x25, 0x00, 0x80, 0x40, 0x00, 0xd9, 0x3c, 0x25, 0x20, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }), 0xffff037f);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 4, 4); _v; }), 0xffff0000u | (7u << 11));
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 4); _v; }), 0xffff3fff); /* ST0 (phys 7) valid, rest empty */
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 12, 4); _v; }), (uint32_t)FLAT_BASE);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 16, 4); _v; }) >> 16, 0x1e8); /* FOP of D9 E8 */
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 32, 2); _v; }), 0x37f | 0x3f);
}

/* fldenv [0x408000]; fnop; int3 */
static void test_x87_fldenv_pending(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x24, 0x25, 0x00, 0x80, 0x40, 0x00, 0xd9, 0xd0, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint32_t env[7] = { 0xffff037b, 0xffff0004, 0xffffffff, 0, 0, 0, 0xffff0000 }; memcpy(f->mem + 0x8000, env, sizeof(env));
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 16); /* #MF at FNOP */
    CHECK_EQ(f->st.rip, FLAT_BASE + 7);
    CHECK_EQ(f->st.fx.fsw & 0x8080, 0x8080);
}

/* fldcw word ptr [0x408100]; fld1; fldz; fdivp st(1), st(0); fld1; int3 */
static void test_x87_unmasked_zerodiv(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0xe8, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x37b; memcpy(f->mem + 0x8100, &cw, 2);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 16);
    CHECK_EQ(f->st.rip, FLAT_BASE + 13);
    CHECK_EQ(f->st.fx.fsw & 0x80bf, 0x8084);
}

/* fldcw word ptr [0x408100]; fld1; fldz; fdivp st(1), st(0); fnclex; fld1; fninit; int3 */
static void test_x87_fnclex_fninit(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xdb, 0xe2, 0xd9, 0xe8, 0xdb, 0xe3, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0x37b; memcpy(f->mem + 0x8100, &cw, 2);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.fx.fsw, 0);
    CHECK_EQ(f->st.fx.fcw, 0x37f);
    CHECK_EQ(f->st.fx.ftw, 0);
}

/* fld1; fldpi; fnsave [0x408000]; fld1; frstor [0x408000]; fstp tbyte ptr [0x408100]; int3 */
static void test_x87_fsave_frstor(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xeb, 0xdd, 0x34, 0x25, 0x00, 0x80, 0x40, 0x00, 0xd9, 0xe8, 0xdd, 0x24, 0x25, 0x00, 0x80, 0x40, 0x00, 0xdb, 0x3c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 256, 8); _v; }), 0xc90fdaa22168c235ull);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 4); _v; }), 0xffff037f);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 7);
    CHECK_EQ(f->st.fx.ftw, 0x80);
}

/* fldcw word ptr [0x408100]; fnstcw word ptr [0x408000]; int3 */
static void test_x87_fldcw_reserved(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0x2c, 0x25, 0x00, 0x81, 0x40, 0x00, 0xd9, 0x3c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint16_t cw = 0xffff; memcpy(f->mem + 0x8100, &cw, 2);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 2); _v; }), 0x1f7f);
}

/* fld1; fxsave64 [0x408000]; fxrstor64 [0x408000]; fldz; fxsave [0x408200]; int3 */
static void test_x87_fxsave(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0x48, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x80, 0x40, 0x00, 0x48, 0x0f, 0xae, 0x0c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xd9, 0xee, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x82, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 2); _v; }), 0x37f);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 2, 2); _v; }), 7u << 11);
    CHECK_EQ(f->mem[0x8004], 0x80);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 6, 2); _v; }), 0x1e8);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 8, 8); _v; }), FLAT_BASE);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 24, 4); _v; }), 0x1f80);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 32, 8); _v; }), 0x8000000000000000ull);
    CHECK_EQ(({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + 40, 2); _v; }), 0x3fff);
    CHECK_EQ(f->mem[0x8204], 0xc0);
    CHECK_EQ(({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + 520, 4); _v; }), (uint32_t)FLAT_BASE + 20);
}

/* fxsave [0x408008]; int3 */
static void test_x87_fxsave_misaligned(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xae, 0x04, 0x25, 0x08, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

/* fld1; movq mm1, qword ptr [0x408100]; paddb mm1, mm1; movq qword ptr [0x408000], mm1; int3 */
static void test_x87_mmx_aliasing(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xe8, 0x0f, 0x6f, 0x0c, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0xfc, 0xc9, 0x0f, 0x7f, 0x0c, 0x25, 0x00, 0x80, 0x40, 0x00, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    uint64_t v = 0x0102030405060708ull; memcpy(f->mem + 0x8100, &v, 8);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + 0, 8); _v; }), 0x020406080a0c0e10ull);
    CHECK_EQ(((f->st.fx.fsw >> 11) & 7), 0);
    CHECK_EQ(f->st.fx.ftw, 0xff);
    CHECK_EQ(f->st.fx.st[1][8], 0xff);
    CHECK_EQ(f->st.fx.st[1][9], 0xff);
    /* fld1 went to physical 7, which stays ST7 after TOP=0 */
    CHECK_EQ(f->st.fx.st[7][9], 0x3f);
}

/* movq mm0, qword ptr [0x408100]; emms; int3 */
static void test_x87_emms(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x6f, 0x04, 0x25, 0x00, 0x81, 0x40, 0x00, 0x0f, 0x77, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.fx.ftw, 0);
}

/* .byte 0xd9, 0xd1; int3 */
static void test_x87_undefined(struct flat *f)
{
    static const uint8_t code[] = { 0xd9, 0xd1, 0xcc };
    flat_init(f);
    f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 6);
}

int main(void)
{
    struct flat *f = calloc(1, sizeof(*f));
    test_x87_add_store(f);
    test_x87_third_pc24(f);
    test_x87_third_pc53(f);
    test_x87_third_pc64(f);
    test_x87_third_pc64_down(f);
    test_x87_fldpi(f);
    test_x87_underflow(f);
    test_x87_overflow(f);
    test_x87_fcom_gt(f);
    test_x87_fcom_lt(f);
    test_x87_fcom_eq(f);
    test_x87_fcom_nan(f);
    test_x87_fucom_nan(f);
    test_x87_fcomi(f);
    test_x87_fcmov(f);
    test_x87_fist_overflow(f);
    test_x87_fisttp(f);
    test_x87_fbstp(f);
    test_x87_fxam_empty(f);
    test_x87_fsqrt_neg(f);
    test_x87_fprem(f);
    test_x87_fnstenv(f);
    test_x87_fldenv_pending(f);
    test_x87_unmasked_zerodiv(f);
    test_x87_fnclex_fninit(f);
    test_x87_fsave_frstor(f);
    test_x87_fldcw_reserved(f);
    test_x87_fxsave(f);
    test_x87_fxsave_misaligned(f);
    test_x87_mmx_aliasing(f);
    test_x87_emms(f);
    test_x87_undefined(f);
    if (test_failures)
        fprintf(stderr, "last error: %s\n", err_get());
    free(f);
    TEST_MAIN_END();
}
