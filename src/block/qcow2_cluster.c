/* qcow2 guest I/O: the L1/L2 walk, allocation on write with copy-on-write
 * of partial clusters, zero clusters, discard, block status and
 * preallocation. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

int qcow2_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);

enum qcow2_kind qcow2_entry_kind(struct qcow2 *q, uint64_t e)
{
    if (e & QCOW2_OFLAG_COMPRESSED)
        return QK_COMPRESSED;
    if (q->version >= 3 && (e & QCOW2_OFLAG_ZERO))
        return QK_ZERO;
    if (e & QCOW2_OFFSET_MASK)
        return QK_NORMAL;
    return QK_UNALLOC;
}

void qcow2_compressed_range(struct qcow2 *q, uint64_t e, uint64_t *off, uint64_t *len)
{
    uint32_t x = 62 - (q->cluster_bits - 8);
    uint64_t host = e & ((1ull << x) - 1);
    uint64_t nsec = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
    *off = host;
    *len = nsec * 512 - (host & 511);
}

static uint64_t file_size(struct block_dev *bd)
{
    struct stat st;
    return fstat(bd->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Loads the L2 table for guest offset g; *l2 is NULL when there is none. */
static int l2_load(struct block_dev *bd, uint64_t g, uint8_t **l2)
{
    struct qcow2 *q = QS(bd);
    uint64_t i = g >> (q->cluster_bits + q->l2_bits);
    *l2 = NULL;
    if (i >= q->l1_size)
        return err_set(-EINVAL, "%s: offset %llu beyond the L1 table", bd->path, (unsigned long long)g);
    uint64_t off = q->l1[i] & QCOW2_OFFSET_MASK;
    if (!off)
        return 0;
    if (off & (q->cluster_size - 1))
        return qcow2_mark_corrupt(bd, "L2 table offset not aligned to a cluster");
    if (off < q->cluster_size || off + q->cluster_size > (q->alloc_end << q->cluster_bits))
        return qcow2_mark_corrupt(bd, "L2 table offset outside the file");
    return qcow2_cache_get(bd, &q->l2c, off, l2);
}

int qcow2_l2_entry(struct block_dev *bd, uint64_t g, uint64_t *entry)
{
    struct qcow2 *q = QS(bd);
    uint8_t *l2;
    int r = l2_load(bd, g, &l2);
    if (r)
        return r;
    *entry = l2 ? rd64be(l2 + 8 * ((g >> q->cluster_bits) & (q->l2_entries - 1))) : 0;
    return 0;
}

/* Maps the run at g (at most len bytes, within one L2 table) to one kind;
 * for NORMAL runs the host clusters are contiguous. */
static int map_run(struct block_dev *bd, uint64_t g, uint64_t len, uint64_t *run, uint64_t *entry0)
{
    struct qcow2 *q = QS(bd);
    uint8_t *l2;
    int r = l2_load(bd, g, &l2);
    if (r)
        return r;
    uint64_t in = g & (q->cluster_size - 1);
    uint64_t idx = (g >> q->cluster_bits) & (q->l2_entries - 1);
    uint64_t max = ((uint64_t)(q->l2_entries - idx) << q->cluster_bits) - in;
    if (len > max)
        len = max;
    if (!l2) {
        *run = len;
        *entry0 = 0;
        return QK_UNALLOC;
    }
    uint64_t e0 = rd64be(l2 + 8 * idx);
    enum qcow2_kind k = qcow2_entry_kind(q, e0);
    uint64_t n = q->cluster_size - in;
    uint64_t want = e0 & QCOW2_OFFSET_MASK;
    for (uint64_t j = idx + 1; n < len && k != QK_COMPRESSED; j++) {
        uint64_t e = rd64be(l2 + 8 * j);
        if (qcow2_entry_kind(q, e) != k)
            break;
        if (k == QK_NORMAL) {
            want += q->cluster_size;
            if ((e & QCOW2_OFFSET_MASK) != want || (e & QCOW2_OFLAG_COPIED) != (e0 & QCOW2_OFLAG_COPIED))
                break;
        }
        n += q->cluster_size;
    }
    if (k == QK_NORMAL) {
        uint64_t h = e0 & QCOW2_OFFSET_MASK;
        if (h < q->cluster_size || h + ((n + in + q->cluster_size - 1) & ~(uint64_t)(q->cluster_size - 1)) >
                                        (q->alloc_end << q->cluster_bits))
            return qcow2_mark_corrupt(bd, "L2 entry points outside the file");
    }
    *run = n < len ? n : len;
    *entry0 = e0;
    return (int)k;
}

