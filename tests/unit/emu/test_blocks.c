/* The decoded-block cache (block.c) and block code (jit.c): code changed
 * in guest memory is executed as it now is, whoever changed it and through
 * whichever linear address; a store into the running block takes effect
 * for the next instruction; blocks are found again after the bytes come
 * back; a block that its predecessor's code jumps to directly (chained)
 * still sees a change made since it last ran. Every test runs with block
 * code and again without it (BRUME_NO_JIT=1: exec.c's loop). Blocks
 * compare their bytes with memory only after a change that they are told
 * of (guest_ram_gen, their page's stores), except in an SMP VM. */
#include <stdio.h>
#include <stdlib.h>

#include "../test.h"
#include "sys_util.h"

static bool want_jit;

#define ALIAS 0x1f0000ull  /* a second linear page for the kernel code page */

static struct sysm *new_machine(void)
{
    struct sysm *m = sys_new();
    CHECK_EQ(emu_blocks_init(&m->c), 0);
    CHECK_EQ(m->c.jit_enter != NULL, want_jit);
    wr64(m, SYS_PT + (ALIAS >> 12) * 8, SYS_KCODE | 7);
    return m;
}

static void free_machine(struct sysm *m)
{
    emu_blocks_free(&m->c);
    sys_free(m);
}

/* Runs from rip to a HLT. */
static void run_at(struct sysm *m, uint64_t rip)
{
    m->c.rip = rip;
    m->c.run_state = CPU_RUNNABLE;
    sys_run(m, 10000);
    CHECK_EQ(m->c.exit, EMU_EXIT_HLT);
}

/* The host rewrites code between runs: a device doing DMA, which then
 * moves guest_ram_gen on (as virtq_push does); or, in an SMP VM
 * (cross_modify), another vCPU, which tells nobody. */
static void external_write(bool smp)
{
    struct sysm *m = new_machine();
    m->c.cross_modify = smp;
    static const uint8_t one[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };  /* mov eax, 1; hlt */
    sys_code(m, SYS_KCODE, one, sizeof(one));
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 1);
    m->ram[SYS_KCODE + 1] = 3;  /* mov eax, 3 */
    if (!smp)
        guest_ram_changed();
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 3);
    m->ram[SYS_KCODE + 1] = 1;  /* back to the first form */
    if (!smp)
        guest_ram_changed();
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 1);
    free_machine(m);
}

static void test_external_write(void)
{
    external_write(false);
    external_write(true);
}

/* A store into the running block, through another linear address (an
 * alias of the code page, as Linux's text_poke uses) whose TLB entry was
 * made writable before the page held code; and a store through the code's
 * own address. Both change instructions later in the same block. */
static void test_store_into_running_block(void)
{
    struct sysm *m = new_machine();
    /* at 0x12000: mov rdi, ALIAS; mov byte [rdi + 0x800], 0; jmp 0x10000 */
    static const uint8_t warm[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x1f, 0x00, 0xc6, 0x87, 0x00, 0x08, 0x00, 0x00, 0x00,
                                    0xe9, 0xed, 0xdf, 0xff, 0xff };
    /* at 0x10000: mov rdi, ALIAS + 11; mov byte [rdi + 1], 2; mov eax, 1;
     *             mov byte [0x10019], 5; mov ecx, 1; hlt */
    static const uint8_t code[] = { 0x48, 0xc7, 0xc7, 0x0b, 0x00, 0x1f, 0x00, 0xc6, 0x47, 0x01, 0x02,
                                    0xb8, 0x01, 0x00, 0x00, 0x00,
                                    0xc6, 0x04, 0x25, 0x19, 0x00, 0x01, 0x00, 0x05,
                                    0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4 };
    sys_code(m, 0x12000, warm, sizeof(warm));
    sys_code(m, SYS_KCODE, code, sizeof(code));
    run_at(m, 0x12000);
    CHECK_EQ(m->c.r[GPR_RAX], 2);
    CHECK_EQ(m->c.r[GPR_RCX], 5);
    CHECK_EQ(m->ram[SYS_KCODE + 12], 2);
    /* again, from the patched bytes (the stores write what is there) */
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 2);
    CHECK_EQ(m->c.r[GPR_RCX], 5);
    free_machine(m);
}

