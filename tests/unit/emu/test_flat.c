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

/* xor eax,eax; mov ecx,100; L: add eax,ecx; dec ecx; jnz L; int3 */
static void test_sum_loop(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xfa, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 5050);
    CHECK_EQ(f->st.regs[GPR_RCX], 0);
    CHECK_EQ(f->st.rip, FLAT_BASE + 14);
    CHECK_EQ(f->res.insns, 2 + 3 * 100 + 1);
}

/* mov rsi, 0x408000; mov rdi, 0x408101; mov ecx, 37; rep movsb; int3 */
static void test_rep_movsb(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc6, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0xc7, 0x01, 0x81, 0x40, 0x00, 0xb9, 0x25, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xcc };
    flat_init(f);
    for (int k = 0; k < 64; k++) f->mem[0x8000 + k] = (uint8_t)(k + 1);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RCX], 0);
    CHECK_EQ(f->st.regs[GPR_RSI], 0x408000 + 37);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x408101 + 37);
    CHECK(memcmp(f->mem + 0x8101, f->mem + 0x8000, 37) == 0);
    CHECK_EQ(f->mem[0x8101 + 37], 0);
}

/* mov rsi, 0x408000; mov rdi, 0x408001; mov ecx, 16; rep movsb; int3 */
static void test_rep_movsb_overlap(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc6, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0xc7, 0x01, 0x80, 0x40, 0x00, 0xb9, 0x10, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xcc };
    flat_init(f);
    f->mem[0x8000] = 0xab;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    for (int k = 0; k < 17; k++) CHECK_EQ(f->mem[0x8000 + k], 0xab);
}

/* std; mov rdi, 0x408018; mov ecx, 3; mov rax, 0x1122334455667788; rep stosq; cld; int3 */
static void test_rep_stosq_down(struct flat *f)
{
    static const uint8_t code[] = { 0xfd, 0x48, 0xc7, 0xc7, 0x18, 0x80, 0x40, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xf3, 0x48, 0xab, 0xfc, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x408000);
    for (int k = 0; k < 3; k++) { uint64_t v; memcpy(&v, f->mem + 0x8008 + 8 * k, 8); CHECK_EQ(v, 0x1122334455667788ull); }
    CHECK_EQ(f->mem[0x8000], 0);
}

/* mov rdi, 0x408000; xor eax, eax; mov rcx, -1; repne scasb; not rcx; dec rcx; int3 */
static void test_repne_scasb_strlen(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x31, 0xc0, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, 0xf2, 0xae, 0x48, 0xf7, 0xd1, 0x48, 0xff, 0xc9, 0xcc };
    flat_init(f);
    memcpy(f->mem + 0x8000, "hello, world", 13);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RCX], 12);
}

/* mov rsi, 0x408000; mov rdi, 0x408100; mov ecx, 10; repe cmpsb; int3 */
static void test_repe_cmpsb(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc6, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0xc7, 0x00, 0x81, 0x40, 0x00, 0xb9, 0x0a, 0x00, 0x00, 0x00, 0xf3, 0xa6, 0xcc };
    flat_init(f);
    memcpy(f->mem + 0x8000, "abcdefghij", 10); memcpy(f->mem + 0x8100, "abcdXfghij", 10);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RCX], 5);
    CHECK_EQ(f->st.regs[GPR_RSI], 0x408005);
    CHECK(!RF(RFLAGS_ZF));
    CHECK(!RF(RFLAGS_CF));
}

/* xor ecx, ecx; mov eax, 5; div ecx; int3 */
static void test_div_zero(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc9, 0xb8, 0x05, 0x00, 0x00, 0x00, 0xf7, 0xf1, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 0);
    CHECK_EQ(f->st.rip, FLAT_BASE + 7);
    CHECK_EQ(f->res.insns, 2);
}

/* mov edx, 1; xor eax, eax; mov ecx, 1; div ecx; int3 */
static void test_div_overflow(struct flat *f)
{
    static const uint8_t code[] = { 0xba, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xf7, 0xf1, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 0);
}

/* mov rax, -7; cqo; mov rcx, 2; idiv rcx; int3 */
static void test_idiv_neg(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xf9, 0xff, 0xff, 0xff, 0x48, 0x99, 0x48, 0xc7, 0xc1, 0x02, 0x00, 0x00, 0x00, 0x48, 0xf7, 0xf9, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], (uint64_t)-3);
    CHECK_EQ(f->st.regs[GPR_RDX], (uint64_t)-1);
}

/* mov ax, -128; mov cl, -1; idiv cl; int3 */
static void test_idiv8_min(struct flat *f)
{
    static const uint8_t code[] = { 0x66, 0xb8, 0x80, 0xff, 0xb1, 0xff, 0xf6, 0xf9, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 0);
}

