/* qcow2 refcounts and cluster allocation: refcount blocks are created on
 * demand and the refcount table grows (moves) when it is full. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

/* Entries narrower than a byte are packed from the least significant bit. */
uint64_t qcow2_rb_get(const uint8_t *rb, uint32_t order, uint64_t i)
{
    switch (order) {
    case 0: case 1: case 2: {
        uint32_t bits = 1u << order, per = 8 / bits;
        return (rb[i / per] >> ((i % per) * bits)) & ((1u << bits) - 1);
    }
    case 3: return rb[i];
    case 4: return rd16be(rb + 2 * i);
    case 5: return rd32be(rb + 4 * i);
    default: return rd64be(rb + 8 * i);
    }
}

void qcow2_rb_set(uint8_t *rb, uint32_t order, uint64_t i, uint64_t v)
{
    switch (order) {
    case 0: case 1: case 2: {
        uint32_t bits = 1u << order, per = 8 / bits, sh = (uint32_t)(i % per) * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << sh);
        rb[i / per] = (uint8_t)((rb[i / per] & ~mask) | ((v << sh) & mask));
        break;
    }
    case 3: rb[i] = (uint8_t)v; break;
    case 4: wr16be(rb + 2 * i, (uint16_t)v); break;
    case 5: wr32be(rb + 4 * i, (uint32_t)v); break;
    default: wr64be(rb + 8 * i, v); break;
    }
}

static uint64_t rc_max(struct qcow2 *q)
{
    return q->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << q->refcount_order)) - 1;
}

static int rb_load(struct block_dev *bd, uint64_t k, uint8_t **rb)
{
    struct qcow2 *q = QS(bd);
    *rb = NULL;
    if (k >= q->rt_entries || !(q->rt[k] & ~0x1ffull))
        return 0;
    uint64_t off = q->rt[k] & ~0x1ffull;
    if (off & (q->cluster_size - 1))
        return qcow2_mark_corrupt(bd, "refcount block offset not aligned to a cluster");
    return qcow2_cache_get(bd, &q->rbc, off, rb);
}

int qcow2_refcount_get(struct block_dev *bd, uint64_t cluster, uint64_t *out)
{
    struct qcow2 *q = QS(bd);
    uint8_t *rb;
    int r = rb_load(bd, cluster / q->rb_entries, &rb);
    if (r)
        return r;
    *out = rb ? qcow2_rb_get(rb, q->refcount_order, cluster % q->rb_entries) : 0;
    return 0;
}

/* Byte range of entries [a, b) inside a refcount block. */
static void rb_bytes(struct qcow2 *q, uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
    uint32_t bits = 1u << q->refcount_order;
    *lo = a * bits / 8;
    *hi = (b * bits + 7) / 8;
}

int qcow2_refcount_update(struct block_dev *bd, uint64_t cluster, uint64_t count, int delta)
{
    struct qcow2 *q = QS(bd);
    while (count) {
        uint64_t k = cluster / q->rb_entries, i = cluster % q->rb_entries;
        uint64_t n = q->rb_entries - i < count ? q->rb_entries - i : count;
        uint8_t *rb;
        int r = rb_load(bd, k, &rb);
        if (r)
            return r;
        if (!rb)
            return qcow2_mark_corrupt(bd, "refcount update for a cluster without refcount block");
        for (uint64_t j = i; j < i + n; j++) {
            uint64_t v = qcow2_rb_get(rb, q->refcount_order, j);
            if ((delta < 0 && v < (uint64_t)-delta) || (delta > 0 && v > rc_max(q) - (uint64_t)delta)) {
                qcow2_cache_drop(&q->rbc, q->rt[k] & ~0x1ffull);
                return qcow2_mark_corrupt(bd, delta < 0 ? "refcount underflow" : "refcount overflow");
            }
            qcow2_rb_set(rb, q->refcount_order, j, v + (uint64_t)(int64_t)delta);
        }
        uint64_t lo, hi;
        rb_bytes(q, i, i + n, &lo, &hi);
        q->need_sync = true;
        r = file_pwrite_all(bd->fd, rb + lo, hi - lo, (q->rt[k] & ~0x1ffull) + lo);
        if (r)
            return err_set(r, "%s: cannot write refcount block: %s", bd->path, strerror(-r));
        cluster += n;
        count -= n;
    }
    return 0;
}

