/* Runs one case through the emu engine's flat runner, from the same state
 * and a copy of the same memory image as the native run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "util/log.h"

#ifdef DIFF_HAVE_EMU_FLAT
#include "accel/emu/flat.h"

/* Enough for the longest case (REP with a 64-element count) many times over;
 * a run that needs more is a bug the comparison reports (vector -1). */
#define ENGINE_MAX_INSNS 100000

bool engine_available(void)
{
    return true;
}

int engine_run(const struct diff_case *c, struct diff_result *out)
{
    struct cpu_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    memcpy(st->regs, c->in.regs, sizeof st->regs);
    st->rip = c->in.rip;
    st->rflags = c->in.rflags;
    st->fx = c->in.fx;
    memcpy(out->mem, c->image, DIFF_SIZE);
    struct emu_flat_result res = { .vector = -1 };
    err_clear();
    int rc = emu_flat_run(st, out->mem, DIFF_BASE, DIFF_SIZE, ENGINE_MAX_INSNS, &res);
    if (rc == 0) {
        memcpy(out->st.regs, st->regs, sizeof st->regs);
        out->st.rip = st->rip;
        out->st.rflags = st->rflags;
        out->st.fx = st->fx;
        out->vector = res.vector;
        out->error_code = res.error_code;
    }
    free(st);
    return rc;
}
#else
bool engine_available(void)
{
    return false;
}

int engine_run(const struct diff_case *c, struct diff_result *out)
{
    (void)c, (void)out;
    return err_set(-ENOSYS, "emu_flat_run is not in this build (src/accel/emu/flat.h missing)");
}
#endif
