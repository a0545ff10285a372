/* Decoder tests on byte sequences: lengths, operands, prefixes, maps. */
#include "../test.h"
#include "accel/emu/insn.h"

static const struct decode_mode M64 = { true, false };
static const struct decode_mode M32 = { false, true };
static const struct decode_mode M16 = { false, false };

static int dec(struct decode_mode m, struct insn *i, const uint8_t *b, unsigned n)
{
    return emu_decode(b, n, m, i);
}

#define DEC(m, i, ...) ({ static const uint8_t b_[] = { __VA_ARGS__ }; dec(m, i, b_, sizeof(b_)); })

int main(void)
{
    struct insn i;

    /* add rax, rbx: 48 01 d8 */
    CHECK_EQ(DEC(M64, &i, 0x48, 0x01, 0xd8), DECODE_OK);
    CHECK_EQ(i.len, 3);
    CHECK_EQ(i.op, 0x01);
    CHECK_EQ(i.osz, 8);
    CHECK_EQ(i.mod, 3);
    CHECK_EQ(i.reg, GPR_RBX);
    CHECK_EQ(i.rm, GPR_RAX);

    /* mov r9d, [r12 + r13*4 + 0x12345678]: 47 8b 8c ac 78 56 34 12 */
    CHECK_EQ(DEC(M64, &i, 0x47, 0x8b, 0x8c, 0xac, 0x78, 0x56, 0x34, 0x12), DECODE_OK);
    CHECK_EQ(i.len, 8);
    CHECK_EQ(i.osz, 4);
    CHECK_EQ(i.reg, 9);
    CHECK_EQ(i.ea_base, 12);
    CHECK_EQ(i.ea_index, 13);
    CHECK_EQ(i.ea_scale, 2);
    CHECK_EQ(i.disp, 0x12345678);
    CHECK_EQ(i.ea_seg, SEG_DS);

    /* RIP-relative: mov eax, [rip - 4]: 8b 05 fc ff ff ff */
    CHECK_EQ(DEC(M64, &i, 0x8b, 0x05, 0xfc, 0xff, 0xff, 0xff), DECODE_OK);
    CHECK_EQ(i.ea_base, EA_RIP);
    CHECK_EQ(i.disp, -4);
    CHECK_EQ(i.len, 6);
    /* ... but in 32-bit mode mod=0 rm=5 is an absolute disp32 */
    CHECK_EQ(DEC(M32, &i, 0x8b, 0x05, 0xfc, 0xff, 0xff, 0xff), DECODE_OK);
    CHECK_EQ(i.ea_base, EA_NONE);

    /* SIB with no base: mov eax, [rcx*8 + 0x10]: 8b 04 cd 10 00 00 00 */
    CHECK_EQ(DEC(M64, &i, 0x8b, 0x04, 0xcd, 0x10, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.ea_base, EA_NONE);
    CHECK_EQ(i.ea_index, GPR_RCX);
    CHECK_EQ(i.ea_scale, 3);
    CHECK_EQ(i.len, 7);

    /* rbp base gets SS: mov eax, [rbp+8]: 8b 45 08 */
    CHECK_EQ(DEC(M64, &i, 0x8b, 0x45, 0x08), DECODE_OK);
    CHECK_EQ(i.ea_seg, SEG_SS);
    CHECK_EQ(i.disp, 8);
    /* fs override: 64 8b 04 25 28 00 00 00 (mov eax, fs:0x28) */
    CHECK_EQ(DEC(M64, &i, 0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.ea_seg, SEG_FS);
    CHECK_EQ(i.ea_base, EA_NONE);
    CHECK_EQ(i.ea_index, EA_NONE);
    CHECK_EQ(i.len, 8);

    /* mov rax, imm64: 48 b8 + 8 bytes */
    CHECK_EQ(DEC(M64, &i, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8), DECODE_OK);
    CHECK_EQ(i.len, 10);
    CHECK_EQ(i.imm, 0x0807060504030201ull);
    /* 66 prefix: mov ax, imm16 */
    CHECK_EQ(DEC(M64, &i, 0x66, 0xb8, 0x34, 0x12), DECODE_OK);
    CHECK_EQ(i.len, 4);
    CHECK_EQ(i.osz, 2);
    CHECK_EQ(i.imm, 0x1234);
    /* REX.W wins over 66 */
    CHECK_EQ(DEC(M64, &i, 0x66, 0x48, 0x05, 1, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.osz, 8);
    CHECK_EQ(i.len, 7);
    /* REX followed by a legacy prefix is ignored: 48 66 01 c0 = add ax, ax */
    CHECK_EQ(DEC(M64, &i, 0x48, 0x66, 0x01, 0xc0), DECODE_OK);
    CHECK_EQ(i.osz, 2);
    CHECK_EQ(i.rex, 0);

    /* imm8 sign extension: 83 c0 ff = add eax, -1 */
    CHECK_EQ(DEC(M64, &i, 0x83, 0xc0, 0xff), DECODE_OK);
    CHECK_EQ(i.imm, ~0ull);
    /* group 3 immediates only for /0: f7 c0 imm32 (test) vs f7 d8 (neg) */
    CHECK_EQ(DEC(M64, &i, 0xf7, 0xc0, 1, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.len, 6);
    CHECK_EQ(DEC(M64, &i, 0xf7, 0xd8), DECODE_OK);
    CHECK_EQ(i.len, 2);
    CHECK_EQ(DEC(M64, &i, 0xf6, 0xc1, 0x80), DECODE_OK);
    CHECK_EQ(i.len, 3);

    /* push/pop default to 64-bit; 66 gives 16 */
    CHECK_EQ(DEC(M64, &i, 0x50), DECODE_OK);
    CHECK_EQ(i.osz, 8);
    CHECK_EQ(DEC(M64, &i, 0x66, 0x50), DECODE_OK);
    CHECK_EQ(i.osz, 2);
    /* near branches are forced to 64 bits: 66 e8 rel32 is still rel32 */
    CHECK_EQ(DEC(M64, &i, 0x66, 0xe8, 0, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.osz, 8);
    CHECK_EQ(i.len, 6);
    /* FF /2 call [rax] forced 64 */
    CHECK_EQ(DEC(M64, &i, 0xff, 0x10), DECODE_OK);
    CHECK_EQ(i.osz, 8);

    /* moffs: a1 + 8-byte address in 64-bit mode, 4 with 67 */
    CHECK_EQ(DEC(M64, &i, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8), DECODE_OK);
    CHECK_EQ(i.len, 9);
    CHECK_EQ(DEC(M64, &i, 0x67, 0xa1, 1, 2, 3, 4), DECODE_OK);
    CHECK_EQ(i.len, 6);

    /* enter 0x10, 2 */
    CHECK_EQ(DEC(M64, &i, 0xc8, 0x10, 0x00, 0x02), DECODE_OK);
    CHECK_EQ(i.len, 4);
    CHECK_EQ(i.imm, 0x10);
    CHECK_EQ(i.imm2, 2);

    /* 0F maps: jnz rel32, movzx, 0F 38 and 0F 3A with mandatory prefixes */
    CHECK_EQ(DEC(M64, &i, 0x0f, 0x85, 0x10, 0, 0, 0), DECODE_OK);
    CHECK_EQ(i.map, MAP_0F);
    CHECK_EQ(i.len, 6);
    CHECK_EQ(i.imm, 0x10);
    CHECK_EQ(DEC(M64, &i, 0x66, 0x0f, 0x38, 0x00, 0xc1), DECODE_OK);  /* pshufb xmm0, xmm1 */
    CHECK_EQ(i.map, MAP_0F38);
    CHECK_EQ(i.pfx, PFX_66);
    CHECK_EQ(i.len, 5);
    CHECK_EQ(DEC(M64, &i, 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08), DECODE_OK);  /* palignr */
    CHECK_EQ(i.map, MAP_0F3A);
    CHECK_EQ(i.len, 6);
    CHECK_EQ(i.imm, 8);
    /* F3 wins over 66 as the mandatory prefix; rep is recorded */
    CHECK_EQ(DEC(M64, &i, 0x66, 0xf3, 0x0f, 0x10, 0xc1), DECODE_OK);
    CHECK_EQ(i.pfx, PFX_F3);
    CHECK_EQ(i.rep, 0xf3);
    /* MOV CR: the r/m is a register whatever mod says */
    CHECK_EQ(DEC(M64, &i, 0x0f, 0x22, 0x18), DECODE_OK);  /* mov cr3, rax (mod 0) */
    CHECK_EQ(i.mod, 3);
    CHECK_EQ(i.reg, 3);
    CHECK_EQ(i.rm, 0);
    CHECK_EQ(i.len, 3);
    CHECK_EQ(i.osz, 8);

    /* lock prefix and segment override recorded */
    CHECK_EQ(DEC(M64, &i, 0xf0, 0x48, 0x0f, 0xb1, 0x0a), DECODE_OK);
    CHECK(i.lock);
    CHECK_EQ(i.len, 5);

    /* invalid in 64-bit mode: push es, aaa, les */
    CHECK_EQ(DEC(M64, &i, 0x06), DECODE_UD);
    CHECK_EQ(DEC(M64, &i, 0x37), DECODE_UD);
    CHECK_EQ(DEC(M64, &i, 0xce), DECODE_UD);
    CHECK_EQ(DEC(M32, &i, 0x06), DECODE_OK);
    /* undefined opcodes */
    CHECK_EQ(DEC(M64, &i, 0x0f, 0x04), DECODE_UD);
    CHECK_EQ(DEC(M64, &i, 0xd6), DECODE_UD);

    /* 16-bit mode: default sizes, [bp+si+disp8] uses SS */
    CHECK_EQ(DEC(M16, &i, 0x8b, 0x42, 0x10), DECODE_OK);
    CHECK_EQ(i.osz, 2);
    CHECK_EQ(i.asz, 2);
    CHECK_EQ(i.ea_base, GPR_RBP);
    CHECK_EQ(i.ea_index, GPR_RSI);
    CHECK_EQ(i.ea_seg, SEG_SS);
    CHECK_EQ(i.len, 3);
    /* 66 67 in 16-bit mode: 32-bit operands and addressing */
    CHECK_EQ(DEC(M16, &i, 0x66, 0x67, 0x8b, 0x04, 0x24), DECODE_OK);
    CHECK_EQ(i.osz, 4);
    CHECK_EQ(i.asz, 4);
    CHECK_EQ(i.ea_base, GPR_RSP);
    CHECK_EQ(i.len, 5);
    /* far jump ptr16:32 in 32-bit mode: ea imm32 sel16 */
    CHECK_EQ(DEC(M32, &i, 0xea, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00), DECODE_OK);
    CHECK_EQ(i.len, 7);
    CHECK_EQ(i.imm, 0x12345678);
    CHECK_EQ(i.imm2, 0x10);
    /* 16-bit disp16 direct address: mov ax, [0x1234] */
    CHECK_EQ(DEC(M16, &i, 0x8b, 0x06, 0x34, 0x12), DECODE_OK);
    CHECK_EQ(i.ea_base, EA_NONE);
    CHECK_EQ(i.disp, 0x1234);

    /* truncated input and over-long instructions */
    CHECK_EQ(DEC(M64, &i, 0x48, 0xb8, 1, 2), DECODE_MORE);
    {
        uint8_t b[16];
        memset(b, 0x66, sizeof(b));
        b[15] = 0x90;
        CHECK_EQ(dec(M64, &i, b, 16), DECODE_TOOLONG);
        b[14] = 0x90;
        CHECK_EQ(dec(M64, &i, b, 16), DECODE_OK);
        CHECK_EQ(i.len, 15);
        b[13] = 0x90;
        CHECK_EQ(dec(M64, &i, b, 16), DECODE_OK);
        CHECK_EQ(i.len, 14);
    }

    TEST_MAIN_END();
}
