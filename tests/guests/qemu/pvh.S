/* A PVH entry for cross-checking the test guests on QEMU (not used by
 * brume). QEMU's -kernel boots an ELF carrying a XEN_ELFNOTE_PHYS32_ENTRY
 * note in 32-bit protected mode, paging off, with EBX = hvm_start_info.
 * This shim builds what brume gives a kernel — the same GDT selectors,
 * identity page tables at the same addresses, long mode — then has
 * pvh_setup() translate hvm_start_info into a boot_params and enters the
 * guest's normal _start with RSI pointing at it. */
    .section .note.Xen, "a"
    .align 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start32
    .align 4

    .section .text.pvh, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, %edi
    /* Identity-map 4 GiB with 2 MiB pages at 0x9000 (PML4), 0xA000
     * (PDPT), 0xB000..0xEFFF (4 PDs), as brume does. */
    xorl %eax, %eax
    movl $0x9000, %ecx
1:  movl %eax, (%ecx)
    addl $4, %ecx
    cmpl $0xB000, %ecx
    jb 1b
    movl $0xA003, 0x9000
    movl $0xB003, 0xA000
    movl $0xC003, 0xA008
    movl $0xD003, 0xA010
    movl $0xE003, 0xA018
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, 0xB000(,%ecx,8)
    movl $0, 0xB004(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b
    lgdt pvh_gdt_desc
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $0x9000, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    ljmp $0x10, $pvh_start64

    .code64
pvh_start64:
    movl $0x18, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    leaq pvh_stack_top(%rip), %rsp
    movl %edi, %edi
    call pvh_setup
    movq %rax, %rsi
    jmp _start

    .section .rodata
    .align 8
pvh_gdt:
    .quad 0
    .quad 0
    .quad 0x00AF9B000000FFFF        /* 0x10: 64-bit code, as __BOOT_CS */
    .quad 0x00CF93000000FFFF        /* 0x18: data, as __BOOT_DS */
pvh_gdt_desc:
    .word 4 * 8 - 1
    .long pvh_gdt

    .section .bss
    .align 16
    .skip 4096
pvh_stack_top:
    .section .note.GNU-stack, "", @progbits
