# The shape of the kernel's mpihelp_submul_1 (RSA): per limb MOV m, MUL,
# ADD, ADC $0, MOV m, SUB, ADC $0, MOV m, MOV, INC, JNZ. 64 limbs x 3000.
    .text
_start:
    mov $0x8200, %esi
    mov $0xa200, %edi
    movabs $0x9e3779b97f4a7c15, %r8
    mov $3000, %r11d
outer:
    mov $-64, %rcx
    xor %r9d, %r9d
inner:
    mov (%rsi,%rcx,8), %rax
    mul %r8
    add %r9, %rax
    adc $0, %rdx
    mov (%rdi,%rcx,8), %r10
    sub %rax, %r10
    adc $0, %rdx
    mov %r10, (%rdi,%rcx,8)
    mov %rdx, %r9
    inc %rcx
    jne inner
    dec %r11d
    jnz outer
    int3