/* nop; ud2; int3 */
static void test_ud2(struct flat *f)
{
    static const uint8_t code[] = { 0x90, 0x0f, 0x0b, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 6);
    CHECK_EQ(f->st.rip, FLAT_BASE + 1);
}

/* .byte 0x0f, 0xff; int3 */
static void test_undefined_opcode(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0xff, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 6);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

/* .byte 0x06 */
static void test_invalid_in_64(struct flat *f)
{
    static const uint8_t code[] = { 0x06 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 6);
}

/* mov al, 0x7f; add al, 1; pushfq; pop rbx; int3 */
static void test_add_flags(struct flat *f)
{
    static const uint8_t code[] = { 0xb0, 0x7f, 0x04, 0x01, 0x9c, 0x5b, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 0x80);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0x8d5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF);
}

/* xor eax, eax; sub eax, 1; int3 */
static void test_sub_flags(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0x83, 0xe8, 0x01, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0xffffffffull);
    CHECK_EQ(f->st.rflags & 0x8d5, RFLAGS_CF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF);
}

/* mov rax, -1; mov rdx, 0; add rax, 1; adc rdx, 0; mov rcx, 0; sub rcx, 1; sbb rbx, rbx; int3 */
static void test_adc_sbb_chain(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x48, 0xc7, 0xc2, 0x00, 0x00, 0x00, 0x00, 0x48, 0x83, 0xc0, 0x01, 0x48, 0x83, 0xd2, 0x00, 0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x00, 0x48, 0x83, 0xe9, 0x01, 0x48, 0x19, 0xdb, 0xcc };
    flat_init(f);
    f->st.regs[GPR_RBX] = 77;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0);
    CHECK_EQ(f->st.regs[GPR_RDX], 1);
    CHECK_EQ(f->st.regs[GPR_RBX], (uint64_t)-1);
}

/* mov rax, -1; mov eax, 1; mov rbx, -1; add ebx, 0; mov rcx, -1; mov cx, 2; mov rdx, -1; mov dl, 3; mov dh, 4; int3 */
static void test_upper_half(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff, 0x83, 0xc3, 0x00, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, 0x66, 0xb9, 0x02, 0x00, 0x48, 0xc7, 0xc2, 0xff, 0xff, 0xff, 0xff, 0xb2, 0x03, 0xb6, 0x04, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 1);
    CHECK_EQ(f->st.regs[GPR_RBX], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RCX], 0xffffffffffff0002ull);
    CHECK_EQ(f->st.regs[GPR_RDX], 0xffffffffffff0403ull);
}

/* mov rax, [0x1000]; int3 */
static void test_read_fault(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->res.error_code, 4);
    CHECK_EQ(f->st.cr2, 0x1000);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

/* Lazy flags and faults: the SUB's flags are pending (not yet computed)
 * when the ADC faults; the state at the fault has them, and the ADC's
 * carry-in did not leak into them.
 * xor eax, eax; sub eax, 1; adc rbx, [rsi]; int3 */
static void test_fault_keeps_lazy_flags(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0x83, 0xe8, 0x01, 0x48, 0x13, 0x1e, 0xcc };
    flat_init(f);
    f->st.regs[GPR_RSI] = FLAT_BASE + FLAT_SIZE;
    f->st.regs[GPR_RBX] = 7;
    flat_run(f, code, sizeof(code), 100000);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.rip, FLAT_BASE + 5);
    CHECK_EQ(f->st.regs[GPR_RBX], 7);
    CHECK_EQ(f->st.rflags & 0x8d5, RFLAGS_CF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF);
}

/* A fault in an instruction that does not save the flags (a MOV load in
 * a decoded block) after one that did (STC) and one that changed them
 * (SUB): the fault must keep the SUB's flags, not put back the copy saved
 * before the STC.
 * xor eax, eax; stc; sub eax, 1; mov rbx, [rsi]; int3 */
static void test_fault_keeps_later_flags(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0xf9, 0x83, 0xe8, 0x01, 0x48, 0x8b, 0x1e, 0xcc };
    flat_init(f);
    f->st.regs[GPR_RSI] = FLAT_BASE + FLAT_SIZE;
    f->st.regs[GPR_RBX] = 7;
    flat_run(f, code, sizeof(code), 100000);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.rip, FLAT_BASE + 6);
    CHECK_EQ(f->st.regs[GPR_RBX], 7);
    CHECK_EQ(f->st.rflags & 0x8d5, RFLAGS_CF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF);
}

/* Jcc (short and near, one handler per condition in 64-bit mode) agrees
 * with SETcc for every condition after CMP of several pairs.
 * cmp rax, rbx; setcc cl; jcc +2; jmp +2; mov dl, 1; jcc near +2; jmp +2;
 * mov dh, 1; int3 */
