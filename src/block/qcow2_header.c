/* qcow2: probing, opening (with validation of every header field, since
 * images come from anywhere), creating, and header updates. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

int qcow2_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);
int qcow2_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);
int qcow2_discard(struct block_dev *bd, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct block_dev *bd, uint64_t off, uint64_t len, bool may_unmap);
int qcow2_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host_off);
int qcow2_preallocate(struct block_dev *bd, const char *mode);

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    return len >= 8 && rd32be(buf) == QCOW2_MAGIC ? 100 : 0;  /* bad versions then fail clearly */
}

int qcow2_write_header_field(struct block_dev *bd, uint32_t at, const void *p, size_t len)
{
    int r = file_pwrite_all(bd->fd, p, len, at);
    return r ? err_set(r, "%s: cannot write the header: %s", bd->path, strerror(-r)) : 0;
}

/* Sets the corrupt bit (v3, writable images) so that nobody keeps writing
 * through broken metadata; returns -EIO with the reason. */
int qcow2_mark_corrupt(struct block_dev *bd, const char *why)
{
    struct qcow2 *q = QS(bd);
    if (!bd->read_only && q->version >= 3 && !(q->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        q->incompat |= QCOW2_INCOMPAT_CORRUPT;
        uint8_t b[8];
        wr64be(b, q->incompat);
        (void)file_pwrite_all(bd->fd, b, 8, 72);
        (void)fdatasync(bd->fd);
        bd->read_only = true;
        log_warn("%s: marked corrupt: %s (writes stopped; see brume img check)", bd->path, why);
    }
    return err_set(-EIO, "%s: corrupt image: %s", bd->path, why);
}

/* Serializes the header, extensions and backing file name into buf (one
 * cluster), so that rewriting them is a single write. */
static int build_header(struct qcow2 *q, uint64_t size, const char *backing, const char *bfmt, uint8_t *buf,
                        uint32_t cap)
{
    memset(buf, 0, cap);
    wr32be(buf, QCOW2_MAGIC);
    wr32be(buf + 4, (uint32_t)q->version);
    wr32be(buf + 20, q->cluster_bits);
    wr64be(buf + 24, size);
    wr32be(buf + 36, q->l1_size);
    wr64be(buf + 40, q->l1_offset);
    wr64be(buf + 48, q->rt_offset);
    wr32be(buf + 56, q->rt_clusters);
    wr32be(buf + 60, q->nb_snapshots);
    wr64be(buf + 64, q->snapshots_offset);
    uint32_t p = 72;
    if (q->version >= 3) {
        wr64be(buf + 72, q->incompat);
        wr64be(buf + 80, q->compat);
        wr64be(buf + 88, q->autoclear);
        wr32be(buf + 96, q->refcount_order);
        wr32be(buf + 100, 112);
        buf[104] = (uint8_t)q->compression;
        p = 112;
    }
    if (backing && bfmt && bfmt[0]) {
        uint32_t l = (uint32_t)strlen(bfmt);
        if (p + 8 + l + 16 > cap)
            return -ENOSPC;
        wr32be(buf + p, QCOW2_EXT_BACKING_FORMAT);
        wr32be(buf + p + 4, l);
        memcpy(buf + p + 8, bfmt, l);
        p += 8 + ((l + 7) & ~7u);
    }
    p += 8;   /* end of extensions */
    if (backing) {
        uint32_t l = (uint32_t)strlen(backing);
        if (l > 1023 || p + l > cap)
            return -ENAMETOOLONG;
        memcpy(buf + p, backing, l);
        wr64be(buf + 8, p);
        wr32be(buf + 16, l);
        p += l;
    }
    return (int)p;
}

static int parse_extensions(struct block_dev *bd, struct qcow2 *q, const uint8_t *h, uint32_t hlen, uint64_t end)
{
    uint64_t p = hlen;
    while (p + 8 <= end) {
        uint32_t type = rd32be(h + p), len = rd32be(h + p + 4);
        if (type == 0)
            return 0;
        if (len > end - p - 8)
            return err_set(-EINVAL, "%s: qcow2 header extension 0x%x overflows the header", bd->path, type);
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            if (len >= sizeof(bd->backing_fmt))
                return err_set(-EINVAL, "%s: backing format name too long", bd->path);
            memcpy(bd->backing_fmt, h + p + 8, len);
            bd->backing_fmt[len] = 0;
        } else if (type == QCOW2_EXT_DATA_FILE) {
            return err_set(-ENOTSUP, "%s: qcow2 external data files are not supported", bd->path);
        } else if (type == QCOW2_EXT_CRYPTO) {
            return err_set(-ENOTSUP, "%s: encrypted qcow2 images are not supported", bd->path);
        }
        p += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    (void)q;
    return 0;
}

static void qcow2_close(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    if (!q)
        return;
    if (!bd->read_only && q->l2c.slots) {
        int r = qcow2_writeback(bd);
        if (!r && q->need_sync)
            r = qcow2_sync(bd);
        if (!r && q->freed)
            r = qcow2_trim_tail(bd);
        if (r)
            log_warn("%s: metadata not written at close: %s", bd->path, err_get());
    }
    free(q->pending_free);
    qcow2_cache_free(&q->l2c);
    qcow2_cache_free(&q->rbc);
    free(q->l1);
    free(q->rt);
    free(q->comp_cache);
    free(q->scratch);
    free(q->zbuf);
    free(q);
    bd->priv = NULL;
}

static int load_table(struct block_dev *bd, uint64_t off, uint64_t n, uint64_t **out, const char *what)
{
    uint64_t *t = calloc(n ? n : 1, 8);
    if (!t)
        return err_set(-ENOMEM, "%s: cannot allocate the %s (%llu entries)", bd->path, what, (unsigned long long)n);
    int r = n ? file_pread_all(bd->fd, t, n * 8, off) : 0;
    if (r) {
        free(t);
        return err_set(r, "%s: cannot read the %s: %s", bd->path, what, strerror(-r));
    }
    for (uint64_t i = 0; i < n; i++)
        t[i] = be64toh(t[i]);
    *out = t;
    return 0;
}

static int qcow2_open(struct block_dev *bd)
{
    uint8_t h[4096];
    int r = file_pread_all(bd->fd, h, sizeof(h), 0);
    if (r)
        return err_set(r, "%s: cannot read the header: %s", bd->path, strerror(-r));
    struct stat st;
    if (fstat(bd->fd, &st) < 0)
        return err_set(-errno, "%s: %s", bd->path, strerror(errno));
    uint64_t fsize = (uint64_t)st.st_size;
    if (fsize < 72 || rd32be(h) != QCOW2_MAGIC)
        return err_set(-EINVAL, "%s: not a qcow2 image (bad magic or truncated header)", bd->path);
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (!q)
        return err_set(-ENOMEM, "out of memory");
    bd->priv = q;
    q->version = (int)rd32be(h + 4);
    q->cluster_bits = rd32be(h + 20);
    bd->size = rd64be(h + 24);
    uint32_t crypt = rd32be(h + 32);
    q->l1_size = rd32be(h + 36);
    q->l1_offset = rd64be(h + 40);
    q->rt_offset = rd64be(h + 48);
    q->rt_clusters = rd32be(h + 56);
    q->nb_snapshots = rd32be(h + 60);
    q->snapshots_offset = rd64be(h + 64);
    q->refcount_order = 4;
    q->header_length = 72;
    if (q->version != 2 && q->version != 3) {
        r = err_set(-ENOTSUP, "%s: qcow2 version %d is not supported", bd->path, q->version);
        goto fail;
    }
    if (q->version == 3) {
        q->incompat = rd64be(h + 72);
        q->compat = rd64be(h + 80);
        q->autoclear = rd64be(h + 88);
        q->refcount_order = rd32be(h + 96);
        q->header_length = rd32be(h + 100);
        if (q->header_length < 104 || q->header_length > 4096 - 8 || (q->header_length & 7)) {
            r = err_set(-EINVAL, "%s: bad qcow2 header length %u", bd->path, q->header_length);
            goto fail;
        }
    }
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        r = err_set(-EINVAL, "%s: bad cluster size (2^%u bytes)", bd->path, q->cluster_bits);
        goto fail;
    }
    q->cluster_size = 1u << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->l2_entries = 1u << q->l2_bits;
    if (crypt) {
        r = err_set(-ENOTSUP, "%s: encrypted qcow2 images are not supported", bd->path);
        goto fail;
    }
    if (q->incompat & ~QCOW2_INCOMPAT_KNOWN) {
        const char *what = (q->incompat & QCOW2_INCOMPAT_EXTL2) ? " (extended L2 entries)"
                           : (q->incompat & QCOW2_INCOMPAT_DATA_FILE) ? " (external data file)" : "";
        r = err_set(-ENOTSUP, "%s: unsupported qcow2 feature bits 0x%llx%s", bd->path,
                    (unsigned long long)(q->incompat & ~QCOW2_INCOMPAT_KNOWN), what);
        goto fail;
    }
    if (q->refcount_order > 6) {
        r = err_set(-EINVAL, "%s: bad refcount order %u", bd->path, q->refcount_order);
        goto fail;
    }
    q->rb_entries = (uint32_t)(((uint64_t)q->cluster_size * 8) >> q->refcount_order);
    if (q->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        q->compression = q->header_length > 104 ? h[104] : 0;
        if (q->compression > 1) {
            r = err_set(-ENOTSUP, "%s: unknown compression type %d", bd->path, q->compression);
            goto fail;
        }
    }
    if (bd->size > (1ull << 61) || bd->size > ((uint64_t)q->l1_size << (q->cluster_bits + q->l2_bits)) ||
        (uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        r = err_set(-EINVAL, "%s: absurd or inconsistent size (virtual size %llu, L1 table of %u entries)",
                    bd->path, (unsigned long long)bd->size, q->l1_size);
        goto fail;
    }
    if ((q->l1_offset & (q->cluster_size - 1)) || (q->rt_offset & (q->cluster_size - 1)) || !q->rt_offset) {
        r = err_set(-EINVAL, "%s: L1 or refcount table offset not aligned to a cluster", bd->path);
        goto fail;
    }
    if ((uint64_t)q->rt_clusters * q->cluster_size > QCOW2_MAX_RT_BYTES * 8 || !q->rt_clusters) {
        r = err_set(-EINVAL, "%s: absurd refcount table size (%u clusters)", bd->path, q->rt_clusters);
        goto fail;
    }
    if (q->l1_offset + (uint64_t)q->l1_size * 8 > fsize ||
        q->rt_offset + (uint64_t)q->rt_clusters * q->cluster_size > fsize) {
        r = err_set(-EINVAL, "%s: L1 or refcount table past the end of the file (truncated image?)", bd->path);
        goto fail;
    }
    if (q->l1_size && q->l1_offset < q->cluster_size) {
        r = err_set(-EINVAL, "%s: L1 table overlaps the header", bd->path);
        goto fail;
    }
    if (q->rt_offset < q->cluster_size) {
        r = err_set(-EINVAL, "%s: refcount table overlaps the header", bd->path);
        goto fail;
    }
    {
        uint64_t l1e = q->l1_offset + (uint64_t)q->l1_size * 8;
        uint64_t rte = q->rt_offset + (uint64_t)q->rt_clusters * q->cluster_size;
        if (q->l1_size && q->l1_offset < rte && q->rt_offset < l1e) {
            r = err_set(-EINVAL, "%s: L1 table and refcount table overlap", bd->path);
            goto fail;
        }
    }
    uint64_t bfo = rd64be(h + 8);
    uint32_t bfl = rd32be(h + 16);
    uint64_t ext_end = bfo && bfo < sizeof(h) ? bfo : (q->cluster_size < sizeof(h) ? q->cluster_size : sizeof(h));
    r = parse_extensions(bd, q, h, q->header_length, ext_end);
    if (r)
        goto fail;
    if (bfo) {
        if (bfl > 1023 || bfo + bfl > q->cluster_size || bfo + bfl > sizeof(h) || bfl == 0) {
            r = err_set(-EINVAL, "%s: bad backing file name (offset %llu, length %u)", bd->path,
                        (unsigned long long)bfo, bfl);
            goto fail;
        }
        memcpy(bd->backing_file, h + bfo, bfl);
        bd->backing_file[bfl] = 0;
        if (strlen(bd->backing_file) != bfl) {
            r = err_set(-EINVAL, "%s: backing file name contains a NUL byte", bd->path);
            goto fail;
        }
    }
    q->rt_entries = (uint64_t)q->rt_clusters * q->cluster_size / 8;
    r = load_table(bd, q->l1_offset, q->l1_size, &q->l1, "L1 table");
    if (!r)
        r = load_table(bd, q->rt_offset, q->rt_entries, &q->rt, "refcount table");
    if (r)
        goto fail;
    /* bounded: 8 MiB of tables, between 16 and 256 of them (a lookup scans the slots) */
    int n_l2 = (int)((8u << 20) / q->cluster_size);
    if (n_l2 < 16)
        n_l2 = 16;
    if (n_l2 > 256)
        n_l2 = 256;
    if (qcow2_cache_init(&q->l2c, n_l2, q->cluster_size) || qcow2_cache_init(&q->rbc, 16, q->cluster_size) ||
        !(q->comp_cache = malloc(q->cluster_size)) || !(q->scratch = malloc(2ull * q->cluster_size)) ||
        !(q->zbuf = malloc(2ull * q->cluster_size + 1024))) {
        r = err_set(-ENOMEM, "out of memory");
        goto fail;
    }
    q->l2c.writeback = qcow2_writeback;
    q->last_comp_entry = 0;
    q->alloc_end = (fsize + q->cluster_size - 1) >> q->cluster_bits;
    if (!bd->read_only) {
        const char *no = NULL;
        if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
            no = "the image is marked corrupt (repair it with brume img check -r all)";
        else if (q->incompat & QCOW2_INCOMPAT_DIRTY)
            no = "the image is dirty (lazy refcounts); repair it with brume img check -r all";
        else if (q->nb_snapshots)
            no = "images with internal snapshots can only be opened read-only";
        if (no) {
            r = err_set(-EROFS, "%s: cannot open for writing: %s", bd->path, no);
            goto fail;
        }
        if (q->autoclear) {   /* extensions we do not maintain become invalid */
            uint8_t z[8] = { 0 };
            q->autoclear = 0;
            r = qcow2_write_header_field(bd, 88, z, 8);
            if (r)
                goto fail;
        }
    }
    return 0;
fail:
    qcow2_close(bd);
    return r;
}

static int qcow2_flush(struct block_dev *bd)
{
    return qcow2_flush_all(bd);
}

static int qcow2_info(struct block_dev *bd, struct block_info *info)
{
    info->cluster_size = QS(bd)->cluster_size;
    return 0;
}

static int qcow2_set_backing(struct block_dev *bd, const char *file, const char *fmt)
{
    struct qcow2 *q = QS(bd);
    uint8_t *buf = calloc(1, q->cluster_size);
    if (!buf)
        return err_set(-ENOMEM, "out of memory");
    int n = build_header(q, bd->size, file, fmt, buf, q->cluster_size);
    int r = n < 0 ? err_set(n, "%s: backing file name does not fit in the header", bd->path)
                  : qcow2_write_header_field(bd, 0, buf, (size_t)n);
    free(buf);
    if (r)
        return r;
    snprintf(bd->backing_file, sizeof(bd->backing_file), "%s", file ? file : "");
    snprintf(bd->backing_fmt, sizeof(bd->backing_fmt), "%s", fmt && file ? fmt : "");
    return fdatasync(bd->fd) < 0 ? -errno : 0;
}

/* Growing: a larger L1 table is written elsewhere, then the header points
 * at it (one write), then the old one is freed. */
static int qcow2_truncate(struct block_dev *bd, uint64_t size)
{
    struct qcow2 *q = QS(bd);
    if (size < bd->size)
        return err_set(-ENOTSUP, "%s: shrinking qcow2 images is not supported", bd->path);
    if (size & 511)
        return err_set(-EINVAL, "%s: size must be a multiple of 512", bd->path);
    uint64_t per = (uint64_t)q->cluster_size << q->l2_bits;
    uint64_t need = (size + per - 1) / per;
    if (need * 8 > QCOW2_MAX_L1_BYTES)
        return err_set(-EFBIG, "%s: size too large", bd->path);
    int wr = qcow2_writeback(bd);   /* the new L1 copies only entries whose tables are on disk */
    if (wr)
        return wr;
    if (need > q->l1_size) {
        uint64_t bytes = need * 8, nc = (bytes + q->cluster_size - 1) >> q->cluster_bits, off;
        int r = qcow2_alloc_clusters(bd, nc, &off);
        if (r)
            return r;
        uint8_t *t = calloc(nc, q->cluster_size);
        uint64_t *nl1 = calloc(need, 8);
        if (!t || !nl1) {
            free(t);
            free(nl1);
            return err_set(-ENOMEM, "out of memory");
        }
        memcpy(nl1, q->l1, (size_t)q->l1_size * 8);
        for (uint64_t i = 0; i < q->l1_size; i++)
            wr64be(t + 8 * i, q->l1[i]);
        r = file_pwrite_all(bd->fd, t, nc * q->cluster_size, off);
        free(t);
        if (r || fdatasync(bd->fd) < 0) {
            free(nl1);
            return err_set(r ? r : -errno, "%s: cannot write the new L1 table", bd->path);
        }
        uint8_t hb[12];
        wr32be(hb, (uint32_t)need);
        wr64be(hb + 4, off);
        r = qcow2_write_header_field(bd, 36, hb, 12);
        if (r || fdatasync(bd->fd) < 0) {
            free(nl1);
            return r ? r : -errno;
        }
        uint64_t old = q->l1_offset, oldn = ((uint64_t)q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
        free(q->l1);
        q->l1 = nl1;
        q->l1_offset = off;
        q->l1_size = (uint32_t)need;
        if (oldn && old)
            (void)qcow2_free_clusters(bd, old, oldn);
    }
    uint8_t sb[8];
    wr64be(sb, size);
    int r = qcow2_write_header_field(bd, 24, sb, 8);
    if (!r)
        bd->size = size;
    return r ? r : (fdatasync(bd->fd) < 0 ? -errno : 0);
}

/* Lays out header, refcount table, refcount blocks and L1 table, with
 * refcounts for exactly those clusters. */
int qcow2_create(const char *path, const struct block_create_opts *o)
{
    struct qcow2 q = { 0 };
    uint32_t cs = o->cluster_size ? o->cluster_size : 65536;
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)))
        return err_set(-EINVAL, "%s: cluster size must be a power of two between 512 and 2M", path);
    q.version = o->version ? o->version : 3;
    if (q.version != 2 && q.version != 3)
        return err_set(-EINVAL, "%s: qcow2 version must be 2 or 3", path);
    q.cluster_bits = (uint32_t)__builtin_ctz(cs);
    q.cluster_size = cs;
    int rbits = o->refcount_bits ? o->refcount_bits : 16;
    if (rbits < 1 || rbits > 64 || (rbits & (rbits - 1)) || (q.version == 2 && rbits != 16))
        return err_set(-EINVAL, "%s: refcount_bits must be a power of two up to 64 (16 for v2)", path);
    q.refcount_order = (uint32_t)__builtin_ctz((unsigned)rbits);
    if (o->compression && strcmp(o->compression, "zlib") != 0) {
        if (strcmp(o->compression, "zstd") != 0)
            return err_set(-EINVAL, "%s: compression_type must be zlib or zstd", path);
        if (q.version < 3)
            return err_set(-EINVAL, "%s: compression_type=zstd needs compat=1.1 (v3)", path);
        q.compression = 1;
        q.incompat |= QCOW2_INCOMPAT_COMPRESSION;
    }
    if (o->size & 511)
        return err_set(-EINVAL, "%s: size must be a multiple of 512", path);
    if (o->size > (1ull << 55))
        return err_set(-EFBIG, "%s: size too large", path);
    uint64_t per = (uint64_t)cs << (q.cluster_bits - 3);
    uint64_t l1 = (o->size + per - 1) / per;
    if (l1 * 8 > QCOW2_MAX_L1_BYTES)
        return err_set(-EFBIG, "%s: size too large for %u-byte clusters", path, cs);
    q.l1_size = (uint32_t)l1;
    uint64_t rb_entries = ((uint64_t)cs * 8) >> q.refcount_order;
    uint64_t l1c = (l1 * 8 + cs - 1) / cs, rtc = 1, nrb = 1;
    for (int i = 0; i < 16; i++) {
        uint64_t meta = 1 + rtc + nrb + l1c;
        nrb = (meta + rb_entries - 1) / rb_entries;
        rtc = (nrb * 8 + cs - 1) / cs;
    }
    uint64_t meta = 1 + rtc + nrb + l1c;
    q.rt_offset = (uint64_t)cs;
    q.rt_clusters = (uint32_t)rtc;
    q.l1_offset = l1 ? (1 + rtc + nrb) * cs : 0;
    const char *pa = o->preallocation ? o->preallocation : "off";
    if (strcmp(pa, "off") && strcmp(pa, "metadata") && strcmp(pa, "falloc") && strcmp(pa, "full"))
        return err_set(-EINVAL, "%s: preallocation must be off, metadata, falloc or full", path);

    uint8_t *buf = calloc(1, (size_t)(meta * cs));
    if (!buf)
        return err_set(-ENOMEM, "out of memory");
    int n = build_header(&q, o->size, o->backing_file, o->backing_fmt, buf, cs);
    int r = 0;
    if (n < 0) {
        r = err_set(n, "%s: backing file name does not fit in the header", path);
        goto out;
    }
    for (uint64_t k = 0; k < nrb; k++)
        wr64be(buf + cs + 8 * k, (1 + rtc + k) * cs);
    for (uint64_t c = 0; c < meta; c++)
        qcow2_rb_set(buf + (1 + rtc + c / rb_entries) * cs, q.refcount_order, c % rb_entries, 1);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = err_set(-errno, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    r = file_pwrite_all(fd, buf, (size_t)(meta * cs), 0);
    if (!r && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r) {
        r = err_set(r, "%s: cannot write: %s", path, strerror(-r));
        goto out;
    }
    if (strcmp(pa, "off") != 0) {
        struct block_open_opts oo = { .format = "qcow2" };
        struct block_dev *bd;
        r = block_open(path, &oo, &bd);
        if (!r) {
            r = qcow2_preallocate(bd, pa);
            block_close(bd);
        }
    }
out:
    free(buf);
    return r;
}

static int qcow2_check_cb(struct block_dev *bd, struct block_check *res, int repair)
{
    return qcow2_check(bd, res, repair);
}

const struct block_driver block_qcow2_driver = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .status = qcow2_status,
    .info = qcow2_info,
    .truncate = qcow2_truncate,
    .check = qcow2_check_cb,
    .set_backing = qcow2_set_backing,
    .write_compressed = qcow2_write_compressed,
};
