/* Forms: bit operations, data movement, stack, string operations, flag
 * instructions, branches, and instructions that must fault at CPL 3. */
#include "diff.h"

#define OP1(a) .op = { a }, .oplen = 1
#define OP2(a, b) .op = { a, b }, .oplen = 2
#define OP3(a, b, c) .op = { a, b, c }, .oplen = 3
#define R_ .digit = -1
#define D(n) .digit = n
#define V (S16 | S32 | S64)
#define ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define RAX (1u << GPR_RAX)
#define RCX (1u << GPR_RCX)
#define RDX (1u << GPR_RDX)
#define RBX (1u << GPR_RBX)
#define RSI (1u << GPR_RSI)
#define RDI (1u << GPR_RDI)
#define RBP (1u << GPR_RBP)

#define BTU (RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF)
#define BT(nm, opr, n, fl)                                                                          \
    { nm " %E, r%v", V, RM_BOTH, 0, OP2(0x0f, opr), R_, .undef = BTU, .flags = F_BTOFF | (fl) },     \
    { nm " %E, imm8", V, RM_BOTH, 0, OP2(0x0f, 0xba), D(n), .imm = 1, .undef = BTU, .flags = (fl) }

static const struct diff_spec bit[] = {
    BT("bt", 0xa3, 4, 0), BT("bts", 0xab, 5, 0), BT("btr", 0xb3, 6, 0), BT("btc", 0xbb, 7, 0),
    { "lock bts %E, r%v", V, RM_MEM, 0, OP2(0x0f, 0xab), R_, .undef = BTU, .flags = F_BTOFF | F_LOCKP },
    { "lock btr %E, r%v", V, RM_MEM, 0, OP2(0x0f, 0xb3), R_, .undef = BTU, .flags = F_BTOFF | F_LOCKP },
    { "lock btc %E, r%v", V, RM_MEM, 0, OP2(0x0f, 0xbb), R_, .undef = BTU, .flags = F_BTOFF | F_LOCKP },
    { "lock bts %E, imm8", V, RM_MEM, 0, OP2(0x0f, 0xba), D(5), .imm = 1, .undef = BTU, .flags = F_LOCKP },
    { "lock btr %E, imm8", V, RM_MEM, 0, OP2(0x0f, 0xba), D(6), .imm = 1, .undef = BTU, .flags = F_LOCKP },
    { "lock btc %E, imm8", V, RM_MEM, 0, OP2(0x0f, 0xba), D(7), .imm = 1, .undef = BTU, .flags = F_LOCKP },
    { "bsf r%v, %E", V, RM_BOTH, 0, OP2(0x0f, 0xbc), R_, .undef = ARITH & ~RFLAGS_ZF },
    { "bsr r%v, %E", V, RM_BOTH, 0, OP2(0x0f, 0xbd), R_, .undef = ARITH & ~RFLAGS_ZF },
    { "bswap r%v", S32 | S64, RM_NONE, 0, OP2(0x0f, 0xc8), .opreg = true },
    { "popcnt r%v, %E", V, RM_BOTH, 0xf3, OP2(0x0f, 0xb8), R_ },
    /* Excluded: emu's CPUID advertises neither BMI1 nor ABM, so F3 0F BC/BD
     * run as BSF/BSR, as on CPUs without them; the host has both. */
    { "tzcnt r%v, %E", V, RM_BOTH, 0xf3, OP2(0x0f, 0xbc), R_, .undef = RFLAGS_OF | RFLAGS_SF | RFLAGS_PF | RFLAGS_AF,
      .excluded = "emu CPUID has no BMI1: F3 0F BC runs as BSF there, as TZCNT on the host" },
    { "lzcnt r%v, %E", V, RM_BOTH, 0xf3, OP2(0x0f, 0xbd), R_, .undef = RFLAGS_OF | RFLAGS_SF | RFLAGS_PF | RFLAGS_AF,
      .excluded = "emu CPUID has no ABM/LZCNT: F3 0F BD runs as BSR there, as LZCNT on the host" },
};
const struct diff_table forms_bit = { "bit", bit, sizeof bit / sizeof bit[0] };