static void test_jcc_matches_setcc(struct flat *f)
{
    static const uint64_t pairs[][2] = {
        { 0, 0 }, { 1, 2 }, { 2, 1 }, { ~0ull, 1 }, { 1ull << 63, 1 }, { 1, 1ull << 63 }, { 0x80, 0x7f },
    };
    for (unsigned cc = 0; cc < 16; cc++)
        for (unsigned k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
            const uint8_t code[] = { 0x48, 0x39, 0xd8, 0x0f, (uint8_t)(0x90 + cc), 0xc1, (uint8_t)(0x70 + cc), 0x02,
                                     0xeb, 0x02, 0xb2, 0x01, 0x0f, (uint8_t)(0x80 + cc), 0x02, 0x00, 0x00, 0x00,
                                     0xeb, 0x02, 0xb6, 0x01, 0xcc };
            flat_init(f);
            f->st.regs[GPR_RAX] = pairs[k][0];
            f->st.regs[GPR_RBX] = pairs[k][1];
            f->st.regs[GPR_RCX] = 0;
            f->st.regs[GPR_RDX] = 0;
            flat_run(f, code, sizeof(code), 100000);
            CHECK_EQ(f->res.vector, 3);
            uint64_t want = f->st.regs[GPR_RCX] & 1;
            CHECK_EQ(f->st.regs[GPR_RDX] & 0xff, want);
            CHECK_EQ((f->st.regs[GPR_RDX] >> 8) & 0xff, want);
        }
}

/* REPE CMPSB that faults on its third byte: the two complete iterations
 * stay done, flags included (ZF/PF of 5 - 5), not the SUB's from before.
 * xor eax, eax; sub eax, 1; repe cmpsb; int3 */
static void test_repe_cmpsb_fault_flags(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0x83, 0xe8, 0x01, 0xf3, 0xa6, 0xcc };
    flat_init(f);
    f->mem[FLAT_SIZE - 2] = f->mem[FLAT_SIZE - 1] = 5;
    f->mem[FLAT_DATA - FLAT_BASE] = f->mem[FLAT_DATA - FLAT_BASE + 1] = 5;
    f->st.regs[GPR_RSI] = FLAT_BASE + FLAT_SIZE - 2;
    f->st.regs[GPR_RDI] = FLAT_DATA;
    f->st.regs[GPR_RCX] = 10;
    flat_run(f, code, sizeof(code), 100000);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.rip, FLAT_BASE + 5);
    CHECK_EQ(f->st.regs[GPR_RCX], 8);
    CHECK_EQ(f->st.regs[GPR_RSI], FLAT_BASE + FLAT_SIZE);
    CHECK_EQ(f->st.regs[GPR_RDI], FLAT_DATA + 2);
    CHECK_EQ(f->st.rflags & 0x8d5, RFLAGS_ZF | RFLAGS_PF);
}

/* mov rbx, 0x410000; mov byte ptr [rbx + 2], 1; int3 */
static void test_write_fault(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc3, 0x00, 0x00, 0x41, 0x00, 0xc6, 0x43, 0x02, 0x01, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->res.error_code, 6);
    CHECK_EQ(f->st.cr2, 0x410002);
}

/* mov rbx, 0x40fffc; mov qword ptr [rbx], 1; int3 */
static void test_straddle_fault(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc3, 0xfc, 0xff, 0x40, 0x00, 0x48, 0xc7, 0x03, 0x01, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    f->mem[0xfffc] = 0x55;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->mem[0xfffc], 0x55);
}

/* mov rax, 0x8000000000000000; mov rbx, [rax]; int3 */
static void test_noncanonical_gp(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x48, 0x8b, 0x18, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
    CHECK_EQ(f->res.error_code, 0);
}

/* mov rax, 0x100000000; mul rax; int3 */
static void test_mul64(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x48, 0xf7, 0xe0, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0);
    CHECK_EQ(f->st.regs[GPR_RDX], 1);
    CHECK(RF(RFLAGS_CF) && RF(RFLAGS_OF));
}

/* mov rcx, -3; imul rax, rcx, 7; mov ebx, 0x10000; imul ebx, ebx; mov dx, 0x100; imul dx, dx, 0x100; int3 */
static void test_imul_forms(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc1, 0xfd, 0xff, 0xff, 0xff, 0x48, 0x6b, 0xc1, 0x07, 0xbb, 0x00, 0x00, 0x01, 0x00, 0x0f, 0xaf, 0xdb, 0x66, 0xba, 0x00, 0x01, 0x66, 0x69, 0xd2, 0x00, 0x01, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], (uint64_t)-21);
    CHECK_EQ(f->st.regs[GPR_RBX], 0);
    CHECK_EQ(f->st.regs[GPR_RDX] & 0xffff, 0);
    CHECK(RF(RFLAGS_CF) && RF(RFLAGS_OF));
}

