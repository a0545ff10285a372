/* CPU time per guest instruction of the emu engine on two small loops run
 * through emu_flat_run (no devices, everything in the host caches): the
 * engine's own probe loop (ADD, DEC, JNZ) and a mix of loads, stores, ALU,
 * shift and LEA. Best of 5 runs each. Not built by meson: build it against
 * a source tree (to compare two trees, build it twice):
 *
 *   gcc -O2 -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing -Isrc -o /tmp/emu-loops \
 *       bench/emu-loops.c $(ls src/accel/emu/[a-z]*.c | grep -v engine.c) src/util/log.c -lm -lpthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "accel/emu/flat.h"
static double cpu_s(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void run(const char *name, const unsigned char *code, size_t n, uint64_t max)
{
    static unsigned char m[65536];
    double best = 1e9; uint64_t insns = 0;
    for (int r = 0; r < 5; r++) {
        struct cpu_state *st = calloc(1, sizeof(*st));
        memset(m, 0, sizeof m); memcpy(m, code, n);
        st->rip = 0x1000; st->regs[4] = 0x1ff00; st->regs[7] = 0x8000;
        struct emu_flat_result res;
        double t0 = cpu_s();
        if (emu_flat_run(st, m, 0x1000, sizeof m, max, &res) != 0) { printf("fail\n"); exit(1); }
        double dt = cpu_s() - t0;
        if (dt < best) best = dt;
        insns = res.insns;
        free(st);
    }
    printf("%-10s %8.2f ns/insn (%llu insns)\n", name, best * 1e9 / insns, (unsigned long long)insns);
}
int main(void)
{
    /* mov ecx, 2000000; L: add eax, ecx; dec ecx; jnz L; int3 (the engine's probe, longer) */
    static const unsigned char probe[] = { 0xb9, 0x80, 0x84, 0x1e, 0x00, 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xfa, 0xcc };
    /* mov ecx, 1000000; L: mov rax,[rdi]; add rax, rcx; mov [rdi+8], rax; xor rdx, rax; shl rdx, 3;
     * cmp rdx, rax; adc rbx, 0; lea rsi, [rsi+rcx*2]; dec ecx; jnz L; int3 */
    static const unsigned char mix[] = { 0xb9, 0x40, 0x42, 0x0f, 0x00,
        0x48, 0x8b, 0x07, 0x48, 0x01, 0xc8, 0x48, 0x89, 0x47, 0x08, 0x48, 0x31, 0xc2, 0x48, 0xc1, 0xe2, 0x03,
        0x48, 0x39, 0xc2, 0x48, 0x83, 0xd3, 0x00, 0x48, 0x8d, 0x34, 0x4e, 0xff, 0xc9, 0x75, 0xe0, 0xcc };
    /* The inner loop of Linux's mpihelp_submul_1 (RSA in the crypto
     * self-tests, about half of the emu boot's CPU time), 16 limbs, 100000
     * times: mov r10d, 100000; outer: lea rsi, [rip+0x4000]; lea rdi,
     * [rip+0x5000]; mov rcx, -16; mov rbx, imm64; xor r8d, r8d;
     * L: mov rax, [rsi+rcx*8+128]; mul rbx; add rax, r8; adc rdx, 0;
     * mov r8, rdx; mov r9, [rdi+rcx*8+128]; sub r9, rax; adc r8, 0;
     * mov [rdi+rcx*8+128], r9; inc rcx; jnz L; dec r10d; jnz outer; int3 */
    static const unsigned char mpi[] = { 0x41, 0xba, 0xa0, 0x86, 0x01, 0x00, 0x48, 0x8d, 0x35, 0x00, 0x40, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0x00, 0x50, 0x00, 0x00, 0x48, 0xc7, 0xc1, 0xf0, 0xff, 0xff, 0xff, 0x48, 0xbb, 0x15, 0x7c, 0x4a, 0x7f, 0xb9, 0x79, 0x37, 0x9e, 0x45, 0x31, 0xc0, 0x48, 0x8b, 0x84, 0xce, 0x80, 0x00, 0x00, 0x00, 0x48, 0xf7, 0xe3, 0x4c, 0x01, 0xc0, 0x48, 0x83, 0xd2, 0x00, 0x49, 0x89, 0xd0, 0x4c, 0x8b, 0x8c, 0xcf, 0x80, 0x00, 0x00, 0x00, 0x49, 0x29, 0xc1, 0x49, 0x83, 0xd0, 0x00, 0x4c, 0x89, 0x8c, 0xcf, 0x80, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc1, 0x75, 0xcf, 0x41, 0xff, 0xca, 0x75, 0xa8, 0xcc };
    run("probe", probe, sizeof probe, 100000000);
    run("mix", mix, sizeof mix, 100000000);
    run("mpi", mpi, sizeof mpi, 100000000);
    return 0;
}