static uint64_t file_clusters(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    struct stat st;
    uint64_t n = 0;
    if (fstat(bd->fd, &st) == 0)
        n = ((uint64_t)st.st_size + q->cluster_size - 1) >> q->cluster_bits;
    return n > q->alloc_end ? n : q->alloc_end;
}

/* First cluster past every cluster with a nonzero refcount: a crash can
 * leave clusters counted but never written, past the end of the file. */
static int used_end(struct block_dev *bd, uint64_t *out)
{
    struct qcow2 *q = QS(bd);
    *out = file_clusters(bd);
    for (uint64_t k = q->rt_entries; k-- > 0;) {
        uint8_t *rb;
        int r = rb_load(bd, k, &rb);
        if (r)
            return r;
        if (!rb)
            continue;
        for (uint64_t i = q->rb_entries; i-- > 0;)
            if (qcow2_rb_get(rb, q->refcount_order, i)) {
                uint64_t e = k * q->rb_entries + i + 1;
                if (e > *out)
                    *out = e;
                return 0;
            }
    }
    return 0;
}

/* Moves the refcount table to the end of the file with room for at least
 * need entries; new refcount blocks for that area are written with it. The
 * header switches to it in one write; the old table then leaks until freed. */
static int grow_table(struct block_dev *bd, uint64_t need)
{
    struct qcow2 *q = QS(bd);
    uint64_t e;
    int r = used_end(bd, &e);
    if (r)
        return r;
    uint64_t epc = q->cluster_size / 8;       /* entries per table cluster */
    uint64_t want = need > q->rt_entries * 2 ? need : q->rt_entries * 2;
    uint64_t T = (want + epc - 1) / epc, B = 0;
    for (int iter = 0; iter < 64; iter++) {
        uint64_t end = e + B + T;
        uint64_t kmin = e / q->rb_entries, kmax = (end - 1) / q->rb_entries;
        uint64_t nb = 0;
        for (uint64_t k = kmin; k <= kmax; k++)
            if (k >= q->rt_entries || !q->rt[k])
                nb++;
        uint64_t ent = kmax + 1 > want ? kmax + 1 : want;
        uint64_t nt = (ent + epc - 1) / epc;
        if (nb == B && nt == T)
            break;
        B = nb;
        T = nt;
    }
    if (T * q->cluster_size > QCOW2_MAX_RT_BYTES * 8)
        return err_set(-EFBIG, "%s: refcount table would exceed its limit", bd->path);
    uint64_t new_entries = T * epc;
    uint64_t *nrt = calloc(new_entries, 8);
    uint8_t *buf = calloc(1, q->cluster_size);
    uint8_t *tbuf = calloc(T, q->cluster_size);
    if (!nrt || !buf || !tbuf) {
        r = err_set(-ENOMEM, "out of memory");
        goto out;
    }
    memcpy(nrt, q->rt, q->rt_entries * 8);
    uint64_t end = e + B + T, slot = e;
    uint64_t kmin = e / q->rb_entries, kmax = (end - 1) / q->rb_entries;
    for (uint64_t k = kmin; k <= kmax; k++) {
        uint64_t a = k * q->rb_entries > e ? k * q->rb_entries : e;
        uint64_t b = (k + 1) * q->rb_entries < end ? (k + 1) * q->rb_entries : end;
        if (k < q->rt_entries && q->rt[k]) {
            r = qcow2_refcount_update(bd, a, b - a, +1);   /* existing block: count the area there */
            if (r)
                goto out;
            continue;
        }
        memset(buf, 0, q->cluster_size);
        for (uint64_t c = a; c < b; c++)
            qcow2_rb_set(buf, q->refcount_order, c % q->rb_entries, 1);
        r = file_pwrite_all(bd->fd, buf, q->cluster_size, slot << q->cluster_bits);
        if (r)
            goto io;
        nrt[k] = slot << q->cluster_bits;
        slot++;
    }
    for (uint64_t i = 0; i < new_entries; i++)
        wr64be(tbuf + 8 * i, nrt[i]);
    r = file_pwrite_all(bd->fd, tbuf, T * q->cluster_size, (e + B) << q->cluster_bits);
    if (r || fdatasync(bd->fd) < 0)
        goto io;
    uint8_t hdr[12];
    wr64be(hdr, (e + B) << q->cluster_bits);
    wr32be(hdr + 8, (uint32_t)T);
    r = qcow2_write_header_field(bd, 48, hdr, sizeof(hdr));
    if (r || fdatasync(bd->fd) < 0)
        goto io;
    uint64_t old_off = q->rt_offset, old_n = q->rt_clusters;
    free(q->rt);
    q->rt = nrt;
    nrt = NULL;
    q->rt_entries = new_entries;
    q->rt_offset = (e + B) << q->cluster_bits;
    q->rt_clusters = (uint32_t)T;
    q->alloc_end = end;
    r = qcow2_free_clusters(bd, old_off, old_n);
    goto out;
io:
    r = err_set(r ? r : -errno, "%s: cannot grow the refcount table", bd->path);
out:
    free(nrt);
    free(buf);
    free(tbuf);
    return r;
}