/* mov eax, 0x80000001; shl eax, 1; setc bl; mov ecx, 0x80000000; sar ecx, 31; mov edx, 0x81; ror dl, 1; setc bh; mov esi, 1; shr esi, 1; setz ah; int3 */
static void test_shifts(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x80, 0xd1, 0xe0, 0x0f, 0x92, 0xc3, 0xb9, 0x00, 0x00, 0x00, 0x80, 0xc1, 0xf9, 0x1f, 0xba, 0x81, 0x00, 0x00, 0x00, 0xd0, 0xca, 0x0f, 0x92, 0xc7, 0xbe, 0x01, 0x00, 0x00, 0x00, 0xd1, 0xee, 0x0f, 0x94, 0xc4, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xffffffff, 0x0100 | 2);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);
    CHECK_EQ(f->st.regs[GPR_RCX], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 0xc0);
}

/* stc; mov al, 0x80; rcl al, 1; setc bl; stc; mov dl, 1; rcr dl, 1; setc bh; int3 */
static void test_rcl_rcr(struct flat *f)
{
    static const uint8_t code[] = { 0xf9, 0xb0, 0x80, 0xd0, 0xd0, 0x0f, 0x92, 0xc3, 0xf9, 0xb2, 0x01, 0xd0, 0xda, 0x0f, 0x92, 0xc7, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);
    CHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 0x80);
}

/* mov eax, 0x12345678; mov ebx, 0x9abcdef0; shld eax, ebx, 8; mov ecx, 4; mov edx, 0x12345678; shrd edx, ebx, cl; int3 */
static void test_shld_shrd(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xbb, 0xf0, 0xde, 0xbc, 0x9a, 0x0f, 0xa4, 0xd8, 0x08, 0xb9, 0x04, 0x00, 0x00, 0x00, 0xba, 0x78, 0x56, 0x34, 0x12, 0x0f, 0xad, 0xda, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x345678 * 0x100 + 0x9a);
    CHECK_EQ(f->st.regs[GPR_RDX], 0x01234567);
}

/* mov eax, 0x10; bsf ecx, eax; bsr edx, eax; mov esi, 77; xor edi, edi; bsf esi, edi; setz bl; mov rdi, 0x408000; mov rax, 100; bts [rdi], rax; bt qword ptr [rdi + 8], 36; setc bh; mov r8, -1; btr [rdi + 16], r8; int3 */
static void test_bitops(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x10, 0x00, 0x00, 0x00, 0x0f, 0xbc, 0xc8, 0x0f, 0xbd, 0xd0, 0xbe, 0x4d, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0xbc, 0xf7, 0x0f, 0x94, 0xc3, 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0xc0, 0x64, 0x00, 0x00, 0x00, 0x48, 0x0f, 0xab, 0x07, 0x48, 0x0f, 0xba, 0x67, 0x08, 0x24, 0x0f, 0x92, 0xc7, 0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x4c, 0x0f, 0xb3, 0x47, 0x10, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RCX], 4);
    CHECK_EQ(f->st.regs[GPR_RDX], 4);
    CHECK_EQ(f->st.regs[GPR_RSI], 77);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);
    CHECK_EQ(f->mem[0x8000 + 12], 0x10);
    CHECK_EQ(f->mem[0x8000 + 15], 0);
}

/* mov rax, 0xf0f0; popcnt rbx, rax; mov ecx, 0x11223344; bswap ecx; mov rdx, 0x0102030405060708; bswap rdx; int3 */
static void test_popcnt_bswap(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xf0, 0xf0, 0x00, 0x00, 0xf3, 0x48, 0x0f, 0xb8, 0xd8, 0xb9, 0x44, 0x33, 0x22, 0x11, 0x0f, 0xc9, 0x48, 0xba, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x48, 0x0f, 0xca, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX], 8);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x44332211);
    CHECK_EQ(f->st.regs[GPR_RDX], 0x0807060504030201ull);
}

/* mov rdi, 0x408000; mov qword ptr [rdi], 5; mov eax, 5; mov ecx, 9; lock cmpxchg [rdi], ecx; setz bl; mov eax, 1; lock cmpxchg [rdi], ecx; setz bh; mov edx, 3; lock xadd [rdi], edx; int3 */
static void test_cmpxchg_xadd(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0x07, 0x05, 0x00, 0x00, 0x00, 0xb8, 0x05, 0x00, 0x00, 0x00, 0xb9, 0x09, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0xb1, 0x0f, 0x0f, 0x94, 0xc3, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0xb1, 0x0f, 0x0f, 0x94, 0xc7, 0xba, 0x03, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0xc1, 0x17, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->mem[0x8000], 12);
    CHECK_EQ(f->st.regs[GPR_RAX], 9);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0001);
    CHECK_EQ(f->st.regs[GPR_RDX], 9);
}

/* mov rdi, 0x408000; xor eax, eax; xor edx, edx; mov ebx, 1; mov ecx, 2; lock cmpxchg16b [rdi]; setz sil; int3 */
static void test_cmpxchg16b(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x31, 0xc0, 0x31, 0xd2, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0x40, 0x0f, 0x94, 0xc6, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->mem[0x8000], 1);
    CHECK_EQ(f->mem[0x8008], 2);
    CHECK_EQ(f->st.regs[GPR_RSI] & 0xff, 1);
}

