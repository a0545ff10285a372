/* Guest entry: brume enters here in 64-bit mode with RSI = boot_params,
 * interrupts off, on a scratch stack. Switch to our own stack and go to C. */
    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    cli
    cld
    leaq bsp_stack_top(%rip), %rsp
    movq %rsi, %rdi
    call rt_start
1:  cli
    hlt
    jmp 1b

    .section .bss
    .align 16
bsp_stack:
    .skip 32768
bsp_stack_top:
    .section .note.GNU-stack, "", @progbits
