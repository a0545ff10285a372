/* Exception and interrupt delivery in long mode: IDT gates, error codes,
 * CPL changes through the TSS RSP0, IST stacks, IRETQ to CPL 3, #DF, triple
 * fault, SYSCALL/SYSRET, external interrupts. */
#include "../test.h"
#include "sys_util.h"

/* handler: mov rbx,[rsp]; mov rcx,[rsp+8]; mov rdx,[rsp+16]; mov rsi,[rsp+24]; mov rdi,[rsp+32]; mov rbp,rsp; hlt */
static const uint8_t h_frame[] = { 0x48, 0x8b, 0x1c, 0x24, 0x48, 0x8b, 0x4c, 0x24, 0x08, 0x48, 0x8b, 0x54, 0x24, 0x10,
                                   0x48, 0x8b, 0x74, 0x24, 0x18, 0x48, 0x8b, 0x7c, 0x24, 0x20, 0x48, 0x89, 0xe5, 0xf4 };
/* to CPL 3: push 0x23; push 0xb0000; push 0x202; push 0x2b; push 0x20000; iretq */
static const uint8_t k_to_user[] = { 0x6a, 0x23, 0x68, 0x00, 0x00, 0x0b, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00,
                                     0x6a, 0x2b, 0x68, 0x00, 0x00, 0x02, 0x00, 0x48, 0xcf };

#define H_BP 0x30000
#define H_PF 0x30100
#define H_GP 0x30200
#define H_80 0x30300
#define H_DF 0x30400
#define H_40 0x30500

static struct sysm *setup(void)
{
    struct sysm *m = sys_new();
    sys_code(m, H_BP, h_frame, sizeof(h_frame));
    sys_code(m, H_PF, h_frame, sizeof(h_frame));
    sys_code(m, H_GP, h_frame, sizeof(h_frame));
    sys_code(m, H_80, h_frame, sizeof(h_frame));
    sys_code(m, H_DF, h_frame, sizeof(h_frame));
    sys_code(m, H_40, h_frame, sizeof(h_frame));
    sys_gate(m, EXC_BP, H_BP, 0xf, 3, 0);
    sys_gate(m, EXC_PF, H_PF, 0xe, 0, 0);
    sys_gate(m, EXC_GP, H_GP, 0xe, 0, 0);
    sys_gate(m, 0x80, H_80, 0xe, 3, 0);
    sys_gate(m, EXC_DF, H_DF, 0xe, 0, 1);
    sys_gate(m, 0x40, H_40, 0xe, 0, 0);
    return m;
}

static bool halted_in(struct sysm *m, uint64_t handler)
{
    return m->c.exit == EMU_EXIT_HLT && m->c.rip == handler + sizeof(h_frame);
}

static void test_int3_same_cpl(void)
{
    struct sysm *m = setup();
    static const uint8_t code[] = { 0x90, 0xcc, 0xf4 };  /* nop; int3; hlt */
    sys_code(m, SYS_KCODE, code, sizeof(code));
    m->c.rflags |= RFLAGS_IF;
    sys_run(m, 100);
    CHECK(halted_in(m, H_BP));
    CHECK_EQ(m->c.r[GPR_RBX], SYS_KCODE + 2);            /* RIP after INT3 */
    CHECK_EQ(m->c.r[GPR_RCX], SEL_KCODE);
    CHECK_EQ(m->c.r[GPR_RDX] & RFLAGS_IF, RFLAGS_IF);
    CHECK_EQ(m->c.r[GPR_RSI], SYS_KSTACK);                /* old RSP */
    CHECK_EQ(m->c.r[GPR_RDI], SEL_KDATA);
    CHECK_EQ(m->c.r[GPR_RBP], SYS_KSTACK - 40);
    CHECK(m->c.rflags & RFLAGS_IF);                       /* trap gate keeps IF */
    sys_free(m);
}

