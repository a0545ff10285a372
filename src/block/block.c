/* Block layer core: the probe list, opening a chain of images, and the
 * dispatch of I/O to the driver with bounds checks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"
#include "util/log.h"

/* Most specific first; raw accepts anything and comes last. */
static const struct block_driver *const drivers[] = {
    &block_qcow2_driver,
    &block_vmdk_driver,
    &block_vdi_driver,
    &block_raw_driver,
};

static const struct block_driver *driver_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

static const struct block_driver *driver_probe(int fd)
{
    uint8_t buf[4096];
    if (file_pread_all(fd, buf, sizeof(buf), 0) < 0)
        return NULL;
    const struct block_driver *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
        int s = drivers[i]->probe(buf, sizeof(buf));
        if (s > best_score) {
            best_score = s;
            best = drivers[i];
        }
    }
    return best;
}

struct chain_seen {
    dev_t dev[BLOCK_MAX_CHAIN + 1];
    ino_t ino[BLOCK_MAX_CHAIN + 1];
    int n;
};

static int open_one(const char *path, const struct block_open_opts *opts, bool writable, int depth,
                    struct chain_seen *seen, struct block_dev **out);

static void dev_free(struct block_dev *bd)
{
    if (!bd)
        return;
    if (bd->backing)
        dev_free(bd->backing);
    if (bd->drv && bd->priv)
        bd->drv->close(bd);
    if (bd->fd >= 0) {
        if (bd->locked)
            block_lock_release(bd->fd);
        close(bd->fd);
    }
    free(bd->path);
    free(bd);
}

/* Resolves name relative to the directory of the image that names it. */
static char *backing_path(const char *image, const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    const char *slash = strrchr(image, '/');
    if (!slash)
        return strdup(name);
    size_t dl = (size_t)(slash - image) + 1;
    char *p = malloc(dl + strlen(name) + 1);
    if (!p)
        return NULL;
    memcpy(p, image, dl);
    strcpy(p + dl, name);
    return p;
}

