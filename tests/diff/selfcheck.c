/* Known-answer cases for the native runner alone: if these fail, the
 * reference side of every comparison is wrong, so `diff-runner --self-check`
 * runs as its own test, independent of the engine. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"

static struct diff_case sc_case;
static struct diff_result sc_res;

static void sc_setup(const uint8_t *bytes, unsigned len)
{
    struct diff_case *c = &sc_case;
    memset(c, 0, sizeof *c);
    memset(c->image, 0xcc, DIFF_DATA_OFF);
    memcpy(c->image + DIFF_CODE_OFF, bytes, len);
    memcpy(c->bytes, bytes, len);
    c->len = len;
    c->in.rip = DIFF_BASE + DIFF_CODE_OFF;
    c->in.regs[GPR_RSP] = DIFF_BASE + DIFF_STACK_TOP;
    c->in.rflags = RFLAGS_FIXED | RFLAGS_IF;
    c->in.fx.fcw = 0x37f;
    c->in.fx.mxcsr = 0x1f80;
}

static int sc_failures;

#define SC_EQ(what, a, b)                                                                   \
    do {                                                                                    \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                    \
        if (_a != _b) {                                                                     \
            printf("self-check %s: %s = %#" PRIx64 ", expected %#" PRIx64 "\n", what, #a, _a, _b); \
            sc_failures++;                                                                  \
        }                                                                                   \
    } while (0)

static int sc_run(const char *what)
{
    int rc = native_run(&sc_case, &sc_res);
    if (rc < 0) {
        printf("self-check %s: native run failed (%d)\n", what, rc);
        sc_failures++;
    }
    return rc;
}

int selfcheck_run(void)
{
    const uint64_t code = DIFF_BASE + DIFF_CODE_OFF;
    const uint64_t data = DIFF_BASE + DIFF_DATA_OFF;

    /* add eax, ebx: 32-bit result zero-extended, OF and SF set */
    sc_setup((const uint8_t[]){ 0x01, 0xd8 }, 2);
    sc_case.in.regs[GPR_RAX] = 0x17fffffffull;
    sc_case.in.regs[GPR_RBX] = 1;
    sc_case.in.regs[GPR_R15] = 0x1122334455667788ull;
    sc_case.in.rflags |= RFLAGS_CF;
    if (sc_run("add") == 0) {
        SC_EQ("add", sc_res.vector, 3);
        SC_EQ("add", sc_res.st.rip, code + 3);
        SC_EQ("add", sc_res.st.regs[GPR_RAX], 0x80000000ull);
        SC_EQ("add", sc_res.st.regs[GPR_R15], 0x1122334455667788ull);
        SC_EQ("add", sc_res.st.rflags & (RFLAGS_OF | RFLAGS_SF | RFLAGS_CF | RFLAGS_ZF),
              RFLAGS_OF | RFLAGS_SF);
    }

    /* div ecx by zero: #DE at the instruction, registers unchanged */
    sc_setup((const uint8_t[]){ 0xf7, 0xf1 }, 2);
    sc_case.in.regs[GPR_RAX] = 77;
    if (sc_run("div0") == 0) {
        SC_EQ("div0", sc_res.vector, 0);
        SC_EQ("div0", sc_res.st.rip, code);
        SC_EQ("div0", sc_res.st.regs[GPR_RAX], 77);
    }

    /* mov rax, [rbx] just past the region: #PF; non-canonical: #GP */
    sc_setup((const uint8_t[]){ 0x48, 0x8b, 0x03 }, 3);
    sc_case.in.regs[GPR_RBX] = DIFF_BASE + DIFF_SIZE;
    if (sc_run("pf") == 0) {
        SC_EQ("pf", sc_res.vector, 14);
        SC_EQ("pf", sc_res.st.rip, code);
    }
    sc_case.in.regs[GPR_RBX] = 0x8000000000000000ull;
    if (sc_run("gp") == 0)
        SC_EQ("gp", sc_res.vector, 13);

    /* ud2: #UD; hlt at CPL 3: #GP */
    sc_setup((const uint8_t[]){ 0x0f, 0x0b }, 2);
    if (sc_run("ud2") == 0)
        SC_EQ("ud2", sc_res.vector, 6);
    sc_setup((const uint8_t[]){ 0xf4 }, 1);
    if (sc_run("hlt") == 0)
        SC_EQ("hlt", sc_res.vector, 13);

    /* push rax: the stack is in the region and captured */
    sc_setup((const uint8_t[]){ 0x50 }, 1);
    sc_case.in.regs[GPR_RAX] = 0xdeadbeefcafef00dull;
    if (sc_run("push") == 0) {
        uint64_t v;
        memcpy(&v, sc_res.mem + DIFF_STACK_TOP - 8, 8);
        SC_EQ("push", v, 0xdeadbeefcafef00dull);
        SC_EQ("push", sc_res.st.regs[GPR_RSP], DIFF_BASE + DIFF_STACK_TOP - 8);
    }

    /* pxor xmm0, xmm0; xmm1 and MXCSR come through unchanged */
    sc_setup((const uint8_t[]){ 0x66, 0x0f, 0xef, 0xc0 }, 4);
    memset(sc_case.in.fx.xmm[0], 0x5a, 16);
    memset(sc_case.in.fx.xmm[1], 0xa7, 16);
    sc_case.in.fx.mxcsr = 0x1f80 | (1u << 13);   /* round down */
    if (sc_run("pxor") == 0) {
        uint64_t lo0, lo1;
        memcpy(&lo0, sc_res.st.fx.xmm[0], 8);
        memcpy(&lo1, sc_res.st.fx.xmm[1], 8);
        SC_EQ("pxor", lo0, 0);
        SC_EQ("pxor", lo1, 0xa7a7a7a7a7a7a7a7ull);
        SC_EQ("pxor", sc_res.st.fx.mxcsr, 0x1f80 | (1u << 13));
    }

    /* std; then rep movsb copies 5 bytes backwards */
    sc_setup((const uint8_t[]){ 0xfd, 0xf3, 0xa4 }, 3);
    for (int i = 0; i < 8; i++)
        sc_case.image[DIFF_DATA_OFF + (unsigned)i] = (uint8_t)(0x10 + i);
    sc_case.in.regs[GPR_RSI] = data + 4;
    sc_case.in.regs[GPR_RDI] = data + 0x104;
    sc_case.in.regs[GPR_RCX] = 5;
    if (sc_run("rep movsb") == 0) {
        SC_EQ("rep movsb", sc_res.vector, 3);
        SC_EQ("rep movsb", sc_res.st.rflags & RFLAGS_DF, RFLAGS_DF);
        SC_EQ("rep movsb", sc_res.st.regs[GPR_RCX], 0);
        SC_EQ("rep movsb", sc_res.st.regs[GPR_RDI], data + 0xff);
        SC_EQ("rep movsb", sc_res.mem[DIFF_DATA_OFF + 0x100], 0x10);
        SC_EQ("rep movsb", sc_res.mem[DIFF_DATA_OFF + 0x104], 0x14);
        SC_EQ("rep movsb", sc_res.mem[DIFF_DATA_OFF + 0xff], 0);
    }

    /* a generated case runs and ends (INT3 or a fault), twice the same */
    static struct diff_form forms[64];
    size_t n = gen_expand(&forms_alu, forms, 64);
    static struct diff_case gc;
    static struct diff_result r1, r2;
    for (size_t i = 0; i < n; i++) {
        gen_case(&forms[i], 1, i, &gc);
        if (native_run(&gc, &r1) < 0 || native_run(&gc, &r2) < 0) {
            printf("self-check generated %s: native run failed\n", forms[i].name);
            sc_failures++;
            continue;
        }
        if (memcmp(&r1.st, &r2.st, sizeof r1.st) || memcmp(r1.mem, r2.mem, DIFF_SIZE) ||
            r1.vector != r2.vector) {
            printf("self-check generated %s: two native runs differ\n", forms[i].name);
            sc_failures++;
        }
    }
    /* The comparison sees a flipped defined flag, a register, a memory byte
     * and an XMM byte, and ignores a flag the form leaves undefined. */
    static struct diff_result r3;
    const struct diff_form *add = &forms[2];   /* "add r16, r16" */
    gen_case(add, 1, 0, &gc);
    if (native_run(&gc, &r1) == 0) {
        char buf[512];
        r3 = r1;
        SC_EQ("compare same", compare_results(add, &gc, &r1, &r3, buf, sizeof buf), 0);
        r3.st.rflags ^= RFLAGS_CF;
        SC_EQ("compare CF", compare_results(add, &gc, &r1, &r3, buf, sizeof buf) > 0, 1);
        r3 = r1;
        r3.st.regs[GPR_R9] ^= 1ull << 63;
        SC_EQ("compare r9", compare_results(add, &gc, &r1, &r3, buf, sizeof buf) > 0, 1);
        r3 = r1;
        r3.mem[DIFF_DATA_OFF + 5] ^= 1;
        SC_EQ("compare mem", compare_results(add, &gc, &r1, &r3, buf, sizeof buf) > 0, 1);
        r3 = r1;
        r3.st.fx.xmm[15][15] ^= 1;
        SC_EQ("compare xmm", compare_results(add, &gc, &r1, &r3, buf, sizeof buf) > 0, 1);
        r3 = r1;
        r3.vector = 14;
        SC_EQ("compare vector", compare_results(add, &gc, &r1, &r3, buf, sizeof buf) > 0, 1);
        struct diff_form andf = *add;
        andf.undef = RFLAGS_AF;
        r3 = r1;
        r3.st.rflags ^= RFLAGS_AF;
        SC_EQ("compare undefined AF", compare_results(&andf, &gc, &r1, &r3, buf, sizeof buf), 0);
    }
    printf("self-check: %d failures\n", sc_failures);
    return sc_failures;
}
