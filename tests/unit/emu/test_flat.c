/* Small programs through emu_flat_run with asserted results. */
#include <stdlib.h>

#include "../test.h"
#include "flat_util.h"
#include "util/log.h"

#define RUN(f, ...) do { static const uint8_t code_[] = { __VA_ARGS__ }; flat_run(f, code_, sizeof(code_), 100000); } while (0)

static struct flat *F;

static void test_sum_loop(void)
{
    flat_init(F);
    /* xor eax,eax; mov ecx,100; L: add eax,ecx; dec ecx; jnz L; int3 */
    RUN(F, 0x31, 0xc0, 0xb9, 100, 0, 0, 0, 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xfa, 0xcc);
    CHECK_EQ(F->rc, 0);
    CHECK_EQ(F->res.vector, 3);
    CHECK_EQ(F->st.regs[GPR_RAX], 5050);
    CHECK_EQ(F->st.regs[GPR_RCX], 0);
    CHECK_EQ(F->st.rip, FLAT_BASE + 14);
    CHECK_EQ(F->res.insns, 2 + 3 * 100 + 1);
}

int main(void)
{
    F = calloc(1, sizeof(*F));
    test_sum_loop();
    if (test_failures)
        fprintf(stderr, "last error: %s\n", err_get());
    free(F);
    TEST_MAIN_END();
}