/* A loop runs from its block many times; the count is exact. */
static void test_loop_count(void)
{
    struct sysm *m = new_machine();
    /* mov ecx, 1000; xor eax, eax; L: add eax, 2; dec ecx; jnz L; hlt */
    static const uint8_t code[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0x83, 0xc0, 0x02, 0xff, 0xc9, 0x75, 0xf9, 0xf4 };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    uint64_t before = m->c.insns;
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 2000);
    CHECK_EQ(m->c.insns - before, 2 + 3 * 1000 + 1);
    free_machine(m);
}

/* X jumps to Y on the same page; after a few runs X's code jumps to Y's
 * directly. Code on another page then rewrites Y through the alias and
 * jumps to X: Y must run its new bytes (its code checks them on entry). */
static void test_chained_block_rewritten(void)
{
    struct sysm *m = new_machine();
    /* X at KCODE: mov eax, 1; jmp KCODE+0x100 */
    static const uint8_t x[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xe9, 0xf6, 0x00, 0x00, 0x00 };
    /* Y at KCODE+0x100: mov ecx, 7; hlt */
    static const uint8_t y[] = { 0xb9, 0x07, 0x00, 0x00, 0x00, 0xf4 };
    /* at 0x12000: mov rdi, ALIAS + 0x101; mov byte [rdi], 9; jmp KCODE */
    static const uint8_t patch[] = { 0x48, 0xc7, 0xc7, 0x01, 0x01, 0x1f, 0x00, 0xc6, 0x07, 0x09,
                                     0xe9, 0xf1, 0xdf, 0xff, 0xff };
    sys_code(m, SYS_KCODE, x, sizeof(x));
    sys_code(m, SYS_KCODE + 0x100, y, sizeof(y));
    sys_code(m, 0x12000, patch, sizeof(patch));
    for (int k = 0; k < 3; k++) {
        m->c.r[GPR_RCX] = 0;
        run_at(m, SYS_KCODE);
        CHECK_EQ(m->c.r[GPR_RAX], 1);
        CHECK_EQ(m->c.r[GPR_RCX], 7);
    }
    run_at(m, 0x12000);
    CHECK_EQ(m->ram[SYS_KCODE + 0x101], 9);
    CHECK_EQ(m->c.r[GPR_RCX], 9);
    free_machine(m);
}

/* Memory forms that block code does inline (MOV m, imm; MOVZX, MOVSX,
 * MOVSXD loads; MOV load; ALU m, imm; PUSH/POP), in a loop that runs twice so that the
 * second pass takes the TLB fast path. */
