#include "util/iov.h"

#include <stdint.h>
#include <string.h>

size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

int iov_slice(const struct iovec *iov, int cnt, size_t offset, size_t len,
              struct iovec *dst, int max)
{
    int n = 0;
    for (int i = 0; i < cnt && len; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t take = iov[i].iov_len - offset;
        if (take > len)
            take = len;
        if (n >= max)
            return -1;
        dst[n].iov_base = (uint8_t *)iov[i].iov_base + offset;
        dst[n].iov_len = take;
        n++;
        len -= take;
        offset = 0;
    }
    return len ? -1 : n;
}

/* Visits the pieces of [offset, offset+len) in order; op gets each piece
 * and how far into the range it starts. Returns the bytes visited. */
static size_t iov_walk(const struct iovec *iov, int cnt, size_t offset, size_t len,
                       void (*op)(uint8_t *piece, size_t n, size_t done, void *ctx), void *ctx)
{
    size_t done = 0;
    for (int i = 0; i < cnt && done < len; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - offset;
        if (n > len - done)
            n = len - done;
        op((uint8_t *)iov[i].iov_base + offset, n, done, ctx);
        done += n;
        offset = 0;
    }
    return done;
}

static void copy_out(uint8_t *piece, size_t n, size_t done, void *buf)
{
    memcpy((uint8_t *)buf + done, piece, n);
}

static void copy_in(uint8_t *piece, size_t n, size_t done, void *buf)
{
    memcpy(piece, (const uint8_t *)buf + done, n);
}

static void fill(uint8_t *piece, size_t n, size_t done, void *c)
{
    (void)done;
    memset(piece, *(int *)c, n);
}

size_t iov_to_buf(const struct iovec *iov, int cnt, size_t offset, void *buf, size_t len)
{
    return iov_walk(iov, cnt, offset, len, copy_out, buf);
}

size_t iov_from_buf(const struct iovec *iov, int cnt, size_t offset, const void *buf, size_t len)
{
    return iov_walk(iov, cnt, offset, len, copy_in, (void *)buf);
}

size_t iov_memset(const struct iovec *iov, int cnt, size_t offset, int c, size_t len)
{
    return iov_walk(iov, cnt, offset, len, fill, &c);
}
