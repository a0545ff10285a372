/* cpuloop: a CPU-bound guest. Runs cpuwork_run(iters) (iters=N on the
 * command line, default 10) and prints the checksum; with expect=0x...
 * it passes only when the checksum is the host's (cpuwork-host N). Used by
 * the guest tests for correctness and by bench/insn-rate.sh for speed. */
#include "cpuwork.h"
#include "rt.h"

const char guest_name[] = "cpuloop";

const char *guest_main(void)
{
    uint64_t iters = 10, expect = 0;
    rt_cmdline_u64("iters", &iters);
    bool check = rt_cmdline_u64("expect", &expect);
    uint64_t sum = cpuwork_run(iters);
    rt_printf("cpuloop: iters=%lu checksum=0x%016lx\n", iters, sum);
    if (check && sum != expect)
        return "checksum differs from the host's";
    return NULL;
}
