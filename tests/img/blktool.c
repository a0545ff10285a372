/* Test helper for the image interop and crash tests; drives the block layer
 * the way a guest would.
 *
 *   blktool random IMG REF SEED COUNT   random writes, zeroes and discards to
 *                                        IMG, mirrored into the raw file REF
 *   blktool crash IMG LOG SEED          writes generation-stamped 4 KiB blocks
 *                                        forever, logging each operation to LOG
 *                                        before it starts and "F" after flushes
 *   blktool verify IMG LOG              checks IMG against LOG after a kill -9:
 *                                        every 512-byte sector must hold its
 *                                        last flushed content or a later one;
 *                                        then rewrites LOG as the observed
 *                                        baseline
 *   blktool hold IMG SECONDS            opens IMG for writing and sleeps
 *   blktool bench IMG OPS               OPS random 4 KiB reads, then OPS writes,
 *                                        over the whole disk (a fixed count, so
 *                                        two images end in the same page-cache
 *                                        state); prints operations per second
 *                                        and CPU microseconds (user + system) per
 *                                        operation (for bench/img.sh, never
 *                                        asserted) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "util/log.h"

#define BLK 4096u
#define SEC 512u            /* the unit a disk writes atomically */
#define SPB (BLK / SEC)

/* Defined in blktool-journal (journal.c): marks a guest flush that returned. */
void journal_guest_flush(void) __attribute__((weak));

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct block_dev *open_img(const char *path, bool ro)
{
    struct block_open_opts o = { .read_only = ro };
    struct block_dev *bd;
    int r = block_open(path, &o, &bd);
    if (r) {
        fprintf(stderr, "blktool: %s\n", err_get());
        exit(1);
    }
    return bd;
}

static uint64_t disk_size(struct block_dev *bd)
{
    struct block_info i;
    block_get_info(bd, &i);
    return i.virtual_size;
}

static int cmd_random(const char *img, const char *ref, uint64_t seed, int count)
{
    struct block_dev *bd = open_img(img, false);
    int rf = open(ref, O_RDWR);
    if (rf < 0) {
        perror(ref);
        return 1;
    }
    uint64_t size = disk_size(bd);
    struct block_info info;
    block_get_info(bd, &info);
    uint64_t cs = info.cluster_size ? info.cluster_size : 65536;
    rng_state = seed * 2654435761u + 1;
    char *buf = malloc(1 << 20), *z = calloc(1, 1 << 20);
    for (int i = 0; i < count; i++) {
        uint64_t kind = rnd() % 10;
        uint64_t len = kind < 5 ? 1 + rnd() % 70000 : (1 + rnd() % 16) * 65536;   /* unaligned and whole clusters */
        if (rnd() % 4 == 0)
            len = 512 * (1 + rnd() % 256);
        if (len > size)
            len = size;
        uint64_t off = rnd() % (size - len + 1);
        if (kind >= 5 && kind < 8)
            off &= ~65535ull;
        if (off + len > size)
            len = size - off;
        int r = 0;
        if (kind < 8) {
            for (uint64_t j = 0; j < len; j++)
                buf[j] = (char)(rnd() >> 24 | 1);
            struct iovec v[2] = { { buf, len / 3 }, { buf + len / 3, len - len / 3 } };
            r = block_pwritev(bd, v, 2, off);
            if (!r && pwrite(rf, buf, len, (off_t)off) != (ssize_t)len)
                r = -EIO;
        } else if (kind == 8) {
            r = block_write_zeroes(bd, off, len, rnd() & 1);
            if (!r && pwrite(rf, z, len, (off_t)off) != (ssize_t)len)
                r = -EIO;
        } else {
            /* discard whole clusters: brume guarantees zeroes there without a backing file */
            uint64_t a = (off + cs - 1) & ~(cs - 1), b = (off + len) & ~(cs - 1);
            if (b > a) {
                r = block_discard(bd, a, b - a);
                if (!r && pwrite(rf, z, b - a, (off_t)a) != (ssize_t)(b - a))
                    r = -EIO;
            }
        }
        if (r) {
            fprintf(stderr, "blktool: op %d failed: %s (%s)\n", i, strerror(-r), err_get());
            return 1;
        }
        if (rnd() % 16 == 0) {
            if (block_flush(bd)) {
                fprintf(stderr, "blktool: flush failed: %s\n", err_get());
                return 1;
            }
            if (journal_guest_flush)
                journal_guest_flush();
        }
    }
    block_close(bd);
    close(rf);
    free(buf);
    free(z);
    return 0;
}