int qcow2_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct qcow2 *q = QS(bd);
    uint64_t done = 0;
    struct iovec v[BLOCK_MAX_IOV];
    while (done < len) {
        uint64_t run, e;
        int k = map_run(bd, off + done, len - done, &run, &e);
        if (k < 0)
            return k;
        int n = iov_slice(iov, iovcnt, done, run, v, BLOCK_MAX_IOV);
        if (n < 0)
            return n;
        int r = 0;
        uint64_t in = (off + done) & (q->cluster_size - 1);
        switch (k) {
        case QK_UNALLOC:
            r = block_read_backing(bd, v, n, off + done, run);
            break;
        case QK_ZERO:
            iov_memset(v, n, 0, 0, run);
            break;
        case QK_NORMAL:
            r = file_preadv_all(bd->fd, v, n, (e & QCOW2_OFFSET_MASK) + in, run);
            if (r)
                r = err_set(r, "%s: read error: %s", bd->path, strerror(-r));
            break;
        case QK_COMPRESSED:
            r = qcow2_decompress(bd, e, q->comp_cache);
            if (!r)
                iov_from_buf(v, n, 0, q->comp_cache + in, run);
            break;
        }
        if (r)
            return r;
        done += run;
    }
    return 0;
}

/* Drops the references an L2 entry held (after the entry was replaced). */
int qcow2_free_entry(struct block_dev *bd, uint64_t e)
{
    struct qcow2 *q = QS(bd);
    if (e & QCOW2_OFLAG_COMPRESSED) {
        uint64_t o, l;
        qcow2_compressed_range(q, e, &o, &l);
        uint64_t a = (o & ~511ull) >> q->cluster_bits, b = ((o & ~511ull) + ((l + (o & 511)) - 1)) >> q->cluster_bits;
        return qcow2_free_clusters(bd, a << q->cluster_bits, b - a + 1);
    }
    if (e & QCOW2_OFFSET_MASK)
        return qcow2_free_clusters(bd, e & QCOW2_OFFSET_MASK, 1);
    return 0;
}

/* Returns the L2 table for g, allocating a zeroed one if needed. */
static int l2_get_alloc(struct block_dev *bd, uint64_t g, uint8_t **l2, uint64_t *l2_off)
{
    struct qcow2 *q = QS(bd);
    int r = l2_load(bd, g, l2);
    uint64_t i = g >> (q->cluster_bits + q->l2_bits);
    if (r)
        return r;
    if (*l2) {
        *l2_off = q->l1[i] & QCOW2_OFFSET_MASK;
        return 0;
    }
    uint64_t off;
    r = qcow2_alloc_clusters(bd, 1, &off);
    if (r)
        return r;
    /* the new table and its L1 entry reach the file in qcow2_writeback,
     * table first */
    r = qcow2_cache_new(bd, &q->l2c, off, l2);
    if (r)
        return r;
    memset(*l2, 0, q->cluster_size);
    qcow2_l2_dirty(bd, *l2, 0, q->l2_entries);
    q->l1[i] = off | QCOW2_OFLAG_COPIED;
    qcow2_l1_dirty(bd, i);
    *l2_off = off;
    return 0;
}

/* Entries [idx, idx+n) of a cached L2 table changed: qcow2_writeback
 * writes them once the clusters they point at are counted on disk. */
static int l2_changed(struct block_dev *bd, uint8_t *l2, uint64_t idx, uint64_t n)
{
    qcow2_l2_dirty(bd, l2, idx, n);
    return 0;
}

/* Allocating write of [g, g+len) covering nc clusters that are not plainly
 * allocated: old content fills the partial head and tail clusters. */
