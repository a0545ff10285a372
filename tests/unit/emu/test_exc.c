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

/* An application processor's start-up path: real mode at 0800:0000 (SIPI
 * vector 8), LGDT/LIDT, CR0.PE, far jump to 32-bit code, CR4.PAE, CR3,
 * EFER.LME via WRMSR, CR0.PG, far jump to 64-bit code:
 *   cli; mov ax,cs; mov ds,ax; mov ss,ax; mov sp,0x1000; push 0x1234; pop bx
 *   lgdtd [gdtr]; lidtd [idtr]; mov eax,1; mov cr0,eax; jmp 0x38:pm32
 *   pm32: mov eax,0x10; mov ds,ax; mov ss,ax; mov esp,0x80000; mov eax,0x20; mov cr4,eax
 *         mov eax,0x1000; mov cr3,eax; mov ecx,0xc0000080; rdmsr; or eax,0x900; wrmsr
 *         mov eax,0x80010033; mov cr0,eax; jmp 0x08:lm64
 *   lm64: mov rax,0x123456789; lea rcx,[rip]; hlt */
static void test_trampoline(void)
{
    static const uint8_t code[] = { 0xfa, 0x8c, 0xc8, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x10, 0x68, 0x34, 0x12, 0x5b, 0x66, 0x0f, 0x01, 0x16, 0x78, 0x00, 0x66, 0x0f, 0x01, 0x1e, 0x7e, 0x00, 0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x2b, 0x80, 0x00, 0x00, 0x38, 0x00, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x00, 0x08, 0x00, 0xb8, 0x20, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0xb8, 0x00, 0x10, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x09, 0x00, 0x00, 0x0f, 0x30, 0xb8, 0x33, 0x00, 0x01, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x66, 0x80, 0x00, 0x00, 0x08, 0x00, 0x48, 0xb8, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x0d, 0x00, 0x00, 0x00, 0x00, 0xf4, 0x3f, 0x00, 0x00, 0x50, 0x00, 0x00, 0xff, 0x0f, 0x00, 0x60, 0x00, 0x00 };
    struct sysm *m = sys_new();
    wr64(m, SYS_GDT + 0x38, 0x00cf9b000000ffffull);  /* 32-bit kernel code */
    sys_code(m, 0x8000, code, sizeof(code));
    emu_cpu_reset(&m->c);
    m->c.seg[SEG_CS].selector = 0x0800;
    m->c.seg[SEG_CS].base = 0x8000;
    m->c.rip = 0;
    emu_update_mode(&m->c);
    CHECK_EQ(m->c.mode, MODE_REAL);
    sys_run(m, 100);
    CHECK_EQ(m->c.exit, EMU_EXIT_HLT);
    CHECK_EQ(m->c.mode, MODE_LONG64);
    CHECK_EQ(m->c.r[GPR_RBX] & 0xffff, 0x1234);
    CHECK_EQ(m->c.r[GPR_RAX], 0x123456789ull);
    CHECK_EQ(m->c.r[GPR_RCX], 0x8000 + 0x77);   /* RIP after the LEA */
    CHECK_EQ(m->c.r[GPR_RSP], 0x80000);
    CHECK_EQ(m->c.seg[SEG_CS].selector, SEL_KCODE);
    CHECK_EQ(m->c.seg[SEG_DS].selector, SEL_KDATA);
    CHECK(m->c.msr.efer & EFER_LMA);
    CHECK_EQ(m->c.gdt.base, SYS_GDT);
    CHECK_EQ(m->c.idt.limit, 0xfff);
    sys_free(m);
}

/* mov ecx,0x20; lsl eax,ecx; setz bl; mov ecx,0x28; verw cx; setz bh; verr cx; setz dl;
 * mov ecx,0x08; lar esi,ecx; xor ecx,ecx; lsl edi,ecx; setz dh; hlt */
static void test_lsl_lar_verw(void)
{
    static const uint8_t code[] = { 0xb9, 0x20, 0x00, 0x00, 0x00, 0x0f, 0x03, 0xc1, 0x0f, 0x94, 0xc3, 0xb9, 0x28, 0x00, 0x00,
                                    0x00, 0x0f, 0x00, 0xe9, 0x0f, 0x94, 0xc7, 0x0f, 0x00, 0xe1, 0x0f, 0x94, 0xc2, 0xb9, 0x08,
                                    0x00, 0x00, 0x00, 0x0f, 0x02, 0xf1, 0x31, 0xc9, 0x0f, 0x03, 0xf9, 0x0f, 0x94, 0xc6, 0xf4 };
    struct sysm *m = sys_new();
    sys_code(m, SYS_KCODE, code, sizeof(code));
    sys_run(m, 100);
    CHECK_EQ(m->c.exit, EMU_EXIT_HLT);
    CHECK_EQ(m->c.r[GPR_RAX], 0xffffffffull);   /* LSL of the user data segment */
    CHECK_EQ(m->c.r[GPR_RBX] & 0xffff, 0x0001); /* ZF from LSL; VERW of code: ZF=0 */
    CHECK_EQ(m->c.r[GPR_RDX] & 0xffff, 0x0001); /* VERR of readable code: ZF=1; LSL of null: ZF=0 */
    CHECK_EQ(m->c.r[GPR_RSI], 0x00a09b00);      /* LAR of the 64-bit kernel code segment */
    sys_free(m);
}