static int open_one(const char *path, const struct block_open_opts *opts, bool writable, int depth,
                    struct chain_seen *seen, struct block_dev **out)
{
    if (depth > BLOCK_MAX_CHAIN)
        return err_set(-ELOOP, "%s: backing chain longer than %d images", path, BLOCK_MAX_CHAIN);
    struct block_dev *bd = calloc(1, sizeof(*bd));
    if (!bd)
        return err_set(-ENOMEM, "out of memory");
    bd->fd = -1;
    bd->depth = depth;
    bd->opts = opts;
    bd->read_only = !writable;
    bd->path = strdup(path);
    int r;
    if (!bd->path) {
        r = err_set(-ENOMEM, "out of memory");
        goto fail;
    }
    bd->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (bd->fd < 0) {
        r = err_set(-errno, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(bd->fd, &st) < 0) {
        r = err_set(-errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    for (int i = 0; i < seen->n; i++)
        if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino) {
            r = err_set(-ELOOP, "%s: loop in the backing chain (the image backs itself)", path);
            goto fail;
        }
    seen->dev[seen->n] = st.st_dev;
    seen->ino[seen->n] = st.st_ino;
    seen->n++;
    if (S_ISDIR(st.st_mode)) {
        r = err_set(-EISDIR, "%s: is a directory", path);
        goto fail;
    }
    if (!opts->no_lock) {
        r = block_lock_take(bd->fd, path, writable);
        if (r)
            goto fail;
        bd->locked = true;
    }
    const char *fmt = depth == 0 ? opts->format : NULL;
    if (fmt) {
        bd->drv = driver_by_name(fmt);
        if (!bd->drv) {
            r = err_set(-EINVAL, "%s: unknown image format '%s'", path, fmt);
            goto fail;
        }
    } else {
        bd->drv = driver_probe(bd->fd);
        if (!bd->drv) {
            r = err_set(-EIO, "%s: cannot read the image header", path);
            goto fail;
        }
        bd->probed_raw = bd->drv == &block_raw_driver;
    }
    r = bd->drv->open(bd);
    if (r) {
        bd->drv = NULL;
        goto fail;
    }
    if (!bd->priv)
        bd->priv = bd;   /* marks "opened" for drivers without state */
    if (bd->backing_file[0] && !opts->no_backing) {
        char *bp = backing_path(path, bd->backing_file);
        if (!bp) {
            r = err_set(-ENOMEM, "out of memory");
            goto fail;
        }
        struct block_open_opts bo = *opts;
        bo.format = bd->backing_fmt[0] ? bd->backing_fmt : NULL;
        r = open_one(bp, &bo, writable && opts->backing_writable, depth + 1, seen, &bd->backing);
        if (r == 0 && bo.format == NULL)
            bd->backing->drv = bd->backing->drv; /* probed: keep */
        free(bp);
        if (r) {
            char why[400];
            snprintf(why, sizeof(why), "%s", err_get());
            r = err_set(r, "%s: cannot open backing file: %s", path, why);
            goto fail;
        }
    }
    *out = bd;
    return 0;
fail:
    if (bd->priv == bd)
        bd->priv = NULL;
    dev_free(bd);
    return r;
}

/* The backing format written in an image is trusted only when it names a
 * known driver; otherwise the backing file is probed. */
int block_open(const char *path, const struct block_open_opts *opts, struct block_dev **out)
{
    struct block_open_opts def = { 0 };
    if (!opts)
        opts = &def;
    struct chain_seen seen = { .n = 0 };
    struct block_open_opts *copy = malloc(sizeof(*copy));
    if (!copy)
        return err_set(-ENOMEM, "out of memory");
    *copy = *opts;
    copy->format = NULL;
    if (opts->format && !driver_by_name(opts->format)) {
        free(copy);
        return err_set(-EINVAL, "%s: unknown image format '%s'", path, opts->format);
    }
    struct block_open_opts first = *copy;
    first.format = opts->format;
    int r = open_one(path, &first, !opts->read_only, 0, &seen, out);
    if (r) {
        free(copy);
        return r;
    }
    /* opts pointers must outlive this call: point the chain at the copy */
    for (struct block_dev *b = *out; b; b = b->backing)
        b->opts = copy;
    return 0;
}

void block_close(struct block_dev *bd)
{
    if (!bd)
        return;
    if (bd->aio_detach)
        bd->aio_detach(bd);
    if (!bd->read_only && bd->drv && bd->drv->flush && !(bd->opts && bd->opts->no_flush))
        (void)bd->drv->flush(bd);
    const struct block_open_opts *o = bd->opts;
    if (bd->priv == bd)
        bd->priv = NULL;
    for (struct block_dev *b = bd->backing; b; b = b->backing)
        if (b->priv == b)
            b->priv = NULL;
    dev_free(bd);
    free((void *)o);
}

struct block_dev *block_backing(struct block_dev *bd)
{
    return bd->backing;
}

int block_get_info(struct block_dev *bd, struct block_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format = bd->drv->name;
    info->virtual_size = bd->size;
    struct stat st;
    if (fstat(bd->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    info->read_only = bd->read_only;
    info->probed_raw = bd->probed_raw;
    snprintf(info->backing_file, sizeof(info->backing_file), "%s", bd->backing_file);
    snprintf(info->backing_format, sizeof(info->backing_format), "%s", bd->backing_fmt);
    return bd->drv->info ? bd->drv->info(bd, info) : 0;
}

static int check_range(struct block_dev *bd, uint64_t off, uint64_t len, bool write)
{
    if (write && bd->read_only)
        return err_set(-EROFS, "%s: image is opened read-only", bd->path);
    if (off > bd->size || len > bd->size - off)
        return err_set(-EINVAL, "%s: request at %llu+%llu past the end of the disk (%llu bytes)", bd->path,
                       (unsigned long long)off, (unsigned long long)len, (unsigned long long)bd->size);
    return 0;
}

int block_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    uint64_t len = iov_total(iov, iovcnt);
    int r = check_range(bd, offset, len, false);
    if (r || !len)
        return r;
    if (iovcnt > BLOCK_MAX_IOV)
        return err_set(-EINVAL, "too many buffers in one request");
    return bd->drv->preadv(bd, iov, iovcnt, offset, len);
}

int block_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    uint64_t len = iov_total(iov, iovcnt);
    int r = check_range(bd, offset, len, true);
    if (r || !len)
        return r;
    if (iovcnt > BLOCK_MAX_IOV)
        return err_set(-EINVAL, "too many buffers in one request");
    if (!bd->drv->pwritev)
        return err_set(-ENOTSUP, "%s: writing %s images is not supported", bd->path, bd->drv->name);
    return bd->drv->pwritev(bd, iov, iovcnt, offset, len);
}

int block_flush(struct block_dev *bd)
{
    if (bd->read_only || !bd->drv->flush)
        return 0;
    if (bd->opts && bd->opts->no_flush)
        return 0;
    return bd->drv->flush(bd);
}

int block_discard(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    int r = check_range(bd, offset, len, true);
    if (r || !len)
        return r;
    return bd->drv->discard ? bd->drv->discard(bd, offset, len) : 0;
}

/* Generic fallback: writes zero buffers. */
static int zero_by_writing(struct block_dev *bd, uint64_t off, uint64_t len)
{
    size_t chunk = 1 << 20;
    char *z = calloc(1, chunk);
    if (!z)
        return err_set(-ENOMEM, "out of memory");
    int r = 0;
    while (len && !r) {
        size_t n = len < chunk ? (size_t)len : chunk;
        struct iovec v = { z, n };
        r = bd->drv->pwritev(bd, &v, 1, off, n);
        off += n;
        len -= n;
    }
    free(z);
    return r;
}

int block_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len, bool may_unmap)
{
    int r = check_range(bd, offset, len, true);
    if (r || !len)
        return r;
    if (bd->drv->write_zeroes)
        return bd->drv->write_zeroes(bd, offset, len, may_unmap);
    if (!bd->drv->pwritev)
        return err_set(-ENOTSUP, "%s: writing %s images is not supported", bd->path, bd->drv->name);
    return zero_by_writing(bd, offset, len);
}

int block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum, uint64_t *host_off)
{
    int r = check_range(bd, offset, len, false);
    if (r)
        return r;
    *host_off = 0;
    if (!len) {
        *pnum = 0;
        return 0;
    }
    if (!bd->drv->status) {
        *pnum = len;
        return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED;
    }
    r = bd->drv->status(bd, offset, len, pnum, host_off);
    if (r >= 0 && (*pnum == 0 || *pnum > len))
        *pnum = len;
    return r;
}