static void test_memory_forms(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00,        /* mov rdi, 0x100000 */
        0xb9, 0x02, 0x00, 0x00, 0x00,                    /* mov ecx, 2 */
        0x41, 0xbc, 0x22, 0x11, 0x00, 0x00,              /* mov r12d, 0x1122 */
        0x48, 0xc7, 0x47, 0x08, 0xfb, 0xff, 0xff, 0xff,  /* L: mov qword [rdi+8], -5 */
        0xc7, 0x47, 0x10, 0xf0, 0xf0, 0x01, 0x80,        /* mov dword [rdi+16], 0x8001f0f0 */
        0xc6, 0x47, 0x14, 0xab,                          /* mov byte [rdi+20], 0xab */
        0x0f, 0xb6, 0x47, 0x14,                          /* movzx eax, byte [rdi+20] */
        0x0f, 0xb7, 0x5f, 0x10,                          /* movzx ebx, word [rdi+16] */
        0x48, 0x0f, 0xbe, 0x57, 0x14,                    /* movsx rdx, byte [rdi+20] */
        0x0f, 0xbf, 0x77, 0x10,                          /* movsx esi, word [rdi+16] */
        0x4c, 0x63, 0x47, 0x10,                          /* movsxd r8, dword [rdi+16] */
        0x4c, 0x0f, 0xbf, 0x4f, 0x12,                    /* movsx r9, word [rdi+18] */
        0x4c, 0x8b, 0x57, 0x08,                          /* mov r10, [rdi+8] */
        0x44, 0x63, 0x5f, 0x10,                          /* movsxd r11d, dword [rdi+16]: a MOV */
        0x48, 0x83, 0x47, 0x08, 0x07,                    /* add qword [rdi+8], 7 */
        0x81, 0x67, 0x10, 0xff, 0xff, 0x00, 0x00,        /* and dword [rdi+16], 0xffff */
        0x48, 0x83, 0x7f, 0x08, 0x02,                    /* cmp qword [rdi+8], 2 */
        0x45, 0x31, 0xf6,                                /* xor r14d, r14d */
        0x41, 0x0f, 0x94, 0xc6,                          /* sete r14b */
        0x41, 0x54,                                      /* push r12 */
        0x41, 0x5d,                                      /* pop r13 */
        0xff, 0xc9,                                      /* dec ecx */
        0x75, 0xab,                                      /* jnz L */
        0xf4,                                            /* hlt */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    uint64_t rsp = m->c.r[GPR_RSP];
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 0xab);
    CHECK_EQ(m->c.r[GPR_RBX], 0xf0f0);
    CHECK_EQ(m->c.r[GPR_RDX], 0xffffffffffffffabull);
    CHECK_EQ(m->c.r[GPR_RSI], 0xfffff0f0ull);
    CHECK_EQ(m->c.r[GPR_R8], 0xffffffff8001f0f0ull);
    CHECK_EQ(m->c.r[GPR_R9], 0xffffffffffff8001ull);
    CHECK_EQ(m->c.r[GPR_R10], 0xfffffffffffffffbull);
    CHECK_EQ(m->c.r[GPR_R11], 0x8001f0f0ull);
    CHECK_EQ(m->c.r[GPR_R13], 0x1122);
    CHECK_EQ(m->c.r[GPR_RCX], 0);
    CHECK_EQ(m->c.r[GPR_RSP], rsp);
    CHECK_EQ(m->c.r[GPR_R14], 1);
    CHECK_EQ(rd64(m, 0x100008), 2);
    CHECK_EQ(rd64(m, 0x100010) & 0xffffffffffull, 0xab0000f0f0ull);
    free_machine(m);
}

/* A CALL to a function on its own page and the loop around it: once the
 * blocks are linked, block code jumps from block to block on the page
 * directly (jit_goto), and must still push the return address and land
 * on the target's first instruction. */
static void test_calls_on_one_page(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0xb9, 0x03, 0x00, 0x00, 0x00,  /* mov ecx, 3 */
        0xe8, 0x05, 0x00, 0x00, 0x00,  /* L: call F */
        0xff, 0xc9,                    /* dec ecx */
        0x75, 0xf7,                    /* jnz L */
        0xf4,                          /* hlt */
        0x83, 0xc0, 0x05,              /* F: add eax, 5 */
        0xc3,                          /* ret */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    uint64_t rsp = m->c.r[GPR_RSP];
    for (int k = 1; k <= 3; k++) {
        run_at(m, SYS_KCODE);
        CHECK_EQ(m->c.r[GPR_RAX], 15ull * (unsigned)k);
        CHECK_EQ(m->c.r[GPR_RSP], rsp);
        CHECK_EQ(rd64(m, rsp - 8), SYS_KCODE + 10);
    }
    free_machine(m);
}

/* One function returns to six call sites, more than a block's links
 * follow: its RET finds them through the jump cache. */
static void test_ret_to_many_callers(void)
{
    struct sysm *m = new_machine();
    uint8_t code[0x48] = { 0 };
    unsigned n = 0;
    static const uint8_t head[] = { 0xb9, 0x04, 0x00, 0x00, 0x00 };  /* mov ecx, 4 */
    memcpy(code, head, sizeof(head));
    n = sizeof(head);
    const unsigned loop = n, f = 0x40;
    for (int k = 0; k < 6; k++, n += 5) {  /* L: call F, six times */
        int32_t rel = (int32_t)f - (int32_t)(n + 5);
        code[n] = 0xe8;
        memcpy(code + n + 1, &rel, 4);
    }
    static const uint8_t tail[] = { 0xff, 0xc9, 0x75, 0x00, 0xf4 };  /* dec ecx; jnz L; hlt */
    memcpy(code + n, tail, sizeof(tail));
    code[n + 3] = (uint8_t)(int8_t)((int)loop - (int)(n + 4));
    n += sizeof(tail);
    static const uint8_t fn[] = { 0xff, 0xc0, 0xc3 };  /* F: inc eax; ret */
    memcpy(code + f, fn, sizeof(fn));
    sys_code(m, SYS_KCODE, code, f + sizeof(fn));
    for (int k = 1; k <= 3; k++) {
        run_at(m, SYS_KCODE);
        CHECK_EQ(m->c.r[GPR_RAX], 24ull * (unsigned)k);
        CHECK_EQ(m->c.rip, SYS_KCODE + n);
    }
    free_machine(m);
}