static int write_alloc(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t g,
                       uint64_t len)
{
    struct qcow2 *q = QS(bd);
    uint64_t cs = q->cluster_size;
    uint64_t c0 = g & ~(cs - 1), end = g + len, cend = (end + cs - 1) & ~(cs - 1);
    uint64_t nc = (cend - c0) / cs;
    uint8_t *l2;
    uint64_t l2_off, host;
    int r = l2_get_alloc(bd, g, &l2, &l2_off);
    if (r)
        return r;
    uint64_t idx = (g >> q->cluster_bits) & (q->l2_entries - 1);
    uint64_t old[1 + 4096];
    uint64_t *olds = nc <= 4096 ? old : malloc(nc * 8);
    if (!olds)
        return err_set(-ENOMEM, "out of memory");
    for (uint64_t j = 0; j < nc; j++)
        olds[j] = rd64be(l2 + 8 * (idx + j));
    struct iovec *v = malloc(sizeof(*v) * (BLOCK_MAX_IOV + 2));
    if (!v) {
        r = err_set(-ENOMEM, "out of memory");
        goto out;
    }
    int n = 0;
    uint64_t head = g - c0, tail = cend - end;
    uint8_t *hb = q->scratch, *tb = q->scratch + cs;
    if (head) {
        struct iovec hv = { hb, head };
        r = qcow2_preadv(bd, &hv, 1, c0, head);
        if (r)
            goto out;
        v[n++] = hv;
    }
    int m = iov_slice(iov, iovcnt, skip, len, v + n, BLOCK_MAX_IOV);
    if (m < 0) {
        r = m;
        goto out;
    }
    n += m;
    if (tail) {
        struct iovec tv = { tb, tail };
        r = qcow2_preadv(bd, &tv, 1, end, tail);
        if (r)
            goto out;
        v[n++] = tv;
    }
    r = qcow2_alloc_clusters(bd, nc, &host);
    if (r)
        goto out;
    /* the L2 table may have been evicted by allocation: reload */
    r = l2_get_alloc(bd, g, &l2, &l2_off);
    if (r)
        goto out;
    r = file_pwritev_all(bd->fd, v, n, host, nc * cs);
    if (r) {
        r = err_set(r, "%s: write error: %s", bd->path, strerror(-r));
        goto out;
    }
    for (uint64_t j = 0; j < nc; j++)
        wr64be(l2 + 8 * (idx + j), (host + j * cs) | QCOW2_OFLAG_COPIED);
    r = l2_changed(bd, l2, idx, nc);
    for (uint64_t j = 0; j < nc && !r; j++)
        if (qcow2_entry_kind(q, olds[j]) != QK_UNALLOC)
            r = qcow2_free_entry_later(bd, olds[j]);
out:
    free(v);
    if (olds != old)
        free(olds);
    return r;
}

int qcow2_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct qcow2 *q = QS(bd);
    uint64_t done = 0;
    struct iovec v[BLOCK_MAX_IOV];
    while (done < len) {
        uint64_t run, e;
        int k = map_run(bd, off + done, len - done, &run, &e);
        if (k < 0)
            return k;
        int r;
        if (k == QK_NORMAL && (e & QCOW2_OFLAG_COPIED)) {
            int n = iov_slice(iov, iovcnt, done, run, v, BLOCK_MAX_IOV);
            if (n < 0)
                return n;
            r = file_pwritev_all(bd->fd, v, n, (e & QCOW2_OFFSET_MASK) + ((off + done) & (q->cluster_size - 1)), run);
            if (r)
                return err_set(r, "%s: write error: %s", bd->path, strerror(-r));
        } else {
            /* gather following clusters that also need allocation */
            uint64_t g = off + done, span = run;
            while (g + span < off + len && k != QK_NORMAL) {
                uint64_t r2, e2;
                int k2 = map_run(bd, g + span, off + len - (g + span), &r2, &e2);
                if (k2 < 0)
                    return k2;
                uint64_t same_l2 = ((g + span) >> (q->cluster_bits + q->l2_bits)) == (g >> (q->cluster_bits + q->l2_bits));
                if ((k2 == QK_NORMAL && (e2 & QCOW2_OFLAG_COPIED)) || !same_l2)
                    break;
                span += r2;
            }
            if (k == QK_NORMAL)
                span = run;
            /* bound one allocation to what old[] handles */
            uint64_t maxb = 4096ull << q->cluster_bits;
            if (span > maxb)
                span = maxb - (g & (q->cluster_size - 1));
            r = write_alloc(bd, iov, iovcnt, done, g, span);
            if (r)
                return r;
            run = span;
        }
        done += run;
    }
    return 0;
}