#define CC16(X) X(0, "o") X(1, "no") X(2, "b") X(3, "ae") X(4, "e") X(5, "ne") X(6, "be") X(7, "a") \
    X(8, "s") X(9, "ns") X(10, "p") X(11, "np") X(12, "l") X(13, "ge") X(14, "le") X(15, "g")
#define CMOV(n, s) { "cmov" s " r%v, %E", V, RM_BOTH, 0, OP2(0x0f, 0x40 + n), R_ },
#define SETCC(n, s) { "set" s " %E", S8, RM_BOTH, 0, OP2(0x0f, 0x90 + n), D(0) },

static const struct diff_spec move[] = {
    { "mov %E, r8", S8, RM_BOTH, 0, OP1(0x88), R_ },
    { "mov %E, r%v", V, RM_BOTH, 0, OP1(0x89), R_ },
    { "mov r8, %E", S8, RM_BOTH, 0, OP1(0x8a), R_ },
    { "mov r%v, %E", V, RM_BOTH, 0, OP1(0x8b), R_ },
    { "mov %E, imm8", S8, RM_BOTH, 0, OP1(0xc6), D(0), .imm = 1 },
    { "mov %E, imm%z", V, RM_BOTH, 0, OP1(0xc7), D(0), .imm = 4 },
    { "mov r8, imm8", S8, RM_NONE, 0, OP1(0xb0), .opreg = true, .imm = 1 },
    { "mov r%v, imm%v", V, RM_NONE, 0, OP1(0xb8), .opreg = true, .imm = 8 },
    { "movzx r%v, %E8", V, RM_BOTH, 0, OP2(0x0f, 0xb6), R_ },
    { "movzx r%v, %E16", S32 | S64, RM_BOTH, 0, OP2(0x0f, 0xb7), R_ },
    { "movsx r%v, %E8", V, RM_BOTH, 0, OP2(0x0f, 0xbe), R_ },
    { "movsx r%v, %E16", S32 | S64, RM_BOTH, 0, OP2(0x0f, 0xbf), R_ },
    { "movsxd r%v, %E32", S32 | S64, RM_BOTH, 0, OP1(0x63), R_ },
    CC16(CMOV) CC16(SETCC)
    { "xchg %E, r8", S8, RM_BOTH, 0, OP1(0x86), R_ },
    { "xchg %E, r%v", V, RM_BOTH, 0, OP1(0x87), R_ },
    { "xchg r%v, rax%v", V, RM_NONE, 0, OP1(0x90), .opreg = true },
    { "xadd %E, r8", S8, RM_BOTH, 0, OP2(0x0f, 0xc0), R_ },
    { "xadd %E, r%v", V, RM_BOTH, 0, OP2(0x0f, 0xc1), R_ },
    { "lock xadd %E, r8", S8, RM_MEM, 0, OP2(0x0f, 0xc0), R_, .flags = F_LOCKP },
    { "lock xadd %E, r%v", V, RM_MEM, 0, OP2(0x0f, 0xc1), R_, .flags = F_LOCKP },
    { "cmpxchg %E, r8", S8, RM_BOTH, 0, OP2(0x0f, 0xb0), R_, .flags = F_CMPX, .implicit = RAX },
    { "cmpxchg %E, r%v", V, RM_BOTH, 0, OP2(0x0f, 0xb1), R_, .flags = F_CMPX, .implicit = RAX },
    { "lock cmpxchg %E, r8", S8, RM_MEM, 0, OP2(0x0f, 0xb0), R_, .flags = F_CMPX | F_LOCKP, .implicit = RAX },
    { "lock cmpxchg %E, r%v", V, RM_MEM, 0, OP2(0x0f, 0xb1), R_, .flags = F_CMPX | F_LOCKP, .implicit = RAX },
    { "cmpxchg8b m64", S32, RM_MEM, 0, OP2(0x0f, 0xc7), D(1), .flags = F_CMPX,
      .implicit = RAX | RDX | RBX | RCX },
    { "cmpxchg16b m128", S64, RM_MEM, 0, OP2(0x0f, 0xc7), D(1), .flags = F_CMPX | F_CX16,
      .implicit = RAX | RDX | RBX | RCX },
    { "lock cmpxchg8b m64", S32, RM_MEM, 0, OP2(0x0f, 0xc7), D(1), .flags = F_CMPX | F_LOCKP,
      .implicit = RAX | RDX | RBX | RCX },
    { "lock cmpxchg16b m128", S64, RM_MEM, 0, OP2(0x0f, 0xc7), D(1), .flags = F_CMPX | F_CX16 | F_LOCKP,
      .implicit = RAX | RDX | RBX | RCX },
    { "lea r%v, m", V, RM_MEM, 0, OP1(0x8d), R_, .flags = F_NOMEMFLT },
    { "xlat m8", S8, RM_NONE, 0, OP1(0xd7), .implicit = RBX | RAX },
    { "nop", S32, RM_NONE, 0, OP1(0x90), .flags = F_NOREX },
    { "pause", S32, RM_NONE, 0xf3, OP1(0x90), .flags = F_NOREX },
    { "nop %E", S16 | S32, RM_BOTH, 0, OP2(0x0f, 0x1f), D(0), .flags = F_NOMEMFLT },
    /* Excluded until emu implements MOVBE (its CPUID does not advertise it). */
    { "movbe r%v, m%v", V, RM_MEM, 0, OP3(0x0f, 0x38, 0xf0), R_,
      .excluded = "not implemented by emu (CPUID.1:ECX.MOVBE clear)" },
    { "movbe m%v, r%v", V, RM_MEM, 0, OP3(0x0f, 0x38, 0xf1), R_,
      .excluded = "not implemented by emu (CPUID.1:ECX.MOVBE clear)" },
};
const struct diff_table forms_move = { "move", move, sizeof move / sizeof move[0] };