#define TARGET 0x15000ull  /* a page of its own in the 4 KiB page table */

/* A RET to a page that was remapped (INVLPG) runs the new page's code,
 * though the jump cache knew the old one. */
static void test_ret_after_remap(void)
{
    struct sysm *m = new_machine();
    static const uint8_t one[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };  /* mov eax, 1; hlt */
    static const uint8_t two[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xf4 };  /* mov eax, 2; hlt */
    sys_code(m, TARGET, one, sizeof(one));
    sys_code(m, TARGET + 0x1000, two, sizeof(two));
    run_at(m, TARGET);
    CHECK_EQ(m->c.r[GPR_RAX], 1);
    /* mov qword [PT + 0x15 * 8], 0x16003; invlpg [0x15000]; push 0x15000; ret */
    static const uint8_t remap[] = { 0x48, 0xc7, 0x04, 0x25, 0xa8, 0x40, 0x00, 0x00, 0x03, 0x60, 0x01, 0x00,
                                     0x0f, 0x01, 0x3c, 0x25, 0x00, 0x50, 0x01, 0x00,
                                     0x68, 0x00, 0x50, 0x01, 0x00, 0xc3 };
    sys_code(m, SYS_KCODE, remap, sizeof(remap));
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 2);
    free_machine(m);
}

/* User code RETs to a supervisor page whose code the kernel ran (and the
 * jump cache holds): a #PF, not the kernel's code at CPL 3. */
static void test_user_ret_to_kernel_page(void)
{
    struct sysm *m = new_machine();
    /* #PF handler: mov rbx, [rsp] (the error code); mov rcx, [rsp+8] (RIP); hlt */
    static const uint8_t on_pf[] = { 0x48, 0x8b, 0x1c, 0x24, 0x48, 0x8b, 0x4c, 0x24, 0x08, 0xf4 };
    sys_code(m, 0x30000, on_pf, sizeof(on_pf));
    sys_gate(m, EXC_PF, 0x30000, 0xe, 0, 0);
    wr64(m, SYS_PT + (TARGET >> 12) * 8, TARGET | 3);  /* present, writable, supervisor */
    static const uint8_t seven[] = { 0xb8, 0x07, 0x00, 0x00, 0x00, 0xf4 };  /* mov eax, 7; hlt */
    sys_code(m, TARGET, seven, sizeof(seven));
    run_at(m, TARGET);
    CHECK_EQ(m->c.r[GPR_RAX], 7);
    m->c.r[GPR_RAX] = 0;
    /* to CPL 3 at UCODE: push 0x23; push USTACK; push 0x202; push 0x2b; push UCODE; iretq */
    static const uint8_t to_user[] = { 0x6a, 0x23, 0x68, 0x00, 0x00, 0x0b, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00,
                                       0x6a, 0x2b, 0x68, 0x00, 0x00, 0x02, 0x00, 0x48, 0xcf };
    static const uint8_t user[] = { 0x68, 0x00, 0x50, 0x01, 0x00, 0xc3 };  /* push TARGET; ret */
    sys_code(m, SYS_KCODE, to_user, sizeof(to_user));
    sys_code(m, SYS_UCODE, user, sizeof(user));
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.rip, 0x30000 + sizeof(on_pf));
    CHECK_EQ(m->c.r[GPR_RBX], 0x15);  /* present, user, instruction fetch */
    CHECK_EQ(m->c.r[GPR_RCX], TARGET);
    CHECK_EQ(m->c.r[GPR_RAX], 0);
    free_machine(m);
}

/* Register forms that block code does inline, with the values where a
 * wrong width or extension shows: LEA r32 (the upper half cleared), MOVZX
 * from AH, MOVSXD of a negative value, IMUL's overflow (SETO). */
