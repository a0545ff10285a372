/* The host twin of the cpuloop guest: prints the checksum of
 *   cpuwork-host ITERS
 * so that tests compare it with the guest's, and bench/insn-rate.sh counts
 * (with callgrind) the instructions of the very same compiled workload. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpuwork.h"

int main(int argc, char **argv)
{
    char *end;
    if (argc != 2) {
        fprintf(stderr, "usage: %s ITERS\n", argv[0]);
        return 2;
    }
    unsigned long long iters = strtoull(argv[1], &end, 0);
    if (*argv[1] == '\0' || *end != '\0') {
        fprintf(stderr, "cpuwork-host: bad iteration count '%s'\n", argv[1]);
        return 2;
    }
    printf("0x%016" PRIx64 "\n", cpuwork_run(iters));
    return 0;
}
