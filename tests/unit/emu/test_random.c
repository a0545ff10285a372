/* Random byte streams through emu_flat_run: whatever the guest code, the
 * engine must end with an exception, the instruction budget, or a clear
 * "unimplemented" error; it must never crash or touch memory outside the
 * flat range (ASan checks the latter in the sanitizer build). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "flat_util.h"
#include "util/log.h"

/* xorshift64: deterministic, so a failure reproduces */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(void)
{
    struct flat *f = calloc(1, sizeof(*f));
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int exceptions = 0, budget = 0, unimpl = 0;
    for (int round = 0; round < 20000; round++) {
        flat_init(f);
        uint8_t code[96];
        for (size_t k = 0; k < sizeof(code); k++)
            code[k] = (uint8_t)rng(&seed);
        /* registers point into the flat range half of the time */
        for (int r = 0; r < GPR_COUNT; r++)
            f->st.regs[r] = (rng(&seed) & 1) ? FLAT_BASE + (rng(&seed) % FLAT_SIZE) : rng(&seed);
        uint64_t rsp = FLAT_STACK;
        int rc = flat_run(f, code, sizeof(code), 500);
        (void)rsp;
        if (rc == 0 && f->res.vector >= 0) {
            exceptions++;
            CHECK(f->res.vector < 256);
        } else if (rc == 0) {
            budget++;
            CHECK_EQ(f->res.insns, 500);
        } else {
            unimpl++;
            CHECK_EQ(rc, -ENOSYS);
            CHECK(strstr(err_get(), "emu: unimplemented instruction at RIP 0x") != NULL ||
                  strstr(err_get(), "emu: ") != NULL);
        }
        CHECK(f->res.insns <= 500);
    }
    CHECK(exceptions > 0);
    printf("random programs: %d exceptions, %d ran out of budget, %d unimplemented\n", exceptions, budget, unimpl);
    free(f);
    TEST_MAIN_END();
}