static void test_register_forms(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0xbf, 0xff, 0xff, 0xff, 0xff,              /* mov edi, 0xffffffff */
        0x8d, 0x47, 0x02,                          /* lea eax, [rdi+2]: 2^32 + 1 in 64 bits */
        0x48, 0xc7, 0xc1, 0x00, 0xab, 0x00, 0x00,  /* mov rcx, 0xab00 */
        0x0f, 0xb6, 0xd5,                          /* movzx edx, ch */
        0x48, 0x63, 0xf7,                          /* movsxd rsi, edi */
        0x49, 0xc7, 0xc0, 0x00, 0x00, 0x00, 0x40,  /* mov r8, 0x40000000 */
        0x4d, 0x0f, 0xaf, 0xc0,                    /* imul r8, r8 */
        0x41, 0x0f, 0x90, 0xc1,                    /* seto r9b */
        0x4c, 0x89, 0xc3,                          /* mov rbx, r8 */
        0x41, 0xb8, 0x00, 0x00, 0x01, 0x00,        /* mov r8d, 0x10000 */
        0x45, 0x0f, 0xaf, 0xc0,                    /* imul r8d, r8d */
        0x41, 0x0f, 0x90, 0xc2,                    /* seto r10b */
        0xf4,                                      /* hlt */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    m->c.r[GPR_R9] = m->c.r[GPR_R10] = 0;
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 1);
    CHECK_EQ(m->c.r[GPR_RDX], 0xab);
    CHECK_EQ(m->c.r[GPR_RSI], ~0ull);
    CHECK_EQ(m->c.r[GPR_RBX], 1ull << 60);
    CHECK_EQ(m->c.r[GPR_R9], 0);              /* 2^30 * 2^30 fits in 64 bits */
    CHECK_EQ(m->c.r[GPR_R8], 0);              /* 2^32: its low 32 bits */
    CHECK_EQ(m->c.r[GPR_R10] & 0xff, 1);      /* and it does not fit in 32 */
    free_machine(m);
}

/* Every condition, after flag-setting instructions of every kind and
 * size, decided by block code (which redoes the operation on the host
 * when it can: jit_cond) and by the handlers alone (a CPU without a block
 * cache, which the diff tests compare with the host): SETcc, CMOVcc and
 * Jcc must agree. */