/* Rewrites the entries of full clusters in [off, off+len): zero (v3) or
 * unallocated, dropping the clusters they held unless keep is set. */
static int set_entries(struct block_dev *bd, uint64_t off, uint64_t len, bool zero, bool keep)
{
    struct qcow2 *q = QS(bd);
    while (len) {
        uint64_t idx = (off >> q->cluster_bits) & (q->l2_entries - 1);
        uint64_t n = q->l2_entries - idx;
        if (n > len >> q->cluster_bits)
            n = len >> q->cluster_bits;
        uint8_t *l2;
        uint64_t l2_off;
        int r = l2_load(bd, off, &l2);
        if (r)
            return r;
        if (!l2 && (!zero || !bd->backing)) {
            /* nothing allocated and nothing below: already reads as zero */
        } else {
            if (!l2 && (r = l2_get_alloc(bd, off, &l2, &l2_off)))
                return r;
            uint64_t *olds = malloc(n * 8);
            if (!olds)
                return err_set(-ENOMEM, "out of memory");
            bool changed = false;
            for (uint64_t j = 0; j < n; j++) {
                uint64_t e = rd64be(l2 + 8 * (idx + j)), ne;
                olds[j] = e;
                if (zero && keep && qcow2_entry_kind(q, e) == QK_NORMAL && (e & QCOW2_OFLAG_COPIED))
                    ne = (e & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COPIED)) | QCOW2_OFLAG_ZERO;
                else if (zero && keep && qcow2_entry_kind(q, e) == QK_ZERO)
                    ne = e;
                else
                    ne = zero ? QCOW2_OFLAG_ZERO : 0;
                if (ne != e)
                    changed = true;
                if (!(e & QCOW2_OFLAG_COMPRESSED) && (ne & QCOW2_OFFSET_MASK) == (e & QCOW2_OFFSET_MASK))
                    olds[j] = 0;   /* the same cluster is still referenced (or none was) */
                wr64be(l2 + 8 * (idx + j), ne);
            }
            r = changed ? l2_changed(bd, l2, idx, n) : 0;
            for (uint64_t j = 0; j < n && !r; j++)
                if (olds[j])
                    r = qcow2_free_entry_later(bd, olds[j]);
            free(olds);
            if (r)
                return r;
        }
        off += n << q->cluster_bits;
        len -= n << q->cluster_bits;
    }
    return 0;
}

