/* Asynchronous block requests (block_submit) through both back-ends, io_uring
 * and the worker thread, with a real I/O loop: data lands at its offsets,
 * discard punches holes, write-zeroes zeroes exactly its range, a read past
 * the end of the file sees zeroes, errors come back through done(), many
 * requests in flight each complete once, and detaching with requests in
 * flight delivers every one of them.
 *
 * The whole set runs in a directory on /tmp and, where it exists, on
 * /dev/shm: tmpfs has no FALLOC_FL_ZERO_RANGE, so there write-zeroes takes
 * the path that writes zero buffers. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "block/block.h"
#include "block/block_int.h"  /* bd->fd: swapped for a read-only fd below */
#include "util/log.h"
#include "vm/loop.h"

#define MIB (1024 * 1024)
#define DISK_SIZE (16 * MIB)

static struct io_loop *loop;
static char dir[256];

/* ---- requests and waiting for them ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int completions;

struct treq {
    struct block_request br;
    struct iovec iov[4];
    int result;
    int calls;
};

static void treq_done(struct block_request *br, int result)
{
    struct treq *t = br->opaque;
    pthread_mutex_lock(&mu);
    t->result = result;
    t->calls++;
    completions++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void treq_init(struct treq *t, enum block_op op, uint64_t off, uint64_t len)
{
    memset(t, 0, sizeof(*t));
    t->br.op = op;
    t->br.offset = off;
    t->br.len = len;
    t->br.done = treq_done;
    t->br.opaque = t;
    t->result = 1;  /* not a value done() can give */
}

/* Waits until `target` completions were counted since the counter was last
 * reset; false after 60 s (a hang fails the test, it does not block it). */
static bool wait_completions(int target)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&mu);
    int r = 0;
    while (completions < target && r == 0)
        r = pthread_cond_timedwait(&cv, &mu, &until);
    bool ok = completions >= target;
    pthread_mutex_unlock(&mu);
    return ok;
}

static void reset_completions(void)
{
    pthread_mutex_lock(&mu);
    completions = 0;
    pthread_mutex_unlock(&mu);
}

/* Submits t and waits for it; returns its result (or 1 on a hang). */
static int run(struct block_dev *bd, struct treq *t)
{
    reset_completions();
    int r = block_submit(bd, &t->br);
    if (r < 0)
        return r;
    if (!wait_completions(1)) {
        fprintf(stderr, "request timed out\n");
        return 1;
    }
    CHECK_EQ(t->calls, 1);
    return t->result;
}

static int rw(struct block_dev *bd, enum block_op op, uint64_t off, void *buf, size_t len)
{
    struct treq t;
    treq_init(&t, op, off, 0);
    t.iov[0] = (struct iovec){ buf, len };
    t.br.iov = t.iov;
    t.br.iovcnt = 1;
    return run(bd, &t);
}

static int zeroing(struct block_dev *bd, enum block_op op, uint64_t off, uint64_t len, bool may_unmap)
{
    struct treq t;
    treq_init(&t, op, off, len);
    t.br.may_unmap = may_unmap;
    return run(bd, &t);
}

/* ---- the image, seen directly ---- */