static void test_conditions(void)
{
    static const struct { uint8_t n, b[4]; } ops[] = {
        { 3, { 0x48, 0x39, 0xc8 } }, { 2, { 0x39, 0xc8 } }, { 3, { 0x66, 0x39, 0xc8 } }, { 2, { 0x38, 0xc8 } },  /* cmp */
        { 3, { 0x48, 0x01, 0xc8 } }, { 2, { 0x01, 0xc8 } }, { 3, { 0x66, 0x01, 0xc8 } }, { 2, { 0x00, 0xc8 } },  /* add */
        { 3, { 0x48, 0x29, 0xc8 } }, { 2, { 0x28, 0xc8 } },                                                  /* sub */
        { 3, { 0x48, 0x85, 0xc8 } }, { 2, { 0x84, 0xc8 } }, { 3, { 0x66, 0x21, 0xc8 } }, { 2, { 0x31, 0xc8 } },  /* test, and, xor */
        { 3, { 0x48, 0xff, 0xc0 } }, { 2, { 0xff, 0xc8 } }, { 2, { 0xfe, 0xc0 } },                           /* inc, dec */
        { 3, { 0x48, 0xd1, 0xe0 } }, { 3, { 0xc1, 0xe8, 0x05 } }, { 4, { 0x48, 0x0f, 0xaf, 0xc1 } },         /* shl, shr, imul */
        { 3, { 0x48, 0xf7, 0xd8 } }, { 3, { 0x48, 0x11, 0xc8 } },                                            /* neg, adc */
    };
    static const uint64_t vals[] = { 0, 1, ~0ull, 0x7f, 0x80, 0x8000, 0x7fffffff, 0x80000000, 0x7fffffffffffffffull };
    const unsigned nv = sizeof(vals) / sizeof(vals[0]);
    struct sysm *jit = new_machine(), *ref = sys_new();
    for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
        for (unsigned cc = 0; cc < 16; cc++) {
            /* mov rax, imm64; mov rcx, imm64; op; setcc r9b; cmovcc r10, r11; cmovcc r12d, r11d;
             * jcc +2; mov dl, 1; hlt */
            uint8_t code[48];
            unsigned n = 0;
            code[n++] = 0x48, code[n++] = 0xb8, n += 8;
            code[n++] = 0x48, code[n++] = 0xb9, n += 8;
            memcpy(code + n, ops[o].b, ops[o].n);
            n += ops[o].n;
            const uint8_t tail[] = { 0x41, 0x0f, (uint8_t)(0x90 + cc), 0xc1, 0x4d, 0x0f, (uint8_t)(0x40 + cc), 0xd3,
                                     0x45, 0x0f, (uint8_t)(0x40 + cc), 0xe3,  /* cmovcc r12d, r11d */
                                     (uint8_t)(0x70 + cc), 0x02, 0xb2, 0x01, 0xf4 };
            memcpy(code + n, tail, sizeof(tail));
            n += sizeof(tail);
            for (unsigned a = 0; a < nv; a++)
                for (unsigned b = 0; b < nv; b++) {
                    memcpy(code + 2, &vals[a], 8);
                    memcpy(code + 12, &vals[b], 8);
                    struct sysm *ms[2] = { jit, ref };
                    uint64_t out[2][5];
                    for (int k = 0; k < 2; k++) {
                        struct sysm *m = ms[k];
                        sys_code(m, 0x100000, code, n);
                        guest_ram_changed();  /* as a device would after writing code */
                        m->c.r[GPR_RDX] = m->c.r[GPR_R9] = m->c.r[GPR_R10] = 0;
                        m->c.r[GPR_R11] = 0x55;
                        m->c.r[GPR_R12] = 0xffffffff00000077ull;  /* a false CMOV r32 still clears the top */
                        m->c.rflags = RFLAGS_FIXED | (b & 1 ? RFLAGS_CF : 0);  /* ADC's carry in */
                        m->c.lf.op = LF_NONE;
                        run_at(m, 0x100000);
                        out[k][0] = m->c.r[GPR_R9] & 0xff;
                        out[k][1] = m->c.r[GPR_R10];
                        out[k][2] = m->c.r[GPR_RDX] & 0xff;
                        out[k][3] = m->c.r[GPR_RAX];
                        out[k][4] = m->c.r[GPR_R12];
                    }
                    if (memcmp(out[0], out[1], sizeof(out[0]))) {
                        fprintf(stderr, "op %u cc %u a %#llx b %#llx: setcc %llu/%llu cmov %#llx/%#llx jcc %llu/%llu\n", o, cc,
                                (unsigned long long)vals[a], (unsigned long long)vals[b],
                                (unsigned long long)out[0][0], (unsigned long long)out[1][0],
                                (unsigned long long)out[0][1], (unsigned long long)out[1][1],
                                (unsigned long long)out[0][2], (unsigned long long)out[1][2]);
                        CHECK(false);
                        goto done;
                    }
                }
        }
done:
    free_machine(jit);
    sys_free(ref);
}

/* MOV r, m and MOV m, r with FS and GS (per-CPU data, thread-local
 * storage): the base is added, on the fast path (second pass of the loop)
 * as on the handler's. */