/* Whether clusters [c, c+n) hold the header, the L1 table or the refcount
 * table. A refcount of 0 there means broken refcounts (a crafted image):
 * handing them out would overwrite the metadata. */
static bool is_metadata(struct qcow2 *q, uint64_t c, uint64_t n)
{
    uint64_t cs = q->cluster_size, a = c * cs, b = (c + n) * cs;
    uint64_t l1e = q->l1_offset + (uint64_t)q->l1_size * 8, rte = q->rt_offset + (uint64_t)q->rt_clusters * cs;
    return c == 0 || (q->l1_size && a < l1e && q->l1_offset < b) || (a < rte && q->rt_offset < b);
}

/* Creates refcount block k. It goes in the first free cluster; when that
 * cluster is itself covered by an existing block it is counted there (so
 * data runs can stay contiguous across block ranges), otherwise the new
 * block is the one for that cluster's range and counts itself. */
static int make_block(struct block_dev *bd, uint64_t k)
{
    struct qcow2 *q = QS(bd);
    if (k >= q->rt_entries)   /* the new table took clusters: the caller searches again */
        return grow_table(bd, k + 1);
    uint64_t c = q->free_hint, v = 1;
    for (;; c++) {
        int r = qcow2_refcount_get(bd, c, &v);
        if (r)
            return r;
        if (!v)
            break;
    }
    if (is_metadata(q, c, 1))
        return qcow2_mark_corrupt(bd, "a refcount of 0 for a metadata cluster");
    uint64_t kc = c / q->rb_entries;
    bool self = kc >= q->rt_entries || !q->rt[kc];
    if (self) {
        if (kc >= q->rt_entries)
            return grow_table(bd, kc + 1);
        k = kc;
    } else {
        int r = qcow2_refcount_update(bd, c, 1, +1);
        if (r)
            return r;
    }
    uint8_t *rb;
    int r = qcow2_cache_new(bd, &q->rbc, c << q->cluster_bits, &rb);
    if (r)
        return r;
    memset(rb, 0, q->cluster_size);
    if (self)
        qcow2_rb_set(rb, q->refcount_order, c % q->rb_entries, 1);
    r = file_pwrite_all(bd->fd, rb, q->cluster_size, c << q->cluster_bits);
    /* the block, and the refcount of its own cluster, are on disk before
     * the table entry that makes them count */
    if (!r)
        r = qcow2_sync(bd);
    if (!r) {
        uint8_t e[8];
        wr64be(e, c << q->cluster_bits);
        r = file_pwrite_all(bd->fd, e, 8, q->rt_offset + 8 * k);
    }
    if (r) {
        qcow2_cache_drop(&q->rbc, c << q->cluster_bits);
        return err_set(r, "%s: cannot write refcount block: %s", bd->path, strerror(-r));
    }
    q->rt[k] = c << q->cluster_bits;
    if (c + 1 > q->alloc_end)
        q->alloc_end = c + 1;
    return 0;
}