static const char *path_in(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void file_read(const char *p, uint64_t off, void *buf, size_t len)
{
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0);
    memset(buf, 0xee, len);
    CHECK_EQ(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* True when [off, off+len) of the file is a hole (SEEK_DATA skips it). */
static bool is_hole(const char *p, uint64_t off, uint64_t len)
{
    int fd = open(p, O_RDONLY);
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    close(fd);
    return data < 0 || (uint64_t)data >= off + len;
}

/* Can this file system punch holes? (Otherwise discard is a no-op.) */
static bool can_punch(void)
{
    const char *p = path_in("punch-probe");
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    char buf[8192];
    memset(buf, 1, sizeof(buf));
    bool ok = fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
              fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
    if (fd >= 0)
        close(fd);
    unlink(p);
    return ok;
}

static struct block_dev *open_attached(const char *p, const char *fmt, bool ro, struct io_loop *l)
{
    struct block_open_opts o = { .format = fmt, .read_only = ro };
    struct block_dev *bd = NULL;
    if (block_open(p, &o, &bd) < 0) {
        fprintf(stderr, "block_open %s: %s\n", p, err_get());
        return NULL;
    }
    if (block_attach_loop(bd, l) < 0) {
        fprintf(stderr, "block_attach_loop: %s\n", err_get());
        block_close(bd);
        return NULL;
    }
    return bd;
}

/* ---- the cases ---- */

static void test_read_write(struct block_dev *bd, const char *p)
{
    static uint8_t a[65536], b[8192], back[65536];
    memset(a, 'A', sizeof(a));
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, 0, a, sizeof(a)), 0);

    /* three buffers in one write, at an odd sector */
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 13 + 5);
    struct treq t;
    treq_init(&t, BLOCK_OP_WRITE, MIB + 512, 0);
    t.iov[0] = (struct iovec){ b, 512 };
    t.iov[1] = (struct iovec){ b + 512, 3584 };
    t.iov[2] = (struct iovec){ b + 4096, 4096 };
    t.br.iov = t.iov;
    t.br.iovcnt = 3;
    CHECK_EQ(run(bd, &t), 0);

    file_read(p, 0, back, sizeof(a));
    CHECK(memcmp(back, a, sizeof(a)) == 0);
    file_read(p, MIB + 512, back, sizeof(b));
    CHECK(memcmp(back, b, sizeof(b)) == 0);
    file_read(p, MIB, back, 512);
    CHECK(all_bytes(back, 512, 0));  /* the sector before stays as it was */

    /* read back through the device, into two buffers split mid-sector */
    memset(back, 0, sizeof(back));
    treq_init(&t, BLOCK_OP_READ, MIB + 512, 0);
    t.iov[0] = (struct iovec){ back, 1000 };
    t.iov[1] = (struct iovec){ back + 1000, sizeof(b) - 1000 };
    t.br.iov = t.iov;
    t.br.iovcnt = 2;
    CHECK_EQ(run(bd, &t), 0);
    CHECK(memcmp(back, b, sizeof(b)) == 0);

    CHECK_EQ(zeroing(bd, BLOCK_OP_FLUSH, 0, 0, false), 0);
    /* zero-length requests complete at once, through done() */
    CHECK_EQ(rw(bd, BLOCK_OP_READ, 0, back, 0), 0);
    CHECK_EQ(zeroing(bd, BLOCK_OP_DISCARD, 0, 0, false), 0);
}

static void test_discard(struct block_dev *bd, const char *p, bool punch)
{
    static uint8_t d[256 * 1024], back[256 * 1024];
    uint64_t base = 2 * MIB;
    memset(d, 'D', sizeof(d));
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, base, d, sizeof(d)), 0);
    CHECK_EQ(zeroing(bd, BLOCK_OP_DISCARD, base + 65536, 131072, false), 0);
    file_read(p, base, back, sizeof(back));
    CHECK(all_bytes(back, 65536, 'D'));
    CHECK(all_bytes(back + 196608, 65536, 'D'));
    if (punch) {
        CHECK(all_bytes(back + 65536, 131072, 0));
        CHECK(is_hole(p, base + 65536, 131072));
    }
}

static void test_write_zeroes(struct block_dev *bd, const char *p, bool punch)
{
    static uint8_t z[4 * MIB], back[4 * MIB];
    uint64_t base = 3 * MIB;
    memset(z, 'Z', 65536);
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, base, z, 65536), 0);
    /* not block-aligned: the edges must survive */
    CHECK_EQ(zeroing(bd, BLOCK_OP_WRITE_ZEROES, base + 1024, 5120, false), 0);
    file_read(p, base, back, 65536);
    CHECK(all_bytes(back, 1024, 'Z'));
    CHECK(all_bytes(back + 1024, 5120, 0));
    CHECK(all_bytes(back + 6144, 65536 - 6144, 'Z'));

    /* may_unmap, aligned: a hole where the file system punches */
    CHECK_EQ(zeroing(bd, BLOCK_OP_WRITE_ZEROES, base + 32768, 16384, true), 0);
    file_read(p, base, back, 65536);
    CHECK(all_bytes(back + 32768, 16384, 0));
    CHECK(all_bytes(back + 49152, 16384, 'Z'));
    if (punch)
        CHECK(is_hole(p, base + 32768, 16384));

    /* larger than one fallback write (1 MiB): several zero buffers */
    uint64_t big = 4 * MIB;
    memset(z, 'Y', sizeof(z));
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, big, z, sizeof(z)), 0);
    CHECK_EQ(zeroing(bd, BLOCK_OP_WRITE_ZEROES, big + 512, sizeof(z) - 1024, false), 0);
    file_read(p, big, back, sizeof(back));
    CHECK(all_bytes(back, 512, 'Y'));
    CHECK(all_bytes(back + 512, sizeof(z) - 1024, 0));
    CHECK(all_bytes(back + sizeof(z) - 512, 512, 'Y'));
}