static void test_fs_gs_forms(void)
{
    struct sysm *m = new_machine();
    /* The bases are one page and two pages: an address that missed its
     * base would be another mapped page, which the plain loads put in
     * the TLB. */
    static const uint8_t code[] = {
        0xb9, 0x02, 0x00, 0x00, 0x00,                          /* mov ecx, 2 */
        0x4c, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x10, 0x00,        /* L: mov r8, [0x100010] */
        0x4c, 0x8b, 0x0c, 0x25, 0x20, 0x00, 0x10, 0x00,        /* mov r9, [0x100020] */
        0x65, 0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x10, 0x00,  /* mov rax, gs:[0x100010] */
        0x65, 0x48, 0x89, 0x04, 0x25, 0x18, 0x00, 0x10, 0x00,  /* mov gs:[0x100018], rax */
        0x64, 0x8b, 0x14, 0x25, 0x20, 0x00, 0x10, 0x00,        /* mov edx, fs:[0x100020] */
        0x64, 0x89, 0x0c, 0x25, 0x28, 0x00, 0x10, 0x00,        /* mov fs:[0x100028], ecx */
        0xff, 0xc9,                                            /* dec ecx */
        0x75, 0xca,                                            /* jnz L */
        0xf4,                                                  /* hlt */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    m->c.seg[SEG_GS].base = 0x1000;
    m->c.seg[SEG_FS].base = 0x2000;
    wr64(m, 0x100010, 1);
    wr64(m, 0x100020, 2);
    wr64(m, 0x101010, 0x1122334455667788ull);
    wr64(m, 0x102020, 0xffffffffcafef00dull);
    run_at(m, SYS_KCODE);
    CHECK_EQ(rd64(m, 0x101018), 0x1122334455667788ull);
    CHECK_EQ(m->c.r[GPR_RDX], 0xcafef00d);
    CHECK_EQ(rd64(m, 0x102028), 1);  /* the second pass stored ECX = 1 */
    CHECK_EQ(rd64(m, 0x100018), 0);  /* nothing went to the base-less addresses */
    CHECK_EQ(rd64(m, 0x100028), 0);
    free_machine(m);
}

/* ALU ops between a register and memory, both ways, and TEST m, r: the
 * loop runs twice, so the second pass takes the TLB fast path. */
static void test_alu_memory_forms(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0xb9, 0x02, 0x00, 0x00, 0x00,              /* mov ecx, 2 */
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00,  /* mov rdi, 0x100000 */
        0xba, 0xff, 0xff, 0x00, 0x00,              /* mov edx, 0xffff */
        0xbe, 0x10, 0x00, 0x00, 0x00,              /* mov esi, 0x10 */
        0xb8, 0x05, 0x00, 0x00, 0x00,              /* L: mov eax, 5 */
        0x48, 0x03, 0x47, 0x08,                    /* add rax, [rdi+8] */
        0x48, 0x29, 0x47, 0x10,                    /* sub [rdi+16], rax */
        0x39, 0x47, 0x18,                          /* cmp [rdi+24], eax */
        0x41, 0x0f, 0x94, 0xc0,                    /* sete r8b */
        0x23, 0x57, 0x20,                          /* and edx, [rdi+32] */
        0x48, 0x85, 0x77, 0x28,                    /* test [rdi+40], rsi */
        0x41, 0x0f, 0x95, 0xc1,                    /* setne r9b */
        0xff, 0xc9,                                /* dec ecx */
        0x75, 0xdd,                                /* jnz L */
        0xf4,                                      /* hlt */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    wr64(m, 0x100008, 10);
    wr64(m, 0x100010, 100);
    wr64(m, 0x100018, 15);
    wr64(m, 0x100020, 0xf0f0);
    wr64(m, 0x100028, 0x30);
    m->c.r[GPR_R8] = m->c.r[GPR_R9] = 0;
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 15);
    CHECK_EQ(rd64(m, 0x100010), 70);  /* 100 - 15 - 15: both passes wrote */
    CHECK_EQ(m->c.r[GPR_R8] & 0xff, 1);
    CHECK_EQ(m->c.r[GPR_RDX], 0xf0f0);
    CHECK_EQ(m->c.r[GPR_R9] & 0xff, 1);
    free_machine(m);
}

/* Byte forms with memory (MOV both ways, ALU m8, r8 and r8, m8, group 1
 * m8, imm8), with DH (no REX) among the registers; twice round a loop. */
static void test_byte_memory_forms(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0xb9, 0x02, 0x00, 0x00, 0x00,              /* mov ecx, 2 */
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00,  /* mov rdi, 0x100000 */
        0xba, 0x34, 0x12, 0x00, 0x00,              /* mov edx, 0x1234 */
        0x8a, 0x47, 0x01,                          /* L: mov al, [rdi+1] */
        0x88, 0x77, 0x02,                          /* mov [rdi+2], dh */
        0x00, 0x57, 0x03,                          /* add [rdi+3], dl */
        0x3a, 0x5f, 0x04,                          /* cmp bl, [rdi+4] */
        0x41, 0x0f, 0x94, 0xc0,                    /* sete r8b */
        0x80, 0x6f, 0x05, 0x03,                    /* sub byte [rdi+5], 3 */
        0xff, 0xc9,                                /* dec ecx */
        0x75, 0xe8,                                /* jnz L */
        0xf4,                                      /* hlt */
    };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    wr64(m, 0x100000, 0x0000204210007700ull);  /* [1] 0x77, [3] 0x10, [4] 0x42, [5] 0x20 */
    m->c.r[GPR_RAX] = 0xaaaa;
    m->c.r[GPR_RBX] = 0x42;
    m->c.r[GPR_R8] = 0;
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 0xaa77);  /* MOV r8 keeps the rest */
    CHECK_EQ(rd64(m, 0x100000), 0x00001a4278127700ull);
    CHECK_EQ(m->c.r[GPR_R8] & 0xff, 1);
    free_machine(m);
}