int block_truncate(struct block_dev *bd, uint64_t size)
{
    if (bd->read_only)
        return err_set(-EROFS, "%s: image is opened read-only", bd->path);
    if (!bd->drv->truncate)
        return err_set(-ENOTSUP, "%s: resizing %s images is not supported", bd->path, bd->drv->name);
    return bd->drv->truncate(bd, size);
}

int block_write_compressed(struct block_dev *bd, const void *buf, uint64_t offset)
{
    if (!bd->drv->write_compressed)
        return err_set(-ENOTSUP, "%s: the %s format has no compressed clusters", bd->path, bd->drv->name);
    if (bd->read_only)
        return err_set(-EROFS, "%s: image is opened read-only", bd->path);
    return bd->drv->write_compressed(bd, buf, offset);
}

int block_set_backing(struct block_dev *bd, const char *file, const char *fmt)
{
    if (!bd->drv->set_backing)
        return err_set(-ENOTSUP, "%s: the %s format has no backing files", bd->path, bd->drv->name);
    if (bd->read_only)
        return err_set(-EROFS, "%s: image is opened read-only", bd->path);
    return bd->drv->set_backing(bd, file, fmt);
}

int block_check(struct block_dev *bd, struct block_check *res, int repair)
{
    memset(res, 0, sizeof(*res));
    if (!bd->drv->check)
        return err_set(-ENOTSUP, "%s: format '%s' does not support checks", bd->path, bd->drv->name);
    if (repair && bd->read_only)
        return err_set(-EROFS, "%s: image is opened read-only", bd->path);
    return bd->drv->check(bd, res, repair);
}

int block_read_backing(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct block_dev *b = bd->backing;
    uint64_t have = 0;
    if (b && off < b->size) {
        have = b->size - off < len ? b->size - off : len;
        struct iovec v[BLOCK_MAX_IOV];
        int n = iov_slice(iov, iovcnt, 0, have, v, BLOCK_MAX_IOV);
        if (n < 0)
            return n;
        int r = b->drv->preadv(b, v, n, off, have);
        if (r)
            return r;
    }
    if (have < len)
        iov_memset(iov, iovcnt, have, 0, len - have);
    return 0;
}

int qcow2_create(const char *path, const struct block_create_opts *o);

int block_create(const char *path, const struct block_create_opts *opts)
{
    struct block_create_opts o = *opts;
    if (!o.format)
        o.format = "raw";
    if (o.backing_file && !o.size) {
        struct block_open_opts bo = { .format = o.backing_fmt, .read_only = true, .no_lock = true };
        struct block_dev *b;
        char *bp = backing_path(path, o.backing_file);
        if (!bp)
            return err_set(-ENOMEM, "out of memory");
        int r = block_open(bp, &bo, &b);
        free(bp);
        if (r)
            return r;
        o.size = b->size;
        if (!o.backing_fmt)
            o.backing_fmt = b->drv->name;
        int same = o.backing_fmt == b->drv->name;
        (void)same;
        block_close(b);
        if (!o.backing_fmt)
            return -EINVAL;
    }
    if (strcmp(o.format, "qcow2") == 0)
        return qcow2_create(path, &o);
    if (strcmp(o.format, "raw") != 0)
        return err_set(-ENOTSUP, "%s: cannot create images of format '%s' (raw and qcow2 only)", path, o.format);
    if (o.backing_file)
        return err_set(-EINVAL, "%s: raw images have no backing file", path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(-errno, "%s: cannot create: %s", path, strerror(errno));
    int r = 0;
    if (ftruncate(fd, (off_t)o.size) < 0)
        r = err_set(-errno, "%s: cannot set size: %s", path, strerror(errno));
    const char *pa = o.preallocation ? o.preallocation : "off";
    if (!r && (strcmp(pa, "falloc") == 0 || strcmp(pa, "full") == 0) && o.size &&
        fallocate(fd, 0, 0, (off_t)o.size) < 0)
        r = err_set(-errno, "%s: cannot preallocate: %s", path, strerror(errno));
    close(fd);
    return r;
}