/* call fn; add eax, 1; int3; fn: mov eax, 41; ret */
static void test_call_ret(struct flat *f)
{
    static const uint8_t code[] = { 0xe8, 0x04, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x01, 0xcc, 0xb8, 0x29, 0x00, 0x00, 0x00, 0xc3 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 42);
    CHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK);
}

/* push 0x1234; pop qword ptr [rsp - 16]; mov rax, [rsp - 16]; push -1; pop bx; int3 */
static void test_push_pop_mem(struct flat *f)
{
    static const uint8_t code[] = { 0x68, 0x34, 0x12, 0x00, 0x00, 0x8f, 0x44, 0x24, 0xf0, 0x48, 0x8b, 0x44, 0x24, 0xf0, 0x6a, 0xff, 0x66, 0x5b, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x1234);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0xffff);
    CHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK - 6);
}

/* mov rbp, 0x1111; enter 32, 0; mov rax, rbp; mov rbx, rsp; leave; int3 */
static void test_enter_leave(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc5, 0x11, 0x11, 0x00, 0x00, 0xc8, 0x20, 0x00, 0x00, 0x48, 0x89, 0xe8, 0x48, 0x89, 0xe3, 0xc9, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], FLAT_STACK - 8);
    CHECK_EQ(f->st.regs[GPR_RBX], FLAT_STACK - 40);
    CHECK_EQ(f->st.regs[GPR_RBP], 0x1111);
    CHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK);
}

/* mov rax, -1; xor ecx, ecx; cmp ecx, 1; cmovg eax, ecx; setl bl; setb bh; mov edx, 5; cmovl edx, ecx; int3 */
static void test_cmov_setcc(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x31, 0xc9, 0x83, 0xf9, 0x01, 0x0f, 0x4f, 0xc1, 0x0f, 0x9c, 0xc3, 0x0f, 0x92, 0xc7, 0xba, 0x05, 0x00, 0x00, 0x00, 0x0f, 0x4c, 0xd1, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);
    CHECK_EQ(f->st.regs[GPR_RDX], 0);
}

/* mov eax, 0x80; movsx rbx, al; movzx ecx, al; movsxd rdx, eax; mov esi, -1; movsxd rsi, esi; lea rdi, [rax + rcx*4 + 3]; lea r8d, [rip]; int3 */
static void test_movzx_movsx_lea(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x80, 0x00, 0x00, 0x00, 0x48, 0x0f, 0xbe, 0xd8, 0x0f, 0xb6, 0xc8, 0x48, 0x63, 0xd0, 0xbe, 0xff, 0xff, 0xff, 0xff, 0x48, 0x63, 0xf6, 0x48, 0x8d, 0x7c, 0x88, 0x03, 0x44, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX], (uint64_t)-128);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x80);
    CHECK_EQ(f->st.regs[GPR_RDX], 0x80);
    CHECK_EQ(f->st.regs[GPR_RSI], (uint64_t)-1);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x80 * 5 + 3);
    CHECK_EQ(f->st.regs[GPR_R8], FLAT_BASE + sizeof(code) - 1);
}

/* mov rax, fs:[8]; mov gs:[0], rax; int3 */
static void test_fs_base(struct flat *f)
{
    static const uint8_t code[] = { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, 0x65, 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    f->st.seg[SEG_FS].base = FLAT_DATA; f->st.seg[SEG_GS].base = FLAT_DATA + 0x100; f->mem[0x8008] = 0x5a;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x5a);
    CHECK_EQ(f->mem[0x8100], 0x5a);
}