int qcow2_alloc_clusters(struct block_dev *bd, uint64_t n, uint64_t *host)
{
    struct qcow2 *q = QS(bd);
    for (int tries = 0; tries < 1000000; tries++) {
        /* find n free clusters in a row from the hint */
        uint64_t c = q->free_hint, run = 0, start = c;
        while (run < n) {
            uint64_t v = 0;
            int r = qcow2_refcount_get(bd, c, &v);
            if (r)
                return r;
            if (v) {
                run = 0;
                start = c + 1;
            } else {
                run++;
            }
            c++;
            if (c >= (1ull << (56 - q->cluster_bits)))
                return err_set(-ENOSPC, "%s: image is full", bd->path);
        }
        if (is_metadata(q, start, n))
            return qcow2_mark_corrupt(bd, "a refcount of 0 for a metadata cluster");
        /* make sure every refcount block of the run exists */
        bool made = false;
        for (uint64_t k = start / q->rb_entries; k <= (start + n - 1) / q->rb_entries; k++) {
            if (k < q->rt_entries && q->rt[k])
                continue;
            int r = make_block(bd, k);
            if (r)
                return r;
            made = true;
            break;
        }
        if (made)
            continue;     /* the run lost a cluster to metadata: search again */
        int r = qcow2_refcount_update(bd, start, n, +1);
        if (r)
            return r;
        q->free_hint = start + n;
        if (start + n > q->alloc_end)
            q->alloc_end = start + n;
        *host = start << q->cluster_bits;
        return 0;
    }
    return err_set(-EIO, "%s: cluster allocation does not converge", bd->path);
}

int qcow2_free_clusters(struct block_dev *bd, uint64_t host, uint64_t n)
{
    struct qcow2 *q = QS(bd);
    uint64_t c0 = host >> q->cluster_bits;
    int r = qcow2_refcount_update(bd, c0, n, -1);
    if (r)
        return r;
    for (uint64_t c = c0; c < c0 + n; c++) {
        uint64_t v;
        if (qcow2_refcount_get(bd, c, &v) == 0 && v == 0) {
            (void)fallocate(bd->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(c << q->cluster_bits),
                            (off_t)q->cluster_size);
            q->freed = true;
            if (c < q->free_hint)
                q->free_hint = c;
            if (q->comp_next >> q->cluster_bits == c)
                q->comp_next = 0;   /* the next compressed cluster must not share a freed one */
        }
    }
    return 0;
}

int qcow2_trim_tail(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    uint64_t last = 0;   /* one past the last cluster with a nonzero refcount */
    for (uint64_t k = q->rt_entries; k-- > 0 && !last;) {
        uint8_t *rb;
        int r = rb_load(bd, k, &rb);
        if (r)
            return r;
        for (uint64_t i = q->rb_entries; rb && i-- > 0;)
            if (qcow2_rb_get(rb, q->refcount_order, i)) {
                last = k * q->rb_entries + i + 1;
                break;
            }
    }
    struct stat st;
    if (!last || fstat(bd->fd, &st) < 0 || (uint64_t)st.st_size <= last << q->cluster_bits)
        return 0;
    /* nothing points past last: cutting it off is safe at any moment */
    if (ftruncate(bd->fd, (off_t)(last << q->cluster_bits)) < 0)
        return err_set(-errno, "%s: cannot truncate: %s", bd->path, strerror(errno));
    q->alloc_end = last;
    return 0;
}