static const struct diff_spec stack[] = {
    { "push r%v", S16 | S64, RM_NONE, 0, OP1(0x50), .opreg = true },
    { "pop r%v", S16 | S64, RM_NONE, 0, OP1(0x58), .opreg = true },
    { "push %E", S16 | S64, RM_BOTH, 0, OP1(0xff), D(6) },
    { "pop %E", S16 | S64, RM_BOTH, 0, OP1(0x8f), D(0) },
    { "push simm8", S16 | S64, RM_NONE, 0, OP1(0x6a), .imm = 1 },
    { "push imm%z", S16 | S64, RM_NONE, 0, OP1(0x68), .imm = 4 },
    { "pushf%v", S16 | S64, RM_NONE, 0, OP1(0x9c), .flags = F_FLAGSALL },
    { "popf%v", S16 | S64, RM_NONE, 0, OP1(0x9d), .flags = F_POPF | F_FLAGSALL },
    { "enter imm16, imm8 (o%v)", S16 | S64, RM_NONE, 0, OP1(0xc8), .imm = 2, .imm2 = 1,
      .flags = F_RBP, .implicit = RBP },
    { "leave (o%v)", S16 | S64, RM_NONE, 0, OP1(0xc9), .flags = F_RBP, .implicit = RBP },
};
const struct diff_table forms_stack = { "stack", stack, sizeof stack / sizeof stack[0] };

/* String operations: no prefix, REP/REPE, REPNE; 67h for 32-bit addressing. */
#define STRI (RSI | RDI | RCX | RAX)
#define STR2(nm, op, p, fl)                                                                     \
    { nm "b", S8, RM_NONE, p, OP1(op), .flags = F_STR | (fl), .implicit = STRI },           \
    { nm "%v", V, RM_NONE, p, OP1(op + 1), .flags = F_STR | (fl), .implicit = STRI }