static int write_zero_buf(struct block_dev *bd, uint64_t off, uint64_t len)
{
    struct qcow2 *q = QS(bd);
    while (len) {
        uint64_t n = len < q->cluster_size ? len : q->cluster_size;
        uint8_t *z = calloc(1, n);
        if (!z)
            return err_set(-ENOMEM, "out of memory");
        struct iovec v = { z, n };
        int r = qcow2_pwritev(bd, &v, 1, off, n);
        free(z);
        if (r)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

int qcow2_write_zeroes(struct block_dev *bd, uint64_t off, uint64_t len, bool may_unmap)
{
    struct qcow2 *q = QS(bd);
    uint64_t cs = q->cluster_size;
    uint64_t a = (off + cs - 1) & ~(cs - 1), b = (off + len) & ~(cs - 1);
    if (off + len == bd->size)
        b = (off + len + cs - 1) & ~(cs - 1);   /* the partial last cluster counts as whole */
    if (a >= b || q->version < 3) {
        if (q->version < 3 && !bd->backing) {
            /* v2 has no zero flag: only allocated clusters need zeroes written */
            uint64_t done = 0;
            while (done < len) {
                uint64_t run, e;
                int k = map_run(bd, off + done, len - done, &run, &e);
                if (k < 0)
                    return k;
                if (k != QK_UNALLOC) {
                    int r = write_zero_buf(bd, off + done, run);
                    if (r)
                        return r;
                }
                done += run;
            }
            return 0;
        }
        return write_zero_buf(bd, off, len);
    }
    int r = a > off ? write_zero_buf(bd, off, a - off) : 0;
    if (!r)
        r = set_entries(bd, a, b - a, true, !may_unmap);
    if (!r && off + len > b)
        r = write_zero_buf(bd, b, off + len - b);
    return r;
}

int qcow2_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
    struct qcow2 *q = QS(bd);
    uint64_t cs = q->cluster_size;
    uint64_t a = (off + cs - 1) & ~(cs - 1), b = (off + len) & ~(cs - 1);
    if (off + len == bd->size)
        b = (off + len + cs - 1) & ~(cs - 1);
    if (a >= b)
        return 0;
    if (bd->backing && q->version < 3)
        return 0;   /* v2 cannot hide the backing file: discard is only a hint */
    return set_entries(bd, a, b - a, bd->backing != NULL, false);
}

int qcow2_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host_off)
{
    struct qcow2 *q = QS(bd);
    uint64_t e;
    int k = map_run(bd, off, len, pnum, &e);
    switch (k) {
    case QK_UNALLOC: return 0;
    case QK_ZERO: return BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED;
    case QK_NORMAL:
        *host_off = (e & QCOW2_OFFSET_MASK) + (off & (q->cluster_size - 1));
        return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
    case QK_COMPRESSED: return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED;
    default: return k;
    }
}

/* preallocation=metadata|falloc|full: every cluster gets an L2 entry and
 * a host cluster; the file is extended (and for falloc/full, allocated). */
int qcow2_preallocate(struct block_dev *bd, const char *mode)
{
    struct qcow2 *q = QS(bd);
    uint64_t per = (uint64_t)q->cluster_size << q->l2_bits;
    for (uint64_t g = 0; g < bd->size; g += per) {
        uint64_t len = bd->size - g < per ? bd->size - g : per;
        uint64_t nc = (len + q->cluster_size - 1) >> q->cluster_bits;
        uint8_t *l2;
        uint64_t l2_off, host;
        int r = l2_get_alloc(bd, g, &l2, &l2_off);
        if (!r)
            r = qcow2_alloc_clusters(bd, nc, &host);
        if (!r)
            r = l2_get_alloc(bd, g, &l2, &l2_off);
        if (r)
            return r;
        uint64_t endb = host + nc * q->cluster_size;
        if (strcmp(mode, "metadata") == 0) {
            if (endb > file_size(bd) && ftruncate(bd->fd, (off_t)endb) < 0)
                return err_set(-errno, "%s: cannot extend: %s", bd->path, strerror(errno));
        } else if (fallocate(bd->fd, 0, (off_t)host, (off_t)(nc * q->cluster_size)) < 0) {
            return err_set(-errno, "%s: cannot preallocate: %s", bd->path, strerror(errno));
        }
        for (uint64_t j = 0; j < nc; j++)
            wr64be(l2 + 8 * j, (host + j * q->cluster_size) | QCOW2_OFLAG_COPIED);
        r = l2_changed(bd, l2, 0, nc);
        if (r)
            return r;
    }
    return qcow2_flush_all(bd);
}

/* Sets one L2 entry (allocating the table if needed). */
int qcow2_set_l2_entry(struct block_dev *bd, uint64_t g, uint64_t e)
{
    struct qcow2 *q = QS(bd);
    uint8_t *l2;
    uint64_t l2_off;
    int r = l2_get_alloc(bd, g, &l2, &l2_off);
    if (r)
        return r;
    uint64_t idx = (g >> q->cluster_bits) & (q->l2_entries - 1);
    wr64be(l2 + 8 * idx, e);
    return l2_changed(bd, l2, idx, 1);
}
