/* Every host-executed x87 memory form through emu_flat_run: a load reads
 * exactly its operand (placed at the very end of memory, so one byte more
 * would be a #PF), a store writes exactly its operand (canary after it),
 * and FDP/FOP record the operand and the opcode. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/fp.h"
#include "flat_util.h"

/* Operand sizes from the SDM's opcode map (0: undefined or control). */
static const uint8_t sdm_size[8][8] = {
    {4, 4, 4, 4, 4, 4, 4, 4},     /* D8 m32fp */
    {4, 0, 4, 4, 0, 0, 0, 0},     /* D9 FLD/FST/FSTP m32fp */
    {4, 4, 4, 4, 4, 4, 4, 4},     /* DA m32int */
    {4, 4, 4, 4, 0, 10, 0, 10},   /* DB FILD/FISTTP/FIST/FISTP m32int, FLD/FSTP m80fp */
    {8, 8, 8, 8, 8, 8, 8, 8},     /* DC m64fp */
    {8, 8, 8, 8, 0, 0, 0, 0},     /* DD FLD/FISTTP/FST/FSTP m64 */
    {2, 2, 2, 2, 2, 2, 2, 2},     /* DE m16int */
    {2, 2, 2, 2, 10, 8, 10, 8},   /* DF m16int, FBLD, FILD m64, FBSTP, FISTP m64 */
};

/* Store forms (FST, FSTP, FIST, FISTP, FISTTP, FBSTP), one bit per reg. */
static const uint8_t sdm_store[8] = { 0, 0x0c, 0, 0x8e, 0, 0x0e, 0, 0xce };

int main(void)
{
    struct flat *f = calloc(1, sizeof(*f));
    unsigned forms = 0;
    for (unsigned esc = 0; esc < 8; esc++) {
        for (unsigned reg = 0; reg < 8; reg++) {
            unsigned modrm = (reg << 3) | 4;  /* SIB, disp32 absolute */
            if (!x87_host_form(esc, modrm))
                continue;
            unsigned n = sdm_size[esc][reg];
            CHECK_EQ(x87_mem_size(esc, modrm), n);
            bool store = (sdm_store[esc] >> reg) & 1;
            CHECK_EQ(x87_mem_is_store(esc, modrm), store);
            uint32_t addr = store ? (uint32_t)FLAT_DATA : (uint32_t)(FLAT_BASE + FLAT_SIZE - n);
            /* fld1; fld1; <form> [addr]; int3 */
            uint8_t code[] = { 0xd9, 0xe8, 0xd9, 0xe8, (uint8_t)(0xd8 + esc), (uint8_t)modrm, 0x25,
                               (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16), (uint8_t)(addr >> 24), 0xcc };
            flat_init(f);
            f->st.fx.fcw = FCW_DEFAULT;
            f->st.fx.mxcsr = MXCSR_DEFAULT;
            memset(f->mem + (FLAT_DATA - FLAT_BASE), 0xee, 32);
            /* a small integer / 1.0 in every format, so loads are valid */
            uint8_t *op = f->mem + (addr - FLAT_BASE);
            if (!store) {
                memset(op, 0, n);
                op[0] = 1;
            }
            flat_run(f, code, sizeof(code), 100);
            if (f->rc != 0 || f->res.vector != 3) {
                fprintf(stderr, "form %02x /%u: rc %d vector %d\n", 0xd8 + esc, reg, f->rc, f->res.vector);
                test_failures++;
                continue;
            }
            forms++;
            CHECK_EQ(f->st.fx.fop, (esc << 8) | modrm);
            CHECK_EQ(f->st.fx.fdp, addr);
            CHECK_EQ(f->st.fx.fip, FLAT_BASE + 4);
            if (store) {
                uint8_t *m = f->mem + (FLAT_DATA - FLAT_BASE);
                bool written = false;
                for (unsigned k = 0; k < n; k++)
                    written |= m[k] != 0xee;
                CHECK(written);
                CHECK_EQ(m[n], 0xee);
            }
        }
    }
    CHECK_EQ(forms, 8 * 8 - 4 - 4 - 3);  /* less the undefined and control forms */
    free(f);
    TEST_MAIN_END();
}