static const struct diff_spec string[] = {
    STR2("movs", 0xa4, 0, 0), STR2("rep movs", 0xa4, 0xf3, 0), STR2("a32 rep movs", 0xa4, 0xf3, F_A32),
    STR2("stos", 0xaa, 0, 0), STR2("rep stos", 0xaa, 0xf3, 0), STR2("a32 rep stos", 0xaa, 0xf3, F_A32),
    STR2("lods", 0xac, 0, 0), STR2("rep lods", 0xac, 0xf3, 0),
    STR2("cmps", 0xa6, 0, 0), STR2("repe cmps", 0xa6, 0xf3, 0), STR2("repne cmps", 0xa6, 0xf2, 0),
    STR2("a32 repe cmps", 0xa6, 0xf3, F_A32),
    STR2("scas", 0xae, 0, 0), STR2("repe scas", 0xae, 0xf3, 0), STR2("repne scas", 0xae, 0xf2, 0),
    STR2("a32 repne scas", 0xae, 0xf2, F_A32),
};
const struct diff_table forms_string = { "string", string, sizeof string / sizeof string[0] };

static const struct diff_spec flagsops[] = {
    { "lahf", S32, RM_NONE, 0, OP1(0x9f) },
    { "sahf", S32, RM_NONE, 0, OP1(0x9e) },
    { "clc", S32, RM_NONE, 0, OP1(0xf8) },
    { "stc", S32, RM_NONE, 0, OP1(0xf9) },
    { "cmc", S32, RM_NONE, 0, OP1(0xf5) },
    { "cld", S32, RM_NONE, 0, OP1(0xfc) },
    { "std", S32, RM_NONE, 0, OP1(0xfd) },
    { "cbw/cwde/cdqe (o%v)", V, RM_NONE, 0, OP1(0x98) },
    { "cwd/cdq/cqo (o%v)", V, RM_NONE, 0, OP1(0x99) },
};
const struct diff_table forms_flags = { "flags", flagsops, sizeof flagsops / sizeof flagsops[0] };

#define JCC8(n, s) { "j" s " rel8", S32, RM_NONE, 0, OP1(0x70 + n), .imm = 1, .flags = F_REL },
#define JCC32(n, s) { "j" s " rel32", S32, RM_NONE, 0, OP2(0x0f, 0x80 + n), .imm = 4, .flags = F_REL },
static const struct diff_spec branch[] = {
    CC16(JCC8) CC16(JCC32)
    { "jmp rel8", S32, RM_NONE, 0, OP1(0xeb), .imm = 1, .flags = F_REL },
    { "jmp rel32", S32, RM_NONE, 0, OP1(0xe9), .imm = 4, .flags = F_REL },
    { "call rel32", S64, RM_NONE, 0, OP1(0xe8), .imm = 4, .flags = F_REL },
    { "jmp %E", S64, RM_BOTH, 0, OP1(0xff), D(4), .flags = F_JTARGET },
    { "call %E", S64, RM_BOTH, 0, OP1(0xff), D(2), .flags = F_JTARGET },
    { "ret", S64, RM_NONE, 0, OP1(0xc3), .flags = F_RET },
    { "ret imm16", S64, RM_NONE, 0, OP1(0xc2), .imm = 2, .flags = F_RET },
    { "loop rel8", S64, RM_NONE, 0, OP1(0xe2), .imm = 1, .flags = F_REL, .implicit = RCX },
    { "loope rel8", S64, RM_NONE, 0, OP1(0xe1), .imm = 1, .flags = F_REL, .implicit = RCX },
    { "loopne rel8", S64, RM_NONE, 0, OP1(0xe0), .imm = 1, .flags = F_REL, .implicit = RCX },
    { "jrcxz rel8", S64, RM_NONE, 0, OP1(0xe3), .imm = 1, .flags = F_REL, .implicit = RCX },
    { "a32 loop rel8", S64, RM_NONE, 0, OP1(0xe2), .imm = 1, .flags = F_REL | F_A32, .implicit = RCX },
    { "jecxz rel8", S64, RM_NONE, 0, OP1(0xe3), .imm = 1, .flags = F_REL | F_A32, .implicit = RCX },
};
const struct diff_table forms_branch = { "branch", branch, sizeof branch / sizeof branch[0] };