/* hlt */
static void test_privileged_hlt(struct flat *f)
{
    static const uint8_t code[] = { 0xf4 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
    CHECK_EQ(f->res.error_code, 0);
}

/* in al, 0x60 */
static void test_privileged_in(struct flat *f)
{
    static const uint8_t code[] = { 0xe4, 0x60 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* cli */
static void test_privileged_cli(struct flat *f)
{
    static const uint8_t code[] = { 0xfa };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* mov rax, cr3 */
static void test_privileged_cr(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x20, 0xd8 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* wrmsr */
static void test_privileged_wrmsr(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x30 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 13);
}

/* syscall */
static void test_syscall_ud(struct flat *f)
{
    static const uint8_t code[] = { 0x0f, 0x05 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 6);
}

/* int 0x80 */
static void test_int_n(struct flat *f)
{
    static const uint8_t code[] = { 0xcd, 0x80 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 0x80);
    CHECK_EQ(f->st.rip, FLAT_BASE + 2);
}

/* L: jmp L */
static void test_max_insns(struct flat *f)
{
    static const uint8_t code[] = { 0xeb, 0xfe };
    flat_init(f);
    flat_run(f, code, sizeof(code), 1000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, -1);
    CHECK_EQ(f->res.insns, 1000);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

/* xor eax, eax; cpuid; int3 */
static void test_cpuid_vendor(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0x0f, 0xa2, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX], 0x756e6547);
    CHECK_EQ(f->st.regs[GPR_RDX], 0x49656e69);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x6c65746e);
}

/* movddup xmm0, xmm0: SSE3 is not advertised by CPUID, so it is #UD like on
 * a CPU without SSE3, not an engine error. (The flat runner cannot reach an
 * unimplemented path any more; test_engine covers the stop message.) */
static void test_unimplemented(struct flat *f)
{
    static const uint8_t code[] = { 0xf2, 0x0f, 0x12, 0xc0 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 6);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

/* mov ah, 0xd5; sahf; lahf; cmc; pushfq; pop rbx; int3 */
static void test_lahf_sahf_flags(struct flat *f)
{
    static const uint8_t code[] = { 0xb4, 0xd5, 0x9e, 0x9f, 0xf5, 0x9c, 0x5b, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ((f->st.regs[GPR_RAX] >> 8) & 0xff, 0xd7);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xd5, 0xd4);
}

/* xor eax, eax; mov ecx, 5; L: inc eax; loop L; jrcxz done; mov eax, 99; done: int3 */
static void test_loop_jrcxz(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0xb9, 0x05, 0x00, 0x00, 0x00, 0xff, 0xc0, 0xe2, 0xfc, 0xe3, 0x05, 0xb8, 0x63, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 5);
}

/* mov eax, 1; mov r8, 2; xchg r8, rax; nop; xchg ax, ax; int3 */
static void test_xchg_nop(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x49, 0xc7, 0xc0, 0x02, 0x00, 0x00, 0x00, 0x49, 0x90, 0x90, 0x66, 0x90, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 2);
    CHECK_EQ(f->st.regs[GPR_R8], 1);
}

/* mov eax, 5; neg eax; setc bl; mov ecx, 0; neg ecx; setc bh; not rdx; int3 */
static void test_neg_not(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x05, 0x00, 0x00, 0x00, 0xf7, 0xd8, 0x0f, 0x92, 0xc3, 0xb9, 0x00, 0x00, 0x00, 0x00, 0xf7, 0xd9, 0x0f, 0x92, 0xc7, 0x48, 0xf7, 0xd2, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0xfffffffbull);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0001);
    CHECK_EQ(f->st.regs[GPR_RDX], (uint64_t)-1);
}

/* push 0x3202; popfq; pushfq; pop rax; int3 */
static void test_popf_user(struct flat *f)
{
    static const uint8_t code[] = { 0x68, 0x02, 0x32, 0x00, 0x00, 0x9d, 0x9c, 0x58, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* IOPL and IF cannot change at CPL 3 */
    CHECK_EQ(f->st.regs[GPR_RAX] & 0x3200, 0x200);
}

/* lea rax, [rip + tgt]; jmp rax; mov ebx, 1; tgt: mov ecx, 2; int3 */
static void test_jmp_indirect(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0x8d, 0x05, 0x07, 0x00, 0x00, 0x00, 0xff, 0xe0, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX], 0);
    CHECK_EQ(f->st.regs[GPR_RCX], 2);
}

/* mov rax, 0x40fffe; jmp rax */
static void test_fetch_off_end(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0xfe, 0xff, 0x40, 0x00, 0xff, 0xe0 };
    flat_init(f);
    f->mem[0xfffe] = 0x48; f->mem[0xffff] = 0xb8;
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->res.error_code, PFEC_U | PFEC_I);
    CHECK_EQ(f->st.rip, 0x40fffe);
}

/* xor ebx, ebx; L: mov eax, 1; add ebx, eax; lea rdi, [rip + L]; mov byte ptr [rdi + 1], 2; cmp ebx, 3; jne L; int3 */
static void test_self_modifying(struct flat *f)
{
    static const uint8_t code[] = { 0x31, 0xdb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc3, 0x48, 0x8d, 0x3d, 0xf2, 0xff, 0xff, 0xff, 0xc6, 0x47, 0x01, 0x02, 0x83, 0xfb, 0x03, 0x75, 0xe9, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* first pass adds 1, then the patched instruction adds 2 */
    CHECK_EQ(f->st.regs[GPR_RBX], 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 2);
}

/* lea rdi, [rip + X]; mov byte ptr [rdi + 1], 2; X: mov eax, 1; int3: the
 * store changes the next instruction, already decoded in the same block */
static void test_self_modifying_next(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0x8d, 0x3d, 0x04, 0x00, 0x00, 0x00, 0xc6, 0x47, 0x01, 0x02, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 2);
}

