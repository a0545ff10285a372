/* Decoder lengths against GNU objdump: 20000 random 64-bit instructions
 * (with prefixes, REX, and the 0F/0F38/0F3A maps), each followed by NOPs so
 * that objdump resynchronizes, must end where objdump says they end.
 * Skipped (exit 77) without objdump. Not compared: encodings objdump calls
 * "(bad)", and 66-prefixed near branches, where objdump follows AMD
 * (rel16) and this CPU, being an Intel one, ignores the prefix (rel32). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "accel/emu/insn.h"

static uint64_t seed = 88172645463325252ull;
static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static bool is_prefix(uint8_t b)
{
    return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 ||
           b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 || (b & 0xf0) == 0x40;
}

#define N 20000
#define PAD 16

int main(void)
{
    if (system("objdump --version > /dev/null 2>&1") != 0) {
        printf("skipped: objdump not found\n");
        return 77;
    }
    char path[] = "/tmp/emu-decode-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *bin = fdopen(fd, "wb");
    static uint64_t offs[N];
    static uint8_t lens[N];
    static uint8_t bytes[N][15];
    int n = 0;
    uint64_t off = 0;
    struct decode_mode m = { true, false };
    static const uint8_t px[] = { 0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x64, 0xf0 };
    static const uint8_t nops[PAD] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
                                       0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 };
    while (n < N) {
        uint8_t b[15];
        int p = 0;
        bool opsize = false;
        if (rnd() % 4 == 0) {
            b[p] = px[rnd() % 7];
            opsize = b[p] == 0x66;
            p++;
        }
        if (rnd() % 3 == 0)
            b[p++] = (uint8_t)(0x40 | (rnd() & 15));
        int map = (int)(rnd() % 4);
        uint8_t op;
        if (map == 0) {
            do
                op = (uint8_t)rnd();
            while (is_prefix(op) || op == 0x0f);
            b[p++] = op;
            if (opsize && (op == 0xe8 || op == 0xe9))
                continue;
        } else {
            b[p++] = 0x0f;
            if (map == 1) {
                op = (uint8_t)rnd();
                if (op == 0x38 || op == 0x3a || (opsize && op >= 0x80 && op <= 0x8f))
                    continue;
                b[p++] = op;
            } else {
                b[p++] = map == 2 ? 0x38 : 0x3a;
            }
        }
        while (p < 15)
            b[p++] = (uint8_t)rnd();
        struct insn i;
        if (emu_decode(b, 15, m, &i) != DECODE_OK)
            continue;
        offs[n] = off;
        lens[n] = i.len;
        memcpy(bytes[n], b, 15);
        fwrite(b, 1, i.len, bin);
        fwrite(nops, 1, PAD, bin);
        off += i.len + PAD;
        n++;
    }
    fclose(bin);

    /* objdump's instruction starts, and which of them it could not decode */
    uint8_t *starts = calloc(off + 1, 1);   /* 1: start, 2: "(bad)" start */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "objdump -D -b binary -m i386:x86-64 %s", path);
    FILE *dis = popen(cmd, "r");
    CHECK(dis != NULL);
    char line[512];
    while (dis && fgets(line, sizeof(line), dis)) {
        unsigned long long a;
        /* "  off:<TAB>bytes<TAB>mnemonic": continuation lines of long
         * instructions have no second tab */
        char *t1 = strchr(line, '\t');
        if (!t1 || !strchr(t1 + 1, '\t') || sscanf(line, " %llx:", &a) != 1 || a > off)
            continue;
        starts[a] = strstr(line, "(bad)") || strstr(line, ".byte") ? 2 : 1;
    }
    if (dis)
        pclose(dis);
    unlink(path);

    int compared = 0, wrong = 0;
    for (int k = 0; k < n; k++) {
        if (starts[offs[k]] != 1)
            continue;  /* objdump cannot decode it (or lost sync before it) */
        compared++;
        if (starts[offs[k] + lens[k]] == 0) {
            if (wrong++ < 10) {
                fprintf(stderr, "length mismatch at +0x%llx: decoder says %u for",
                        (unsigned long long)offs[k], lens[k]);
                for (int b = 0; b < 15; b++)
                    fprintf(stderr, " %02x", bytes[k][b]);
                fprintf(stderr, "\n");
            }
        }
    }
    printf("decoder vs objdump: %d instructions compared, %d length mismatches\n", compared, wrong);
    CHECK(compared > N / 3);  /* objdump calls many random SSE encodings (bad) */
    CHECK_EQ(wrong, 0);
    free(starts);
    TEST_MAIN_END();
}