/* The file shrinks under the open disk: a read across its end gets the
 * bytes that are there and zeroes after (raw.c's rule). */
static void test_short_read(struct block_dev *bd, const char *p)
{
    static uint8_t w[8192], back[65536];
    uint64_t base = 9 * MIB;
    memset(w, 'S', sizeof(w));
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, base, w, sizeof(w)), 0);
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(ftruncate(fd, (off_t)(base + 100)), 0);
    memset(back, 0xaa, sizeof(back));
    struct treq t;
    treq_init(&t, BLOCK_OP_READ, base, 0);
    t.iov[0] = (struct iovec){ back, 50 };
    t.iov[1] = (struct iovec){ back + 50, sizeof(back) - 50 };
    t.br.iov = t.iov;
    t.br.iovcnt = 2;
    CHECK_EQ(run(bd, &t), 0);
    CHECK(all_bytes(back, 100, 'S'));
    CHECK(all_bytes(back + 100, sizeof(back) - 100, 0));
    CHECK_EQ(ftruncate(fd, DISK_SIZE), 0);
    close(fd);
}

static void test_errors(struct block_dev *bd, const char *p)
{
    static uint8_t buf[4096];
    /* past the end of the disk */
    CHECK_EQ(rw(bd, BLOCK_OP_READ, DISK_SIZE - 512, buf, sizeof(buf)), -EINVAL);
    CHECK_EQ(zeroing(bd, BLOCK_OP_DISCARD, DISK_SIZE, 512, false), -EINVAL);

    /* the fd turns read-only under the disk: the host refuses, done() says why */
    int rw_fd = dup(bd->fd);
    int ro_fd = open(p, O_RDONLY);
    CHECK(rw_fd >= 0 && ro_fd >= 0);
    CHECK(dup2(ro_fd, bd->fd) == bd->fd);
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, 0, buf, sizeof(buf)), -EBADF);
    CHECK_EQ(zeroing(bd, BLOCK_OP_WRITE_ZEROES, 0, 4096, false), -EBADF);
    CHECK_EQ(zeroing(bd, BLOCK_OP_DISCARD, 0, 4096, false), -EBADF);
    CHECK_EQ(rw(bd, BLOCK_OP_READ, 0, buf, sizeof(buf)), 0);
    CHECK(dup2(rw_fd, bd->fd) == bd->fd);
    close(rw_fd);
    close(ro_fd);
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, 0, buf, sizeof(buf)), 0);
}

static void test_read_only_image(const char *p, const char *want)
{
    struct block_dev *bd = open_attached(p, "raw", true, loop);
    CHECK(bd != NULL);
    if (!bd)
        return;
    CHECK(strcmp(block_async_backend(bd), want) == 0);
    static uint8_t buf[4096];
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, 0, buf, sizeof(buf)), -EROFS);
    CHECK_EQ(zeroing(bd, BLOCK_OP_WRITE_ZEROES, 0, 4096, false), -EROFS);
    CHECK_EQ(zeroing(bd, BLOCK_OP_FLUSH, 0, 0, false), 0);
    CHECK_EQ(rw(bd, BLOCK_OP_READ, 0, buf, sizeof(buf)), 0);
    block_close(bd);
}

/* More requests than the queue depth, all at once: each completes once and
 * its data is where it belongs. The writes are submitted before the loop
 * starts, so none is reaped yet: past AIO_QUEUE_DEPTH they must wait. */