/* mov eax, 0x1234; mov bl, ah; add ah, al; mov cl, 0x80; sar cl, 7; mov r9b, 5; mov sil, 7; int3 */
static void test_byte_regs_high(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x34, 0x12, 0x00, 0x00, 0x88, 0xe3, 0x00, 0xc4, 0xb1, 0x80, 0xc0, 0xf9, 0x07, 0x41, 0xb1, 0x05, 0x40, 0xb6, 0x07, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0x12);
    CHECK_EQ(f->st.regs[GPR_RAX] & 0xffff, 0x4634);
    CHECK_EQ(f->st.regs[GPR_RCX] & 0xff, 0xff);
    CHECK_EQ(f->st.regs[GPR_R9] & 0xff, 5);
    CHECK_EQ(f->st.regs[GPR_RSI] & 0xff, 7);
}

/* mov eax, 0xffff0001; add ax, 0xffff; setc bl; mov ecx, 0x12345678; xchg cx, ax; movzx edx, cx; int3 */
static void test_ops16(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0xff, 0xff, 0x66, 0x83, 0xc0, 0xff, 0x0f, 0x92, 0xc3, 0xb9, 0x78, 0x56, 0x34, 0x12, 0x66, 0x91, 0x0f, 0xb7, 0xd1, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 1);
    CHECK_EQ(f->st.regs[GPR_RAX], 0xffff5678ull);
    CHECK_EQ(f->st.regs[GPR_RCX], 0x12340000ull);
    CHECK_EQ(f->st.regs[GPR_RDX], 0);
}

/* mov rdi, 0x100408000; mov dword ptr [edi], 0x55; mov eax, [edi]; int3 */
static void test_addr32(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xbf, 0x00, 0x80, 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x67, 0xc7, 0x07, 0x55, 0x00, 0x00, 0x00, 0x67, 0x8b, 0x07, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RAX], 0x55);
    CHECK_EQ(f->mem[0x8000], 0x55);
}

/* pushfq; or qword ptr [rsp], 0x100; popfq; nop; nop */
static void test_trap_flag(struct flat *f)
{
    static const uint8_t code[] = { 0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90 };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->res.vector, 1);
    /* the trap comes after the instruction following POPF */
    CHECK_EQ(f->st.rip, FLAT_BASE + sizeof(code) - 1);
}

/* mov ecx, 3; L: pause; dec ecx; jnz L; int3 */
static void test_pause_loop(struct flat *f)
{
    static const uint8_t code[] = { 0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0x90, 0xff, 0xc9, 0x75, 0xfa, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RCX], 0);
    CHECK_EQ(f->res.insns, 1 + 3 * 3 + 1);
}

/* mov eax, 1; cpuid; mov r8, rcx; mov r9, rdx; mov eax, 0x15; cpuid; mov r10, rcx; mov r11, rbx; mov r12, rax; mov eax, 0x80000001; cpuid; int3 */
static void test_cpuid_features(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49, 0x89, 0xc8, 0x49, 0x89, 0xd1, 0xb8, 0x15, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49, 0x89, 0xca, 0x49, 0x89, 0xdb, 0x49, 0x89, 0xc4, 0xb8, 0x01, 0x00, 0x00, 0x80, 0x0f, 0xa2, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* hypervisor; no x2APIC, TSC deadline, XSAVE, OSXSAVE, AVX */
    CHECK(f->st.regs[GPR_R8] & (1u << 31));
    CHECK_EQ(f->st.regs[GPR_R8] & ((1u << 21) | (1u << 24) | (1u << 26) | (1u << 27) | (1u << 28)), 0);
    /* FPU, TSC, MSR, PAE, CX8, APIC, PGE, CMOV, PAT, FXSR, SSE, SSE2 */
    CHECK_EQ(f->st.regs[GPR_R9] & 0x0701a171u, 0x0701a171u);
    /* TSC = crystal, 1 GHz */
    CHECK_EQ(f->st.regs[GPR_R10], 1000000000u);
    CHECK_EQ(f->st.regs[GPR_R11], 1);
    CHECK_EQ(f->st.regs[GPR_R12], 1);
    /* LM, NX, SYSCALL, RDTSCP */
    CHECK_EQ(f->st.regs[GPR_RDX] & ((1u << 29) | (1u << 20) | (1u << 11) | (1u << 27)), (1u << 29) | (1u << 20) | (1u << 11) | (1u << 27));
}

/* mov rsi, 0x408000; mov rdi, 0x40fff6; mov ecx, 100; rep movsb; int3 */
static void test_rep_movsb_fault_progress(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc6, 0x00, 0x80, 0x40, 0x00, 0x48, 0xc7, 0xc7, 0xf6, 0xff, 0x40, 0x00, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xcc };
    flat_init(f);
    for (int k = 0; k < 100; k++) f->mem[0x8000 + k] = (uint8_t)(k + 1);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    /* 10 bytes fit before the end of the flat range: they are copied and the
     * registers say so when the #PF hits the next byte */
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->res.error_code, PFEC_U | PFEC_W);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->st.regs[GPR_RCX], 90);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x410000);
    CHECK_EQ(f->st.regs[GPR_RSI], 0x40800a);
    CHECK_EQ(f->mem[0xfff6], 1);
    CHECK_EQ(f->mem[0xffff], 10);
    CHECK_EQ(f->st.rip, FLAT_BASE + 19);
}

