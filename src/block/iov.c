/* Whole-range file I/O shared by the drivers (iovec helpers: util/iov.h). */
#include <errno.h>
#include <unistd.h>

#include "block/block_int.h"

int file_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0) {            /* past end of file: reads as zeroes */
            memset(p, 0, len);
            return 0;
        }
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t r = pwrite(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

/* Advances a private copy of the vector past done bytes. */
static int iov_advance(struct iovec *v, int cnt, size_t done, int *first)
{
    int i = *first;
    while (i < cnt && done >= v[i].iov_len) {
        done -= v[i].iov_len;
        i++;
    }
    if (i < cnt) {
        v[i].iov_base = (char *)v[i].iov_base + done;
        v[i].iov_len -= done;
    }
    *first = i;
    return i;
}

int file_preadv_all(int fd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct iovec v[BLOCK_MAX_IOV];
    int cnt = iov_slice(iov, iovcnt, 0, len, v, BLOCK_MAX_IOV);
    if (cnt < 0)
        return cnt;
    int first = 0;
    while (first < cnt) {
        ssize_t r = preadv(fd, v + first, cnt - first, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0) {
            for (int i = first; i < cnt; i++)
                memset(v[i].iov_base, 0, v[i].iov_len);
            return 0;
        }
        off += (uint64_t)r;
        iov_advance(v, cnt, (size_t)r, &first);
    }
    return 0;
}

int file_pwritev_all(int fd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct iovec v[BLOCK_MAX_IOV];
    int cnt = iov_slice(iov, iovcnt, 0, len, v, BLOCK_MAX_IOV);
    if (cnt < 0)
        return cnt;
    int first = 0;
    while (first < cnt) {
        ssize_t r = pwritev(fd, v + first, cnt - first, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        off += (uint64_t)r;
        iov_advance(v, cnt, (size_t)r, &first);
    }
    return 0;
}