#define MANY 1000
static void test_many(const char *p, const char *want)
{
    static struct treq t[MANY];
    static uint8_t bufs[MANY][4096];
    uint64_t base = 10 * MIB;
    struct io_loop *l;
    CHECK_EQ(loop_create(&l), 0);
    struct block_dev *bd = open_attached(p, "raw", false, l);
    CHECK(bd != NULL);
    if (!bd) {
        loop_destroy(l);
        return;
    }
    CHECK(strcmp(block_async_backend(bd), want) == 0);
    reset_completions();
    for (int i = 0; i < MANY; i++) {
        memset(bufs[i], (uint8_t)(i * 7 + 1), 4096);
        memcpy(bufs[i], &i, sizeof(i));
        treq_init(&t[i], BLOCK_OP_WRITE, base + (uint64_t)i * 4096, 0);
        t[i].iov[0] = (struct iovec){ bufs[i], 4096 };
        t[i].br.iov = t[i].iov;
        t[i].br.iovcnt = 1;
        CHECK_EQ(block_submit(bd, &t[i].br), 0);
    }
    CHECK_EQ(loop_start(l), 0);
    CHECK(wait_completions(MANY));
    int bad = 0;
    for (int i = 0; i < MANY; i++)
        bad += t[i].calls != 1 || t[i].result != 0;
    CHECK_EQ(bad, 0);

    static uint8_t back[4096];
    bad = 0;
    for (int i = 0; i < MANY; i += 37) {
        file_read(p, base + (uint64_t)i * 4096, back, 4096);
        bad += memcmp(back, bufs[i], 4096) != 0;
    }
    CHECK_EQ(bad, 0);

    /* and read them all back at once, into cleared buffers */
    static uint8_t rd[MANY][4096];
    memset(rd, 0, sizeof(rd));
    reset_completions();
    for (int i = 0; i < MANY; i++) {
        int j = MANY - 1 - i;  /* another order */
        treq_init(&t[j], BLOCK_OP_READ, base + (uint64_t)j * 4096, 0);
        t[j].iov[0] = (struct iovec){ rd[j], 4096 };
        t[j].br.iov = t[j].iov;
        t[j].br.iovcnt = 1;
        CHECK_EQ(block_submit(bd, &t[j].br), 0);
    }
    CHECK(wait_completions(MANY));
    bad = 0;
    for (int i = 0; i < MANY; i++)
        bad += t[i].calls != 1 || t[i].result != 0 || memcmp(rd[i], bufs[i], 4096) != 0;
    CHECK_EQ(bad, 0);
    loop_stop(l);
    block_close(bd);
    loop_destroy(l);
}

/* Detaching with requests in flight: every request gets exactly one done(),
 * finished (0) or never started (-ECANCELED); finished ones are on disk. */
