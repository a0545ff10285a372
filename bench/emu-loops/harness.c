/* Runs a flat binary (loaded at linear 0x1000, flat memory 0x1000..0x10000)
 * on the emu core through emu_flat_run until its INT3, and prints the
 * instruction count and final RAX/RFLAGS. For host-instruction counts of
 * the interpreter under callgrind (bench/emu-loops.sh). */
#include <stdio.h>
#include <stdlib.h>

#include "accel/emu/flat.h"

int main(int argc, char **argv)
{
    static uint8_t mem[0xf000];
    if (argc != 2) {
        fprintf(stderr, "usage: emu-loop FILE.bin\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t n = fread(mem, 1, 0x4000, f);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "%s: empty\n", argv[1]);
        return 1;
    }
    struct cpu_state *st = calloc(1, sizeof(*st));
    if (!st)
        return 1;
    st->rip = 0x1000;
    st->rflags = 2;
    st->regs[GPR_RSP] = 0xf000;
    struct emu_flat_result r;
    int rc = emu_flat_run(st, mem, 0x1000, sizeof(mem), 100000000, &r);
    printf("rc %d vector %d insns %llu rax %llx rflags %llx\n", rc, r.vector, (unsigned long long)r.insns,
           (unsigned long long)st->regs[GPR_RAX], (unsigned long long)st->rflags);
    free(st);
    return rc == 0 && r.vector == 3 ? 0 : 1;
}