static void test_page_fault_error_code(void)
{
    struct sysm *m = setup();
    /* mov rax, [0x7000000]; hlt */
    static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x07, 0xf4 };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    m->c.rflags |= RFLAGS_IF;
    sys_run(m, 100);
    CHECK(halted_in(m, H_PF));
    CHECK_EQ(m->c.r[GPR_RBX], 0);                         /* error code: supervisor read, not present */
    CHECK_EQ(m->c.r[GPR_RCX], SYS_KCODE);                 /* faulting RIP */
    CHECK_EQ(m->c.cr2, 0x7000000);
    CHECK(!(m->c.rflags & RFLAGS_IF));                    /* interrupt gate clears IF */
    CHECK(m->c.r[GPR_RSI] & RFLAGS_RF);                   /* RIP, CS, RFLAGS(+RF): frame shifted by the error code */
    sys_free(m);
}

static void test_user_to_kernel(void)
{
    struct sysm *m = setup();
    static const uint8_t user[] = { 0xcd, 0x80 };  /* int 0x80 */
    sys_code(m, SYS_KCODE, k_to_user, sizeof(k_to_user));
    sys_code(m, SYS_UCODE, user, sizeof(user));
    sys_run(m, 100);
    CHECK(halted_in(m, H_80));
    CHECK_EQ(m->c.cpl, 0);
    CHECK_EQ(m->c.r[GPR_RBX], SYS_UCODE + 2);
    CHECK_EQ(m->c.r[GPR_RCX], SEL_UCODE | 3);
    CHECK_EQ(m->c.r[GPR_RSI], SYS_USTACK);
    CHECK_EQ(m->c.r[GPR_RDI], SEL_UDATA | 3);
    CHECK_EQ(m->c.r[GPR_RBP], SYS_RSP0 - 40);             /* on the TSS RSP0 stack */
    CHECK_EQ(m->c.seg[SEG_SS].selector, 0);               /* SS is NULL after the CPL change */
    sys_free(m);
}

static void test_user_privileged_gp(void)
{
    struct sysm *m = setup();
    static const uint8_t user[] = { 0xf4 };  /* hlt at CPL 3 */
    sys_code(m, SYS_KCODE, k_to_user, sizeof(k_to_user));
    sys_code(m, SYS_UCODE, user, sizeof(user));
    sys_run(m, 100);
    CHECK(halted_in(m, H_GP));
    CHECK_EQ(m->c.r[GPR_RBX], 0);                         /* error code */
    CHECK_EQ(m->c.r[GPR_RCX], SYS_UCODE);
    CHECK_EQ(m->c.r[GPR_RDX], SEL_UCODE | 3);
    CHECK_EQ(m->c.r[GPR_RBP], SYS_RSP0 - 48);
    sys_free(m);
}

static void test_user_int_dpl(void)
{
    struct sysm *m = setup();
    static const uint8_t user[] = { 0xcd, 0x40 };  /* int 0x40: gate DPL 0 -> #GP(0x40*8+2) */
    sys_code(m, SYS_KCODE, k_to_user, sizeof(k_to_user));
    sys_code(m, SYS_UCODE, user, sizeof(user));
    sys_run(m, 100);
    CHECK(halted_in(m, H_GP));
    CHECK_EQ(m->c.r[GPR_RBX], 0x40 * 8 + 2);
    CHECK_EQ(m->c.r[GPR_RCX], SYS_UCODE);
    sys_free(m);
}

static void test_double_fault_ist(void)
{
    struct sysm *m = setup();
    /* #PF's gate is not present: #PF then #NP -> #DF on IST1 */
    wr64(m, SYS_IDT + EXC_PF * 16, 0);
    static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x07, 0xf4 };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_run(m, 100);
    CHECK(halted_in(m, H_DF));
    CHECK_EQ(m->c.r[GPR_RBX], 0);                         /* #DF error code 0 */
    CHECK_EQ(m->c.r[GPR_RBP], SYS_IST1 - 48);
    sys_free(m);
}