/* 32-bit code in compatibility mode: the BCD adjustments, PUSHA/POPA and
 * BOUND (#BR through the long-mode IDT). Source: daa/das/aaa/aam/aad on
 * the SDM's examples, results stored at 0x100000.., pusha/popa round trip,
 * bound eax,[lo,hi] with 15 in [10,20], then 21 (faults). */
static void test_compat_legacy(void)
{
    static const uint8_t code[] = { 0xb0, 0x79, 0x04, 0x35, 0x27, 0x0f, 0x92, 0xc4, 0x66, 0xa3, 0x00, 0x00, 0x10, 0x00, 0xb0, 0x35, 0x2c, 0x47, 0x2f, 0x0f, 0x92, 0xc4, 0x66, 0xa3, 0x02, 0x00, 0x10, 0x00, 0x66, 0xb8, 0x09, 0x00, 0x04, 0x05, 0x37, 0x66, 0xa3, 0x04, 0x00, 0x10, 0x00, 0xb0, 0x4d, 0xd4, 0x0a, 0x66, 0xa3, 0x06, 0x00, 0x10, 0x00, 0x66, 0xb8, 0x02, 0x07, 0xd5, 0x0a, 0x66, 0xa3, 0x08, 0x00, 0x10, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xba, 0x03, 0x00, 0x00, 0x00, 0xbb, 0x04, 0x00, 0x00, 0x00, 0xbd, 0x06, 0x00, 0x00, 0x00, 0xbe, 0x07, 0x00, 0x00, 0x00, 0xbf, 0x08, 0x00, 0x00, 0x00, 0x60, 0x89, 0x25, 0x0c, 0x00, 0x10, 0x00, 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x31, 0xdb, 0x31, 0xed, 0x31, 0xf6, 0x31, 0xff, 0x61, 0xc7, 0x05, 0x10, 0x00, 0x10, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xc7, 0x05, 0x14, 0x00, 0x10, 0x00, 0x14, 0x00, 0x00, 0x00, 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x62, 0x05, 0x10, 0x00, 0x10, 0x00, 0xb8, 0x15, 0x00, 0x00, 0x00, 0x62, 0x05, 0x10, 0x00, 0x10, 0x00, 0xf4 };
    struct sysm *m = setup();
    sys_gate(m, EXC_BR, H_GP, 0xe, 0, 0);
    wr64(m, SYS_GDT + 0x38, 0x00cf9b000000ffffull);
    sys_code(m, SYS_KCODE, code, sizeof(code));
    emu_desc_to_seg(0x00cf9b000000ffffull, 0x38, &m->c.seg[SEG_CS]);
    emu_update_mode(&m->c);
    CHECK_EQ(m->c.mode, MODE_COMPAT32);
    sys_run(m, 200);
    CHECK(halted_in(m, H_GP));
    CHECK_EQ(m->c.r[GPR_RBX], SYS_KCODE + 0x9c);   /* #BR at the second BOUND */
    uint64_t v = rd64(m, 0x100000);
    CHECK_EQ(v & 0xffff, 0x0114);                   /* 79 + 35 = 114 (DAA, CF) */
    CHECK_EQ((v >> 16) & 0xffff, 0x0188);           /* 35 - 47 = -12 -> 88, CF (DAS) */
    CHECK_EQ((v >> 32) & 0xffff, 0x0104);           /* AAA: 9 + 5 */
    CHECK_EQ((v >> 48) & 0xffff, 0x0707);           /* AAM: 77 */
    CHECK_EQ(rd64(m, 0x100008) & 0xffff, 0x0048);   /* AAD: 0702 -> 72 */
    CHECK_EQ(rd64(m, 0x10000c) & 0xffffffff, SYS_KSTACK - 32);
    CHECK_EQ(m->c.r[GPR_RSI], SYS_KSTACK);          /* the frame's old RSP: POPA restored ESP */
    CHECK_EQ(m->c.r[GPR_RAX], 21);
    sys_free(m);
}

int main(void)
{
    test_compat_legacy();
    test_trampoline();
    test_lsl_lar_verw();
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
