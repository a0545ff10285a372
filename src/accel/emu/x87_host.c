/* x87 arithmetic on the host's x87.
 *
 * Every x87 instruction that computes (loads, stores, arithmetic, compares,
 * transcendentals, stack operations) is executed by the host CPU itself on
 * the guest's x87 state: a stub loads the guest's image with FXRSTOR64,
 * runs the very instruction (the same escape and ModRM byte, its memory
 * operand redirected to a host buffer through [rsi]), saves the result
 * with FXSAVE64 and leaves the host's x87 empty with FNINIT. Results,
 * C0-C3, TOP, tags, stack faults and the precision/rounding control of the
 * guest's FCW are therefore exactly what an x86-64 CPU gives.
 *
 * The guest's FCW is used as it is, including unmasked exceptions: the
 * host instruction then behaves as hardware does with that exception
 * unmasked (destination unchanged, ES set) and nothing traps in the host,
 * because FXSAVE and FNINIT do not wait for pending exceptions. The caller
 * must not run a stub while the guest has a pending exception (ES set):
 * the instruction would trap in the host; the guest gets #MF instead. */
#include "accel/emu/fp.h"

#include <string.h>

/* Stubs: 8 escapes x (8 memory forms + 64 register forms), 32 bytes each.
 *   rdi = 16-byte aligned FXSAVE image, rsi = memory operand,
 *   rdx = arithmetic flags in (FCMOVcc); returns RFLAGS after (FCOMI). */
#define X87_STUB_SIZE 32
#define X87_STUBS_PER_ESC 72

__asm__(
    ".pushsection .text\n"
    ".balign 64\n"
    ".globl brume_x87_stubs\n"
    ".hidden brume_x87_stubs\n"
    ".type brume_x87_stubs, @function\n"
    "brume_x87_stubs:\n"
    ".macro brume_x87_stub esc, modrm\n"
    "0:\n"
    "  endbr64\n"
    "  fxrstor64 (%rdi)\n"
    "  pushq %rdx\n"
    "  popfq\n"
    "  .byte \\esc, \\modrm\n"
    "  pushfq\n"
    "  popq %rax\n"
    "  fxsave64 (%rdi)\n"
    "  fninit\n"
    "  ret\n"
    "  .fill 32 - (. - 0b), 1, 0xcc\n"
    ".endm\n"
    ".irp esc, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf\n"
    "  .irp reg, 0, 1, 2, 3, 4, 5, 6, 7\n"
    "    brume_x87_stub \\esc, (\\reg << 3) | 6\n" /* mod=00 rm=110: [rsi] */
    "  .endr\n"
    "  .set brume_x87_m, 0xc0\n"
    "  .rept 64\n"
    "    brume_x87_stub \\esc, brume_x87_m\n"
    "    .set brume_x87_m, brume_x87_m + 1\n"
    "  .endr\n"
    ".endr\n"
    ".globl brume_x87_stubs_end\n"
    ".hidden brume_x87_stubs_end\n"
    "brume_x87_stubs_end:\n"
    ".size brume_x87_stubs, brume_x87_stubs_end - brume_x87_stubs\n"
    ".popsection\n");

void brume_x87_stubs(void);
void brume_x87_stubs_end(void);

/* The stubs are laid out at a fixed stride; a stub that outgrew it would
 * shift every later one (x87_host_selftest catches it). */
bool x87_host_selftest(void)
{
    return (uintptr_t)brume_x87_stubs_end - (uintptr_t)brume_x87_stubs ==
           8u * X87_STUBS_PER_ESC * X87_STUB_SIZE;
}

typedef uint64_t (*x87_stub_fn)(void *image, void *mem, uint64_t rflags);

/* Memory forms, by escape and ModRM.reg: operand size, and whether the
 * form stores. X87_CTL: a control instruction done in C (x87_ctl.c);
 * 0: undefined (#UD). */
#define X87_STORE 0x80
#define X87_CTL   0x40
static const uint8_t x87_mem_forms[8][8] = {
    /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
    {4, 4, 4, 4, 4, 4, 4, 4},
    /* D9: FLD m32, -, FST m32, FSTP m32, FLDENV, FLDCW, FNSTENV, FNSTCW */
    {4, 0, 4 | X87_STORE, 4 | X87_STORE, X87_CTL, X87_CTL, X87_CTL, X87_CTL},
    /* DA: FIADD .. FIDIVR m32int */
    {4, 4, 4, 4, 4, 4, 4, 4},
    /* DB: FILD m32, FISTTP m32, FIST m32, FISTP m32, -, FLD m80, -, FSTP m80 */
    {4, 4 | X87_STORE, 4 | X87_STORE, 4 | X87_STORE, 0, 10, 0, 10 | X87_STORE},
    /* DC: FADD .. FDIVR m64fp */
    {8, 8, 8, 8, 8, 8, 8, 8},
    /* DD: FLD m64, FISTTP m64, FST m64, FSTP m64, FRSTOR, -, FNSAVE, FNSTSW m16 */
    {8, 8 | X87_STORE, 8 | X87_STORE, 8 | X87_STORE, X87_CTL, 0, X87_CTL, X87_CTL},
    /* DE: FIADD .. FIDIVR m16int */
    {2, 2, 2, 2, 2, 2, 2, 2},
    /* DF: FILD m16, FISTTP m16, FIST m16, FISTP m16, FBLD m80, FILD m64, FBSTP m80, FISTP m64 */
    {2, 2 | X87_STORE, 2 | X87_STORE, 2 | X87_STORE, 10, 8, 10 | X87_STORE, 8 | X87_STORE},
};

