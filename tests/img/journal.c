/* Write journal for the power-loss test (powerloss.py): linked into
 * blktool-journal with -Wl,--wrap, it records every write, hole punch,
 * truncate and flush the block layer makes to the image named by
 * $BRUME_JOURNAL_IMG, in order, into the file $BRUME_JOURNAL. The replay
 * then builds the states a power loss could leave: everything before some
 * flush, plus any subset of the writes after it. Also recorded: writes to
 * blktool's raw reference file ($BRUME_JOURNAL_REF), and the moments a
 * guest flush returned (journal_guest_flush), so the replay knows what
 * content must have survived. Records: one type byte ('W' write, 'P'
 * punch, 'T' truncate, 'S' fdatasync, 'R' reference write, 'G' guest flush
 * done), two little-endian u64 (offset, length), then the data of a
 * write. */
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t __real_pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off);
int __real_fallocate64(int fd, int mode, off_t off, off_t len);
int __real_ftruncate64(int fd, off_t len);
int __real_fdatasync(int fd);
int __real_fsync(int fd);

static FILE *jf;
static char img[PATH_MAX], ref[PATH_MAX];

static void journal_close(void)
{
    if (jf)
        fclose(jf);
}

/* 1 for the image, 2 for the reference file, 0 for anything else. */
static int which(int fd)
{
    static bool init;
    if (!init) {
        init = true;
        const char *j = getenv("BRUME_JOURNAL"), *i = getenv("BRUME_JOURNAL_IMG"), *r = getenv("BRUME_JOURNAL_REF");
        if (j && i && realpath(i, img) && (jf = fopen(j, "w"))) {
            setvbuf(jf, NULL, _IOFBF, 1 << 20);
            atexit(journal_close);
        }
        if (!r || !realpath(r, ref))
            ref[0] = 0;
    }
    if (!jf)
        return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return false;
    path[n] = 0;
    return !strcmp(path, img) ? 1 : ref[0] && !strcmp(path, ref) ? 2 : 0;
}

static bool is_image(int fd)
{
    return which(fd) == 1;
}

static void record(char type, uint64_t off, uint64_t len, const void *data, size_t dlen)
{
    fputc(type, jf);
    fwrite(&off, 8, 1, jf);
    fwrite(&len, 8, 1, jf);
    if (dlen)
        fwrite(data, 1, dlen, jf);
}

void journal_guest_flush(void);
void journal_guest_flush(void)
{
    if (jf)
        record('G', 0, 0, NULL, 0);
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r = __real_pwrite64(fd, buf, n, off);
    int w = r > 0 ? which(fd) : 0;
    if (w)
        record(w == 1 ? 'W' : 'R', (uint64_t)off, (uint64_t)r, buf, (size_t)r);
    return r;
}

ssize_t __wrap_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ssize_t r = __real_pwritev64(fd, iov, cnt, off);
    if (r > 0 && is_image(fd)) {
        record('W', (uint64_t)off, (uint64_t)r, NULL, 0);
        size_t left = (size_t)r;
        for (int i = 0; i < cnt && left; i++) {
            size_t l = iov[i].iov_len < left ? iov[i].iov_len : left;
            fwrite(iov[i].iov_base, 1, l, jf);
            left -= l;
        }
    }
    return r;
}

int __wrap_fallocate64(int fd, int mode, off_t off, off_t len)
{
    int r = __real_fallocate64(fd, mode, off, len);
    if (r == 0 && is_image(fd))
        record((mode & FALLOC_FL_PUNCH_HOLE) ? 'P' : 'W', (uint64_t)off, (mode & FALLOC_FL_PUNCH_HOLE) ? (uint64_t)len : 0,
               NULL, 0);
    return r;
}

int __wrap_ftruncate64(int fd, off_t len)
{
    int r = __real_ftruncate64(fd, len);
    if (r == 0 && is_image(fd))
        record('T', 0, (uint64_t)len, NULL, 0);
    return r;
}

int __wrap_fdatasync(int fd)
{
    int r = __real_fdatasync(fd);
    if (r == 0 && is_image(fd))
        record('S', 0, 0, NULL, 0);
    return r;
}

int __wrap_fsync(int fd)
{
    int r = __real_fsync(fd);
    if (r == 0 && is_image(fd))
        record('S', 0, 0, NULL, 0);
    return r;
}