/* A stamped block: every 8-byte word is (block << 32 | gen) ^ word index. */
static void stamp(uint64_t *p, uint64_t blk, uint64_t gen)
{
    for (unsigned i = 0; i < BLK / 8; i++)
        p[i] = ((blk << 32) | gen) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
}

/* Returns the generation stamped in sector sec of block blk (p points at
 * that sector), 0 for zeroes, -1 if torn or foreign. */
static int64_t read_stamp(const uint64_t *p, uint64_t blk, unsigned sec)
{
    bool zero = true;
    for (unsigned i = 0; i < SEC / 8 && zero; i++)
        zero = p[i] == 0;
    if (zero)
        return 0;
    uint64_t w0 = p[0] ^ ((uint64_t)(sec * SEC / 8) * 0x9e3779b97f4a7c15ull);
    if (w0 >> 32 != blk)
        return -1;
    uint64_t tmp[BLK / 8];
    stamp(tmp, blk, w0 & 0xffffffff);
    return memcmp(tmp + sec * SEC / 8, p, SEC) ? -1 : (int64_t)(w0 & 0xffffffff);
}

static int cmd_crash(const char *img, const char *log, uint64_t seed)
{
    struct block_dev *bd = open_img(img, false);
    uint64_t nblk = disk_size(bd) / BLK;
    FILE *lf = fopen(log, "a");
    if (!lf)
        return 1;
    setvbuf(lf, NULL, _IONBF, 0);   /* each line reaches the kernel before the operation */
    rng_state = seed * 2654435761u + 7;
    uint64_t *buf = malloc(16 * BLK);
    uint64_t gen = ((uint64_t)time(NULL) & 0xffff) << 12 | (seed & 0xfff);
    for (uint64_t i = 0;; i++) {
        uint64_t b = rnd() % nblk, n = 1 + rnd() % 16, k = rnd() % 12;
        if (b + n > nblk)
            n = nblk - b;
        gen = (gen + 1) & 0x7fffffff;
        if (gen == 0)
            gen = 1;
        int r;
        if (k < 10) {
            fprintf(lf, "W %llu %llu %llu\n", (unsigned long long)b, (unsigned long long)n, (unsigned long long)gen);
            for (uint64_t j = 0; j < n; j++)
                stamp(buf + j * BLK / 8, b + j, gen);
            struct iovec v = { buf, n * BLK };
            r = block_pwritev(bd, &v, 1, b * BLK);
        } else {
            fprintf(lf, "%c %llu %llu\n", k == 10 ? 'Z' : 'D', (unsigned long long)b, (unsigned long long)n);
            r = k == 10 ? block_write_zeroes(bd, b * BLK, n * BLK, rnd() & 1) : block_discard(bd, b * BLK, n * BLK);
        }
        if (r) {
            fprintf(stderr, "blktool: write failed: %s\n", err_get());
            return 1;
        }
        if (rnd() % 8 == 0) {
            if (block_flush(bd))
                return 1;
            fprintf(lf, "F\n");
        }
    }
}

/* Per sector: the content at the last flush (val, or zeroes too when a
 * discard may have dropped it) and the values later operations may have
 * left. A write cut by the kill may leave a block torn (some sectors new,
 * some old), as on a real disk, so the check is per 512-byte sector. */
struct sstate {
    int64_t val;
    bool or_zero;
    int64_t *pending;
    int npending;
};

static void apply(struct sstate *s, char op, int64_t g, bool after)
{
    if (after) {
        s->pending = realloc(s->pending, sizeof(int64_t) * (size_t)(s->npending + 1));
        s->pending[s->npending++] = op == 'W' ? g : 0;
    } else if (op == 'D') {
        s->or_zero = true;
    } else {
        s->val = op == 'Z' ? 0 : g;
        s->or_zero = false;
    }
}

/* Log lines: W blk n gen, Z blk n, D blk n, F (flush), and the baseline
 * written by verify: S blk gen (a whole block), s sector gen (one sector of
 * a torn block). */
