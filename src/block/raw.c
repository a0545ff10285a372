/* The raw format: the file is the disk. Holes read as zeroes, so discard
 * and write-zeroes punch holes where the file system allows. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"
#include "util/log.h"

static int raw_probe(const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 1;  /* anything is raw, at the lowest score */
}

static int raw_open(struct block_dev *bd)
{
    struct stat st;
    if (fstat(bd->fd, &st) < 0)
        return err_set(-errno, "%s: %s", bd->path, strerror(errno));
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(bd->fd, 0, SEEK_END);
        if (end < 0)
            return err_set(-errno, "%s: cannot size block device", bd->path);
        bd->size = (uint64_t)end;
    } else {
        bd->size = (uint64_t)st.st_size;
    }
    return 0;
}

static void raw_close(struct block_dev *bd) { (void)bd; }

static int raw_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    return file_preadv_all(bd->fd, iov, iovcnt, off, len);
}

static int raw_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    return file_pwritev_all(bd->fd, iov, iovcnt, off, len);
}

static int raw_flush(struct block_dev *bd)
{
    return fdatasync(bd->fd) < 0 ? -errno : 0;
}

static int raw_zero_fill(struct block_dev *bd, uint64_t off, uint64_t len)
{
    static const char zeros[65536];
    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        int r = file_pwrite_all(bd->fd, zeros, n, off);
        if (r)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

static int raw_write_zeroes(struct block_dev *bd, uint64_t off, uint64_t len, bool may_unmap)
{
    int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    if (fallocate(bd->fd, mode, (off_t)off, (off_t)len) == 0)
        return 0;
    return raw_zero_fill(bd, off, len);
}

static int raw_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
    if (fallocate(bd->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0 &&
        errno != EOPNOTSUPP)
        return -errno;
    return 0;
}

/* Uses SEEK_DATA/SEEK_HOLE to report holes as zero runs. */
static int raw_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host_off)
{
    *host_off = off;
    off_t data = lseek(bd->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {  /* only a hole up to the end */
            *pnum = len;
            return BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
        }
        *pnum = len;
        return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
    }
    if ((uint64_t)data > off) {
        uint64_t n = (uint64_t)data - off;
        *pnum = n < len ? n : len;
        return BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
    }
    off_t hole = lseek(bd->fd, (off_t)off, SEEK_HOLE);
    uint64_t n = hole < 0 ? len : (uint64_t)hole - off;
    *pnum = n < len && n ? n : len;
    return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
}

static int raw_info(struct block_dev *bd, struct block_info *info)
{
    (void)bd;
    info->cluster_size = 0;
    return 0;
}

static int raw_truncate(struct block_dev *bd, uint64_t size)
{
    if (ftruncate(bd->fd, (off_t)size) < 0)
        return err_set(-errno, "%s: cannot resize: %s", bd->path, strerror(errno));
    bd->size = size;
    return 0;
}

const struct block_driver block_raw_driver = {
    .name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .status = raw_status,
    .info = raw_info,
    .truncate = raw_truncate,
};