/* Register forms (ModRM 0xC0..0xFF) the host runs: one bit per ModRM low
 * six bits. The undocumented aliases (FSTP1, FCOM2, FXCH4, ...) are left
 * out on purpose; FFREEP (DF C0+i) is in (AMD documents it, Intel runs it). */
static bool x87_reg_form(unsigned esc, unsigned m)
{
    switch (esc) {
    case 0: return true;                                  /* D8: arith ST, ST(i) */
    case 1:                                               /* D9 */
        return m <= 0xcf || m == 0xd0 || m == 0xe0 || m == 0xe1 || m == 0xe4 ||
               m == 0xe5 || (m >= 0xe8 && m <= 0xee) || m >= 0xf0;
    case 2: return m <= 0xdf || m == 0xe9;               /* DA: FCMOVcc, FUCOMPP */
    case 3:                                               /* DB: FCMOVNcc, FNENI/FNDISI/FSETPM (no-ops), FUCOMI, FCOMI */
        return m <= 0xdf || m == 0xe0 || m == 0xe1 || m == 0xe4 || (m >= 0xe8 && m <= 0xf7);
    case 4: return m <= 0xcf || m >= 0xe0;               /* DC: arith ST(i), ST */
    case 5: return m <= 0xc7 || (m >= 0xd0 && m <= 0xef);/* DD: FFREE, FST, FSTP, FUCOM, FUCOMP */
    case 6: return m <= 0xcf || m == 0xd9 || m >= 0xe0;  /* DE: arith-and-pop, FCOMPP */
    case 7: return m <= 0xc7 || (m >= 0xe8 && m <= 0xf7);/* DF: FFREEP, FUCOMIP, FCOMIP */
    }
    return false;
}

bool x87_host_form(unsigned esc, unsigned modrm)
{
    if (esc > 7 || modrm > 0xff)
        return false;
    if (modrm >= 0xc0)
        return x87_reg_form(esc, modrm);
    uint8_t f = x87_mem_forms[esc][(modrm >> 3) & 7];
    return f != 0 && !(f & X87_CTL);
}

unsigned x87_mem_size(unsigned esc, unsigned modrm)
{
    if (esc > 7 || modrm >= 0xc0)
        return 0;
    uint8_t f = x87_mem_forms[esc][(modrm >> 3) & 7];
    return (f & X87_CTL) ? 0 : (f & 0x3f);
}

bool x87_mem_is_store(unsigned esc, unsigned modrm)
{
    if (esc > 7 || modrm >= 0xc0)
        return false;
    return (x87_mem_forms[esc][(modrm >> 3) & 7] & X87_STORE) != 0;
}

#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

void x87_host_exec(struct cpu_fxsave *fx, unsigned esc, unsigned modrm, void *mem, uint64_t *rflags)
{
    struct cpu_fxsave img;
    uint32_t host_mxcsr = 0;
    uint16_t host_fcw = 0;

    memcpy(&img, fx, sizeof(img));
    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(host_mxcsr), "=m"(host_fcw));
    /* The host's MXCSR goes in (and so stays the host's); ES is clear
     * because the caller checked that nothing is pending. */
    img.mxcsr = host_mxcsr;
    img.fsw &= ~(FSW_ES | FSW_B);

    unsigned idx = esc * X87_STUBS_PER_ESC + (modrm >= 0xc0 ? 8 + (modrm - 0xc0) : (modrm >> 3) & 7);
    x87_stub_fn stub = (x87_stub_fn)((uintptr_t)brume_x87_stubs + idx * X87_STUB_SIZE);
    uint64_t in = (*rflags & RFLAGS_ARITH) | RFLAGS_FIXED;
    uint64_t out = stub(&img, mem, in);
    /* The stub ends with FNINIT: give the host its own control word back. */
    __asm__ volatile("fldcw %0" : : "m"(host_fcw));

    fx->fcw = img.fcw;
    fx->fsw = img.fsw;
    fx->ftw = img.ftw;
    memcpy(fx->st, img.st, sizeof(fx->st));
    *rflags = (*rflags & ~(uint64_t)RFLAGS_ARITH) | (out & RFLAGS_ARITH);
}

bool x87_store_suppressed(const struct cpu_fxsave *fx)
{
    return (fx->fsw & ~fx->fcw & (FSW_IE | FSW_OE | FSW_UE)) != 0;
}