static int cmd_verify(const char *img, const char *log)
{
    struct block_dev *bd = open_img(img, true);
    uint64_t nblk = disk_size(bd) / BLK, nsec = nblk * SPB;
    struct sstate *st = calloc(nsec, sizeof(*st));
    FILE *lf = fopen(log, "r");
    char line[256];
    long last_f = -1, ln = 0;
    while (lf && fgets(line, sizeof(line), lf)) {
        if (line[0] == 'F')
            last_f = ln;
        ln++;
    }
    if (lf)
        rewind(lf);
    ln = 0;
    while (lf && fgets(line, sizeof(line), lf)) {
        unsigned long long b, n, g = 0;
        bool after = ln > last_f;
        ln++;
        char op = line[0];
        uint64_t s0, s1;
        if (op == 'W' && sscanf(line + 2, "%llu %llu %llu", &b, &n, &g) == 3) {
        } else if ((op == 'Z' || op == 'D') && sscanf(line + 2, "%llu %llu", &b, &n) == 2) {
        } else if (op == 'S' && sscanf(line + 2, "%llu %llu", &b, &g) == 2) {
            n = 1;
        } else if (op == 's' && sscanf(line + 2, "%llu %llu", &b, &g) == 2) {
            if (b < nsec)
                apply(&st[b], 'W', (int64_t)g, after);
            continue;
        } else {
            continue;
        }
        s0 = b * SPB;
        s1 = (b + n) * SPB;
        for (uint64_t j = s0; j < s1 && j < nsec; j++)
            apply(&st[j], op == 'S' ? 'W' : op, (int64_t)g, after);
    }
    if (lf)
        fclose(lf);
    uint64_t *buf = malloc(BLK);
    int bad = 0;
    FILE *out = fopen(log, "w");
    for (uint64_t j = 0; j < nblk; j++) {
        struct iovec v = { buf, BLK };
        if (block_preadv(bd, &v, 1, j * BLK)) {
            fprintf(stderr, "verify: read error: %s\n", err_get());
            return 1;
        }
        int64_t got[SPB];
        bool uniform = true;
        for (unsigned k = 0; k < SPB; k++) {
            struct sstate *s = &st[j * SPB + k];
            got[k] = read_stamp(buf + k * SEC / 8, j, k);
            uniform = uniform && got[k] == got[0];
            bool ok = got[k] >= 0 && (got[k] == s->val || (got[k] == 0 && s->or_zero));
            for (int p = 0; got[k] >= 0 && p < s->npending; p++)
                if (s->pending[p] == got[k])
                    ok = true;
            if (!ok) {
                if (bad < 10)
                    fprintf(stderr, "verify: block %llu sector %u holds %lld, flushed %lld, %d pending\n",
                            (unsigned long long)j, k, (long long)got[k], (long long)s->val, s->npending);
                bad++;
            }
            free(s->pending);
        }
        if (!out)
            continue;
        if (uniform && got[0] > 0)
            fprintf(out, "S %llu %lld\n", (unsigned long long)j, (long long)got[0]);
        for (unsigned k = 0; !uniform && k < SPB; k++)
            if (got[k] > 0)
                fprintf(out, "s %llu %lld\n", (unsigned long long)(j * SPB + k), (long long)got[k]);
    }
    if (out) {
        fprintf(out, "F\n");
        fclose(out);
    }
    free(st);
    free(buf);
    block_close(bd);
    if (bad)
        fprintf(stderr, "verify: %d sectors lost flushed data or are torn\n", bad);
    return bad ? 1 : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmd_bench(const char *img, uint64_t count)
{
    struct block_dev *bd = open_img(img, false);
    uint64_t nblk = disk_size(bd) / BLK;
    static uint8_t buf[BLK];
    memset(buf, 0x5a, sizeof(buf));
    rng_state = 88172645463325252ull;
    for (int w = 0; w < 2; w++) {
        uint64_t ops = count;
        double t0 = now(), c0 = cpu_now();
        for (uint64_t i = 0; i < ops; i++) {
            struct iovec v = { buf, BLK };
            uint64_t off = (rnd() % nblk) * BLK;
            int r = w ? block_pwritev(bd, &v, 1, off) : block_preadv(bd, &v, 1, off);
            if (r) {
                fprintf(stderr, "bench: %s\n", err_get());
                return 1;
            }
        }
        double t = now() - t0;
        printf("%s %.0f\n", w ? "write_iops" : "read_iops", (double)ops / t);
        printf("%s %.2f\n", w ? "write_cpu_us" : "read_cpu_us", (cpu_now() - c0) * 1e6 / (double)ops);
    }
    block_close(bd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "bench"))
        return cmd_bench(argv[2], strtoull(argv[3], NULL, 0));
    if (argc >= 6 && !strcmp(argv[1], "random"))
        return cmd_random(argv[2], argv[3], strtoull(argv[4], NULL, 0), atoi(argv[5]));
    if (argc >= 5 && !strcmp(argv[1], "crash"))
        return cmd_crash(argv[2], argv[3], strtoull(argv[4], NULL, 0));
    if (argc >= 4 && !strcmp(argv[1], "verify"))
        return cmd_verify(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "hold")) {
        struct block_dev *bd = open_img(argv[2], false);
        printf("locked\n");
        fflush(stdout);
        sleep((unsigned)atoi(argv[3]));
        block_close(bd);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of blktool.c\n");
    return 2;
}