/* Code rewritten 2000 times, one block at a time (a JIT in the guest):
 * each run must see the new byte; the replaced blocks leave their page's
 * list (block.c), and none of them runs again. */
static void test_code_rewritten_often(void)
{
    struct sysm *m = new_machine();
    static const uint8_t code[] = {
        0xb9, 0xd0, 0x07, 0x00, 0x00,              /* mov ecx, 2000 */
        0x88, 0x0c, 0x25, 0x01, 0x50, 0x01, 0x00,  /* L: mov [TARGET + 1], cl */
        0xe8, 0xef, 0x4f, 0x00, 0x00,              /* call TARGET */
        0x01, 0xc3,                                /* add ebx, eax */
        0xff, 0xc9,                                /* dec ecx */
        0x75, 0xee,                                /* jnz L */
        0xf4,                                      /* hlt */
    };
    static const uint8_t target[] = { 0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3 };  /* mov eax, imm32; ret */
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_code(m, TARGET, target, sizeof(target));
    m->c.r[GPR_RBX] = 0;
    m->c.rip = SYS_KCODE;
    m->c.run_state = CPU_RUNNABLE;
    sys_run(m, 100000);
    CHECK_EQ(m->c.exit, EMU_EXIT_HLT);
    /* the sum of (2000 - k) & 0xff over k = 0..1999: each call returned
     * the byte just written */
    uint64_t want = 0;
    for (unsigned k = 0; k < 2000; k++)
        want += (2000 - k) & 0xff;
    CHECK_EQ(m->c.r[GPR_RBX], want);
    free_machine(m);
}

/* A block replaced by one decoded from new bytes must never run again,
 * even when its old bytes come back: the caller's code still jumps to it
 * (a link made when it was current), and it is no longer on its page's
 * list, so a later store would not clear its check slot. */
static void test_replaced_block_stays_dead(void)
{
    struct sysm *m = new_machine();
    static const uint8_t caller[] = { 0xe8, 0xfb, 0x4f, 0x00, 0x00, 0xf4 };  /* call TARGET; hlt */
    static const uint8_t target[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 };  /* mov eax, imm32; ret */
    static const uint8_t poke[] = { 0xc6, 0x04, 0x25, 0x01, 0x50, 0x01, 0x00, 0x03, 0xf4 };  /* mov byte [TARGET+1], 3; hlt */
    sys_code(m, SYS_KCODE, caller, sizeof(caller));
    sys_code(m, TARGET, target, sizeof(target));
    sys_code(m, 0x12000, poke, sizeof(poke));
    static const uint8_t values[] = { 1, 1, 2, 1 };  /* written by a device (the host) */
    for (unsigned k = 0; k < sizeof(values); k++) {
        m->ram[TARGET + 1] = values[k];
        guest_ram_changed();
        m->c.r[GPR_RSP] = SYS_KSTACK;
        run_at(m, SYS_KCODE);
        CHECK_EQ(m->c.r[GPR_RAX], values[k]);
    }
    run_at(m, 0x12000);  /* a store by this vCPU: the page's blocks check again */
    m->c.r[GPR_RSP] = SYS_KSTACK;
    run_at(m, SYS_KCODE);
    CHECK_EQ(m->c.r[GPR_RAX], 3);
    free_machine(m);
}

static void run_all(void)
{
    test_replaced_block_stays_dead();
    test_code_rewritten_often();
    test_byte_memory_forms();
    test_alu_memory_forms();
    test_fs_gs_forms();
    test_conditions();
    test_register_forms();
    test_ret_to_many_callers();
    test_ret_after_remap();
    test_user_ret_to_kernel_page();
    test_calls_on_one_page();
    test_memory_forms();
    test_external_write();
    test_store_into_running_block();
    test_loop_count();
    test_chained_block_rewritten();
}

int main(void)
{
    unsetenv("BRUME_NO_JIT");
    want_jit = true;
    run_all();
    setenv("BRUME_NO_JIT", "1", 1);
    want_jit = false;
    run_all();
    TEST_MAIN_END();
}
