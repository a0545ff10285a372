/* Runs one case on the host CPU.
 *
 * Entry and exit both go through the kernel's signal frames, because a
 * sigreturn is the one user-space way to load every register at once:
 * all 16 GPRs, RIP, the arithmetic flags and DF, and the whole x87/SSE
 * state. native_run() raises SIGUSR1; its handler saves the frame it was
 * given (the runner's own context), writes the case's state into the frame
 * and returns, so the CPU "returns" into the test code. The closing INT3 (or
 * a fault: SIGSEGV, SIGBUS, SIGFPE, SIGILL) enters the exit handler, which
 * copies the frame out as the result and puts the saved runner context back
 * into the frame, so returning from it resumes native_run().
 *
 * Handlers run on an alternate stack: the test code may leave RSP anywhere.
 * A signal handler can only reach static data, so the in-flight case lives
 * in file-scope variables; the runner is single-threaded by design. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "diff.h"

#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif
#define XSAVE_AREA_MAX   (64 * 1024)
#define ALTSTACK_SIZE    (256 * 1024)

/* GPR_* order -> glibc's REG_* index in mcontext gregs */
static const int greg_index[GPR_COUNT] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static const struct diff_state *run_in;
static struct diff_result *run_out;
static volatile sig_atomic_t run_active;
static gregset_t saved_gregs;
static uint8_t saved_fp[XSAVE_AREA_MAX] __attribute__((aligned(64)));
static size_t saved_fp_size;
static uint8_t *region;

/* Size of the FP area in a signal frame: the whole XSAVE area when the
 * kernel marked it so, the 512-byte FXSAVE image otherwise. */
static size_t fp_area_size(const uint8_t *fp)
{
    uint32_t magic, xsize;
    memcpy(&magic, fp + 464, 4);
    memcpy(&xsize, fp + 464 + 16, 4);
    if (magic == FP_XSTATE_MAGIC1 && xsize >= 576 && xsize <= XSAVE_AREA_MAX)
        return xsize;
    return 512;
}

/* In an XSAVE frame, XRSTOR only loads components whose XSTATE_BV bit is
 * set; mark x87 and SSE so the legacy area we wrote is taken. */
static void fp_mark_legacy(uint8_t *fp)
{
    if (fp_area_size(fp) > 512) {
        uint64_t bv;
        memcpy(&bv, fp + 512, 8);
        bv |= 3;
        memcpy(fp + 512, &bv, 8);
    }
}

static void on_enter(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    ucontext_t *uc = ctx;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    memcpy(saved_gregs, uc->uc_mcontext.gregs, sizeof saved_gregs);
    saved_fp_size = fp_area_size(fp);
    memcpy(saved_fp, fp, saved_fp_size);

    for (int i = 0; i < GPR_COUNT; i++)
        uc->uc_mcontext.gregs[greg_index[i]] = (greg_t)run_in->regs[i];
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)run_in->rip;
    uc->uc_mcontext.gregs[REG_EFL] = (greg_t)run_in->rflags;
    /* The legacy FXSAVE area only; mxcsr_mask is ignored on restore. */
    memcpy(fp, &run_in->fx, 512);
    fp_mark_legacy(fp);
    run_active = 1;
}

static void on_exit_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    /* The kernel clears DF and TF for the handler but not AC: a POPF case
     * may have set it, and with CR0.AM (Linux sets it) every misaligned
     * access in here would raise #AC. */
    __asm__ volatile("pushfq; andq %0, (%%rsp); popfq" ::"i"(~RFLAGS_AC) : "memory", "cc");
    ucontext_t *uc = ctx;
    if (!run_active) {
        /* A fault in the runner itself: die with the default action. */
        signal(sig, SIG_DFL);
        return;
    }
    run_active = 0;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    struct diff_state *st = &run_out->st;
    for (int i = 0; i < GPR_COUNT; i++)
        st->regs[i] = (uint64_t)uc->uc_mcontext.gregs[greg_index[i]];
    st->rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    st->rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    memcpy(&st->fx, fp, 512);
    run_out->vector = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    run_out->error_code = (uint32_t)uc->uc_mcontext.gregs[REG_ERR];

    memcpy(uc->uc_mcontext.gregs, saved_gregs, sizeof saved_gregs);
    if (fp_area_size(fp) == saved_fp_size)
        memcpy(fp, saved_fp, saved_fp_size);
    else
        memcpy(fp, saved_fp, 512);
    fp_mark_legacy(fp);
}

/* Maps the region with its guard pages and installs the handlers. */
int native_init(void)
{
    if (region)
        return 0;
    size_t total = DIFF_SIZE + 2 * DIFF_GUARD;
    void *g = mmap((void *)(DIFF_BASE - DIFF_GUARD), total, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
    if (g == MAP_FAILED)
        return -errno;
    if (g != (void *)(DIFF_BASE - DIFF_GUARD)) {
        munmap(g, total);
        return -EEXIST;
    }
    region = (uint8_t *)DIFF_BASE;
    if (mprotect(region, DIFF_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
        return -errno;

    stack_t ss = { .ss_sp = malloc(ALTSTACK_SIZE), .ss_size = ALTSTACK_SIZE };
    if (!ss.ss_sp)
        return -ENOMEM;
    if (sigaltstack(&ss, NULL) < 0)
        return -errno;

    struct sigaction sa = { .sa_sigaction = on_enter, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        return -errno;
    sa.sa_sigaction = on_exit_signal;
    static const int exits[] = { SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++)
        if (sigaction(exits[i], &sa, NULL) < 0)
            return -errno;
    return 0;
}

/* Copies the case's image into the region, runs it, and copies the
 * region back into out->mem. */
int native_run(const struct diff_case *c, struct diff_result *out)
{
    if (!region)
        return -EINVAL;
    memcpy(region, c->image, DIFF_SIZE);
    /* The code page was written through the data side: make sure no stale
     * instructions are fetched (x86 keeps them coherent; this is a compiler
     * barrier for the copy above). */
    __asm__ volatile("" ::: "memory");
    run_in = &c->in;
    run_out = out;
    out->vector = -1;
    raise(SIGUSR1);
    __asm__ volatile("" ::: "memory");
    if (run_active) {
        run_active = 0;
        return -EIO;
    }
    memcpy(out->mem, region, DIFF_SIZE);
    return 0;
}