static void test_triple_fault(void)
{
    struct sysm *m = setup();
    m->c.idt.limit = 0;
    static const uint8_t code[] = { 0x0f, 0x0b };  /* ud2 */
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_run(m, 100);
    CHECK_EQ(m->c.exit, EMU_EXIT_TRIPLE_FAULT);
    CHECK(strstr(m->c.exit_msg, "triple fault at RIP 0x10000") != NULL);
    sys_free(m);
}

static void test_syscall_sysret(void)
{
    struct sysm *m = setup();
    /* user: syscall; mov eax, 7; L: jmp L */
    static const uint8_t user[] = { 0x0f, 0x05, 0xb8, 0x07, 0x00, 0x00, 0x00, 0xeb, 0xfe };
    /* kernel entry: mov r8, rcx; mov r9, r11; add r11, 0; sysretq */
    static const uint8_t entry[] = { 0x49, 0x89, 0xc8, 0x4d, 0x89, 0xd9, 0x49, 0x83, 0xc3, 0x00, 0x48, 0x0f, 0x07 };
    sys_code(m, SYS_KCODE, k_to_user, sizeof(k_to_user));
    sys_code(m, SYS_UCODE, user, sizeof(user));
    sys_code(m, 0x31000, entry, sizeof(entry));
    m->c.msr.lstar = 0x31000;
    m->c.msr.sfmask = RFLAGS_IF;
    sys_run(m, 6 + 1 + 4 + 1 + 5);
    CHECK_EQ(m->c.cpl, 3);
    CHECK_EQ(m->c.r[GPR_R8], SYS_UCODE + 2);
    CHECK_EQ(m->c.r[GPR_R9] & RFLAGS_IF, RFLAGS_IF);
    CHECK_EQ(m->c.r[GPR_RAX], 7);
    CHECK_EQ(m->c.rip, SYS_UCODE + 7);
    CHECK_EQ(m->c.seg[SEG_CS].selector, SEL_UCODE | 3);
    CHECK_EQ(m->c.seg[SEG_SS].selector, SEL_UDATA | 3);
    CHECK(m->c.rflags & RFLAGS_IF);
    sys_free(m);
}

static void test_external_interrupt(void)
{
    struct sysm *m = setup();
    static const uint8_t code[] = { 0xeb, 0xfe };  /* L: jmp L */
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_gate(m, 0x41, H_40, 0xe, 0, 0);
    m->c.rflags |= RFLAGS_IF;
    sys_run(m, 10);
    emu_deliver(&m->c, 0x41, true);
    sys_run(m, 100);
    CHECK(halted_in(m, H_40));
    CHECK_EQ(m->c.r[GPR_RBX], SYS_KCODE);                 /* interrupted RIP, no error code */
    CHECK(!(m->c.r[GPR_RDX] & RFLAGS_RF));
    sys_free(m);
}

static void test_port_io(void)
{
    struct sysm *m = setup();
    /* mov dx, 0x3f8; mov al, 0x41; out dx, al; in eax, 0x60; hlt */
    static const uint8_t code[] = { 0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xe5, 0x60, 0xf4 };
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_run(m, 100);
    CHECK_EQ(m->c.exit, EMU_EXIT_HLT);
    CHECK_EQ(m->c.run_state, CPU_HALTED);
    CHECK_EQ(m->last_out, 0x41);
    CHECK_EQ(m->last_port, 0x60);
    CHECK_EQ(m->c.r[GPR_RAX], 0x12345678);
    sys_free(m);
}

int main(void)
{
    test_int3_same_cpl();
    test_page_fault_error_code();
    test_user_to_kernel();
    test_user_privileged_gp();
    test_user_int_dpl();
    test_double_fault_ist();
    test_triple_fault();
    test_syscall_sysret();
    test_external_interrupt();
    test_port_io();
    TEST_MAIN_END();
}
