/* 256 interrupt stubs, 16 bytes apart (the IDT is filled from
 * rt_isr_stubs + 16 * vector). Each pushes a dummy error code when the CPU
 * does not push one, then the vector, and joins the common path, which
 * saves the registers and calls rt_interrupt(frame). */
    .text
    .code64
    .align 16
    .globl rt_isr_stubs
rt_isr_stubs:
    vector = 0
    .rept 256
    .align 16
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushq $0
    .endif
    pushq $vector
    jmp isr_common
    vector = vector + 1
    .endr

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call rt_interrupt
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
    .section .note.GNU-stack, "", @progbits