/* Invalid in 64-bit mode (#UD) and privileged at CPL 3 (#GP). */
#define UD1(nm, b) { nm, S32, RM_NONE, 0, OP1(b), .flags = F_NOREX }
static const struct diff_spec except[] = {
    UD1("push es", 0x06), UD1("pop es", 0x07), UD1("push cs", 0x0e), UD1("push ss", 0x16),
    UD1("pop ss", 0x17), UD1("push ds", 0x1e), UD1("pop ds", 0x1f), UD1("daa", 0x27),
    UD1("das", 0x2f), UD1("aaa", 0x37), UD1("aas", 0x3f), UD1("pusha", 0x60), UD1("popa", 0x61),
    UD1("into", 0xce),
    { "aam imm8", S32, RM_NONE, 0, OP1(0xd4), .imm = 1, .flags = F_NOREX },
    { "aad imm8", S32, RM_NONE, 0, OP1(0xd5), .imm = 1, .flags = F_NOREX },
    { "ud2", S32, RM_NONE, 0, OP2(0x0f, 0x0b) },
    UD1("hlt", 0xf4), UD1("cli", 0xfa), UD1("sti", 0xfb),
    { "in al, imm8", S32, RM_NONE, 0, OP1(0xe4), .imm = 1 },
    { "out imm8, al", S32, RM_NONE, 0, OP1(0xe6), .imm = 1 },
    UD1("in al, dx", 0xec), UD1("in eax, dx", 0xed), UD1("out dx, al", 0xee), UD1("out dx, eax", 0xef),
    UD1("insb", 0x6c), UD1("outsb", 0x6e),
    { "clts", S32, RM_NONE, 0, OP2(0x0f, 0x06) },
    { "invd", S32, RM_NONE, 0, OP2(0x0f, 0x08) },
    { "wbinvd", S32, RM_NONE, 0, OP2(0x0f, 0x09) },
    { "wrmsr", S32, RM_NONE, 0, OP2(0x0f, 0x30) },
    { "rdmsr", S32, RM_NONE, 0, OP2(0x0f, 0x32) },
    /* The flat runner clears EFER.SCE (SYSRET: #UD), Linux sets it (#GP). */
    { "sysret", S32, RM_NONE, 0, OP2(0x0f, 0x07),
      .excluded = "flat runner has EFER.SCE=0 (#UD first), the host has SCE=1 (#GP)" },
    { "swapgs", S32, RM_NONE, 0, OP3(0x0f, 0x01, 0xf8) },
    { "lgdt m", S64, RM_MEM, 0, OP2(0x0f, 0x01), D(2) },
    { "lidt m", S64, RM_MEM, 0, OP2(0x0f, 0x01), D(3) },
    { "invlpg m", S64, RM_MEM, 0, OP2(0x0f, 0x01), D(7) },
    { "lmsw %E16", S32, RM_REG, 0, OP2(0x0f, 0x01), D(6) },
    { "lldt %E16", S32, RM_REG, 0, OP2(0x0f, 0x00), D(2) },
    { "ltr %E16", S32, RM_REG, 0, OP2(0x0f, 0x00), D(3) },
    { "mov cr0, r64", S32, RM_REG, 0, OP2(0x0f, 0x22), D(0) },
    { "mov r64, cr0", S32, RM_REG, 0, OP2(0x0f, 0x20), D(0) },
    { "mov r64, cr3", S32, RM_REG, 0, OP2(0x0f, 0x20), D(3) },
    { "mov dr7, r64", S32, RM_REG, 0, OP2(0x0f, 0x23), D(7) },
    { "mov r64, dr0", S32, RM_REG, 0, OP2(0x0f, 0x21), D(0) },
};
const struct diff_table forms_except = { "except", except, sizeof except / sizeof except[0] };