/* mov rdi, 0x408ff8; mov ecx, 4; mov eax, 0xa5a5a5a5; rep stosd; int3 */
static void test_rep_stosd_across_pages(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0xf8, 0x8f, 0x40, 0x00, 0xb9, 0x04, 0x00, 0x00, 0x00, 0xb8, 0xa5, 0xa5, 0xa5, 0xa5, 0xf3, 0xab, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x409008);
    CHECK_EQ(f->mem[0x8ff8], 0xa5);
    CHECK_EQ(f->mem[0x9007], 0xa5);
    CHECK_EQ(f->mem[0x9008], 0);
}

/* mov rdi, 0x408000; xor ecx, ecx; mov al, 1; rep stosb; repe cmpsb; int3 */
static void test_rep_zero_count(struct flat *f)
{
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00, 0x31, 0xc9, 0xb0, 0x01, 0xf3, 0xaa, 0xf3, 0xa6, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x408000);
    CHECK_EQ(f->mem[0x8000], 0);
}

/* mov eax, 7; xor ecx, ecx; cpuid; int3 */
static void test_tsc_adjust_cpuid(struct flat *f)
{
    static const uint8_t code[] = { 0xb8, 0x07, 0x00, 0x00, 0x00, 0x31, 0xc9, 0x0f, 0xa2, 0xcc };
    flat_init(f);
    flat_run(f, code, sizeof(code), 100000);
    (void)code;
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    /* TSC_ADJUST and ERMS; no BMI1/AVX2/SMEP/BMI2/ERMS-less */
    CHECK_EQ(f->st.regs[GPR_RBX] & ((1u << 1) | (1u << 9)), (1u << 1) | (1u << 9));
    CHECK_EQ(f->st.regs[GPR_RBX] & ((1u << 3) | (1u << 5) | (1u << 7) | (1u << 8)), 0);
}

int main(void)
{
    struct flat *f = calloc(1, sizeof(*f));
    test_sum_loop(f);
    test_rep_movsb(f);
    test_rep_movsb_overlap(f);
    test_rep_stosq_down(f);
    test_repne_scasb_strlen(f);
    test_repe_cmpsb(f);
    test_div_zero(f);
    test_div_overflow(f);
    test_idiv_neg(f);
    test_idiv8_min(f);
    test_ud2(f);
    test_undefined_opcode(f);
    test_invalid_in_64(f);
    test_add_flags(f);
    test_sub_flags(f);
    test_adc_sbb_chain(f);
    test_upper_half(f);
    test_read_fault(f);
    test_write_fault(f);
    test_straddle_fault(f);
    test_noncanonical_gp(f);
    test_mul64(f);
    test_imul_forms(f);
    test_shifts(f);
    test_rcl_rcr(f);
    test_shld_shrd(f);
    test_bitops(f);
    test_popcnt_bswap(f);
    test_cmpxchg_xadd(f);
    test_cmpxchg16b(f);
    test_call_ret(f);
    test_push_pop_mem(f);
    test_enter_leave(f);
    test_cmov_setcc(f);
    test_movzx_movsx_lea(f);
    test_fs_base(f);
    test_privileged_hlt(f);
    test_privileged_in(f);
    test_privileged_cli(f);
    test_privileged_cr(f);
    test_privileged_wrmsr(f);
    test_syscall_ud(f);
    test_int_n(f);
    test_max_insns(f);
    test_cpuid_vendor(f);
    test_unimplemented(f);
    test_lahf_sahf_flags(f);
    test_loop_jrcxz(f);
    test_xchg_nop(f);
    test_neg_not(f);
    test_popf_user(f);
    test_jmp_indirect(f);
    test_fetch_off_end(f);
    test_self_modifying(f);
    test_self_modifying_next(f);
    test_byte_regs_high(f);
    test_ops16(f);
    test_addr32(f);
    test_trap_flag(f);
    test_pause_loop(f);
    test_cpuid_features(f);
    test_rep_movsb_fault_progress(f);
    test_rep_stosd_across_pages(f);
    test_rep_zero_count(f);
    test_tsc_adjust_cpuid(f);
    test_fault_keeps_lazy_flags(f);
    test_fault_keeps_later_flags(f);
    test_jcc_matches_setcc(f);
    test_repe_cmpsb_fault_flags(f);
    if (test_failures)
        fprintf(stderr, "last error: %s\n", err_get());
    free(f);
    TEST_MAIN_END();
}
