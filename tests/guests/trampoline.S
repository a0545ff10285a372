/* The application processors' start-up code. The BSP copies
 * [smp_tramp_start, smp_tramp_end) to SMP_TRAMP_BASE (below 1 MiB, page
 * aligned) and sends SIPI with vector SMP_TRAMP_BASE >> 12. The AP starts
 * here in real mode with CS = SMP_TRAMP_BASE >> 4, IP = 0, and goes to long
 * mode with its own GDT, the CR3 the BSP patched in, EFER.LME and paging,
 * then calls smp_ap_main() on the stack the BSP patched in. Addresses are
 * computed as SMP_TRAMP_BASE + (label - smp_tramp_start): the code runs
 * at its copy, not where it was linked. */
#define SMP_TRAMP_BASE 0x70000
#define REL(x) ((x) - smp_tramp_start)
#define ABS(x) (SMP_TRAMP_BASE + REL(x))

    .section .rodata.trampoline, "a"
    .globl smp_tramp_start, smp_tramp_end, smp_tramp_cr3, smp_tramp_stack
    .code16
smp_tramp_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl REL(tramp_gdt_desc)
    movl %cr0, %eax
    orl $1, %eax                        /* PE */
    movl %eax, %cr0
    ljmpl $0x08, $ABS(tramp_pm32)

    .code32
tramp_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                     /* PAE */
    movl %eax, %cr4
    movl ABS(smp_tramp_cr3), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx              /* EFER */
    rdmsr
    orl $0x100, %eax                    /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax               /* PG | PE */
    movl %eax, %cr0
    ljmpl $0x18, $ABS(tramp_lm64)

    .code64
tramp_lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq ABS(smp_tramp_stack), %rsp
    movabsq $smp_ap_main, %rax
    call *%rax
1:  cli
    hlt
    jmp 1b

    .align 8
tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF            /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10: data */
    .quad 0x00AF9A000000FFFF            /* 0x18: 64-bit code */
tramp_gdt_desc:
    .word 4 * 8 - 1
    .long ABS(tramp_gdt)
    .align 8
smp_tramp_cr3:
    .quad 0
smp_tramp_stack:
    .quad 0
smp_tramp_end:
    .section .note.GNU-stack, "", @progbits