static void test_detach_in_flight(const char *p, const char *want)
{
    struct io_loop *l;
    CHECK_EQ(loop_create(&l), 0);
    CHECK_EQ(loop_start(l), 0);
    struct block_dev *bd = open_attached(p, "raw", false, l);
    CHECK(bd != NULL);
    if (!bd) {
        loop_destroy(l);
        return;
    }
    CHECK(strcmp(block_async_backend(bd), want) == 0);
    static struct treq t[600];
    static uint8_t buf[600][4096];
    uint64_t base = 12 * MIB;
    reset_completions();
    for (int i = 0; i < 600; i++) {
        memset(buf[i], (uint8_t)(0x40 + i % 64), 4096);
        treq_init(&t[i], BLOCK_OP_WRITE, base + (uint64_t)i * 4096, 0);
        t[i].iov[0] = (struct iovec){ buf[i], 4096 };
        t[i].br.iov = t[i].iov;
        t[i].br.iovcnt = 1;
        CHECK_EQ(block_submit(bd, &t[i].br), 0);
    }
    /* as at VM teardown: the loop stops, then the disk lets go */
    loop_stop(l);
    block_detach_loop(bd);
    CHECK(block_async_backend(bd) == NULL);
    int bad = 0, finished = 0;
    static uint8_t back[4096];
    for (int i = 0; i < 600; i++) {
        bad += t[i].calls != 1 || (t[i].result != 0 && t[i].result != -ECANCELED);
        if (t[i].result == 0) {
            finished++;
            file_read(p, base + (uint64_t)i * 4096, back, 4096);
            bad += memcmp(back, buf[i], 4096) != 0;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(completions, 600);
    CHECK(finished > 0 || strcmp(want, "thread") == 0);
    block_close(bd);
    loop_destroy(l);
}

/* qcow2 keeps the worker thread (its requests are chains of metadata and
 * data operations) even where io_uring is allowed. */
static void test_qcow2_uses_thread(void)
{
    const char *p = path_in("disk.qcow2");
    struct block_create_opts co = { .format = "qcow2", .size = 4 * MIB };
    CHECK_EQ(block_create(p, &co), 0);
    struct block_dev *bd = open_attached(p, NULL, false, loop);
    CHECK(bd != NULL);
    if (!bd)
        return;
    CHECK(strcmp(block_async_backend(bd), "thread") == 0);
    static uint8_t w[65536], back[65536];
    memset(w, 'Q', sizeof(w));
    CHECK_EQ(rw(bd, BLOCK_OP_WRITE, 65536, w, sizeof(w)), 0);
    CHECK_EQ(rw(bd, BLOCK_OP_READ, 65536, back, sizeof(back)), 0);
    CHECK(memcmp(w, back, sizeof(w)) == 0);
    block_close(bd);
    unlink(p);
}

static void run_backend(const char *want, bool uring_here)
{
    if (strcmp(want, "thread") == 0)
        setenv("BRUME_NO_IO_URING", "1", 1);
    else
        setenv("BRUME_NO_IO_URING", "0", 1);
    if (strcmp(want, "io_uring") == 0 && !uring_here)
        want = "thread";
    char p[512];
    snprintf(p, sizeof(p), "%s", path_in("disk.raw"));
    struct block_create_opts co = { .format = "raw", .size = DISK_SIZE };
    CHECK_EQ(block_create(p, &co), 0);
    bool punch = can_punch();
    struct block_dev *bd = open_attached(p, "raw", false, loop);
    CHECK(bd != NULL);
    if (!bd)
        return;
    CHECK(strcmp(block_async_backend(bd), want) == 0);
    fprintf(stderr, "%s on %s%s\n", block_async_backend(bd), dir, punch ? "" : " (no hole punching)");
    test_read_write(bd, p);
    test_discard(bd, p, punch);
    test_write_zeroes(bd, p, punch);
    test_short_read(bd, p);
    test_errors(bd, p);
    block_close(bd);
    test_many(p, want);
    test_read_only_image(p, want);
    test_detach_in_flight(p, want);
    test_qcow2_uses_thread();
    unlink(p);
}

/* Can this process use io_uring at all? (ENOSYS, EPERM under seccomp or
 * kernel.io_uring_disabled.) Then the io_uring pass checks the fallback. */
static bool uring_available(void)
{
    const char *p = path_in("probe.raw");
    struct block_create_opts co = { .format = "raw", .size = MIB };
    if (block_create(p, &co) < 0)
        return false;
    unsetenv("BRUME_NO_IO_URING");
    struct block_dev *bd = open_attached(p, "raw", false, loop);
    bool ok = bd && strcmp(block_async_backend(bd), "io_uring") == 0;
    block_close(bd);
    unlink(p);
    return ok;
}

/* In a child whose io_uring_setup fails with err (seccomp, as a container
 * profile does): a raw disk falls back to the worker thread and works. */
static void test_fallback(int err)
{
    char p[512];
    snprintf(p, sizeof(p), "%s", path_in("fallback.raw"));
    struct block_create_opts co = { .format = "raw", .size = MIB };
    CHECK_EQ(block_create(p, &co), 0);
    pid_t pid = fork();
    if (pid == 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(io_uring_setup), 0) < 0 ||
            seccomp_load(ctx) < 0)
            _exit(3);
        seccomp_release(ctx);
        unsetenv("BRUME_NO_IO_URING");
        struct io_loop *l;
        if (loop_create(&l) < 0 || loop_start(l) < 0)
            _exit(4);
        struct block_dev *bd = open_attached(p, "raw", false, l);
        if (!bd)
            _exit(5);
        if (strcmp(block_async_backend(bd), "thread") != 0)
            _exit(6);
        static uint8_t w[4096], r[4096];
        memset(w, 'F', sizeof(w));
        if (rw(bd, BLOCK_OP_WRITE, 8192, w, sizeof(w)) != 0 || rw(bd, BLOCK_OP_READ, 8192, r, sizeof(r)) != 0 ||
            memcmp(w, r, sizeof(w)) != 0)
            _exit(7);
        block_close(bd);
        loop_destroy(l);
        _exit(test_failures ? 8 : 0);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "fallback with io_uring_setup -> %s: child status %d\n", strerror(err), st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static uint8_t back[4096];
    file_read(p, 8192, back, sizeof(back));
    CHECK(all_bytes(back, sizeof(back), 'F'));
    unlink(p);
}

static void run_in(const char *parent)
{
    snprintf(dir, sizeof(dir), "%s/brume-test-aio-XXXXXX", parent);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "%s: cannot make a directory: %s\n", parent, strerror(errno));
        CHECK(strcmp(parent, "/tmp") != 0);  /* only /dev/shm may be missing */
        return;
    }
    bool uring = uring_available();
    if (!uring)
        fprintf(stderr, "io_uring is unavailable here: both passes use the worker thread\n");
    run_backend("io_uring", uring);
    run_backend("thread", uring);
    test_fallback(ENOSYS);
    test_fallback(EPERM);
    rmdir(dir);
}

int main(void)
{
    CHECK_EQ(loop_create(&loop), 0);
    CHECK_EQ(loop_start(loop), 0);
    run_in("/tmp");
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
        run_in("/dev/shm");
    loop_destroy(loop);
    TEST_MAIN_END();
}
