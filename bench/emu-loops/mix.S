# Integer mix: loads, stores, RMW, CMP/Jcc, shifts, IMUL, PUSH/CALL/RET,
# SETcc, CMOV, ADC. 28 instructions per iteration, 200000 iterations.
# Runs at linear 0x1000 (flat memory 0x1000..0x10000, data at 0x8000).
    .text
    .globl _start
_start:
    mov $200000, %ecx
    mov $0x8000, %ebx
loop:
    mov (%rbx), %rax
    add %rcx, %rax
    mov %rax, 8(%rbx)
    addq $1, 16(%rbx)
    add %rax, 24(%rbx)
    movzbl 32(%rbx), %edx
    cmp $5, %edx
    jne 1f
    inc %edx
1:  shl $3, %rax
    sar $2, %rax
    test %rax, %rax
    js 2f
    nop
2:  imul %rcx, %rax
    push %rax
    call func
    pop %rdx
    and $0xff, %edx
    xor %edx, %eax
    adc %eax, 40(%rbx)
    sub $1, %ecx
    jnz loop
    int3
func:
    mov 8(%rsp), %rax
    lea 1(%rax), %rax
    cmp %rax, %rdx
    setb %al
    cmovz %rdx, %rax
    ret
