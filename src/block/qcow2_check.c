/* qcow2 consistency check, as `qemu-img check` does it: count the
 * references every piece of metadata makes to host clusters, compare with
 * the stored refcounts. A stored refcount lower than the references is a
 * corruption (a cluster could be reused while in use); higher is a leak.
 * Repair sets stored refcounts to the counted references. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "block/qcow2.h"
#include "util/log.h"

struct walk {
    struct block_dev *bd;
    struct qcow2 *q;
    uint32_t *ref;
    uint64_t n;              /* clusters in the file */
    struct block_check *res;
    uint64_t last_host;
};

static void ref_range(struct walk *w, uint64_t off, uint64_t len, const char *what)
{
    if (!len)
        return;
    uint64_t a = off >> w->q->cluster_bits, b = (off + len - 1) >> w->q->cluster_bits;
    for (uint64_t c = a; c <= b; c++) {
        if (c >= w->n) {
            log_debug("check: %s at %llu past the end of the file", what, (unsigned long long)off);
            w->res->corruptions++;
            return;
        }
        if (w->ref[c] < UINT32_MAX)
            w->ref[c]++;
    }
}

static int walk_l2(struct walk *w, uint64_t l2_off, bool active, uint64_t gbase)
{
    struct qcow2 *q = w->q;
    uint8_t *l2 = malloc(q->cluster_size);
    if (!l2)
        return -ENOMEM;
    int r = file_pread_all(w->bd->fd, l2, q->cluster_size, l2_off);
    for (uint64_t i = 0; !r && i < q->l2_entries; i++) {
        uint64_t e = rd64be(l2 + 8 * i);
        uint64_t g = gbase + (i << q->cluster_bits);
        switch (qcow2_entry_kind(q, e)) {
        case QK_COMPRESSED: {
            uint64_t o, l;
            qcow2_compressed_range(q, e, &o, &l);
            ref_range(w, o & ~511ull, l + (o & 511), "compressed cluster");
            if (active && g < w->bd->size) {
                w->res->allocated_clusters++;
                w->res->compressed_clusters++;
            }
            break;
        }
        case QK_ZERO:
        case QK_NORMAL: {
            uint64_t h = e & QCOW2_OFFSET_MASK;
            if (!h)
                break;
            if (h & (q->cluster_size - 1)) {
                w->res->corruptions++;
                break;
            }
            ref_range(w, h, q->cluster_size, "data cluster");
            if (active && g < w->bd->size && qcow2_entry_kind(q, e) == QK_NORMAL) {
                w->res->allocated_clusters++;
                if (w->last_host && h != w->last_host + q->cluster_size)
                    w->res->fragmented_clusters++;
                w->last_host = h;
            }
            break;
        }
        default:
            break;
        }
    }
    free(l2);
    return r;
}

static int walk_l1(struct walk *w, uint64_t l1_off, uint32_t l1_size, bool active)
{
    struct qcow2 *q = w->q;
    ref_range(w, l1_off, (uint64_t)l1_size * 8, "L1 table");
    uint64_t *l1 = calloc(l1_size ? l1_size : 1, 8);
    if (!l1)
        return -ENOMEM;
    int r = file_pread_all(w->bd->fd, l1, (size_t)l1_size * 8, l1_off);
    for (uint64_t i = 0; !r && i < l1_size; i++) {
        uint64_t off = be64toh(l1[i]) & QCOW2_OFFSET_MASK;
        if (!off)
            continue;
        if ((off & (q->cluster_size - 1)) || (off >> q->cluster_bits) >= w->n) {
            w->res->corruptions++;
            continue;
        }
        ref_range(w, off, q->cluster_size, "L2 table");
        r = walk_l2(w, off, active, i << (q->cluster_bits + q->l2_bits));
    }
    free(l1);
    return r;
}

/* Internal snapshots: each has its own L1 table. */
static int walk_snapshots(struct walk *w)
{
    struct qcow2 *q = w->q;
    uint64_t p = q->snapshots_offset, start = p;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        uint8_t h[40];
        int r = file_pread_all(w->bd->fd, h, sizeof(h), p);
        if (r)
            return r;
        uint64_t l1o = rd64be(h);
        uint32_t l1n = rd32be(h + 8);
        uint16_t idl = rd16be(h + 12), nml = rd16be(h + 14);
        uint32_t extra = rd32be(h + 36);
        if ((uint64_t)l1n * 8 > QCOW2_MAX_L1_BYTES || (l1o & (q->cluster_size - 1)))
            return err_set(-EINVAL, "%s: bad snapshot table", w->bd->path);
        r = walk_l1(w, l1o, l1n, false);
        if (r)
            return r;
        p += 40 + (uint64_t)extra + idl + nml;
        p = (p + 7) & ~7ull;
    }
    ref_range(w, start, p - start, "snapshot table");
    return 0;
}

int qcow2_check(struct block_dev *bd, struct block_check *res, int repair)
{
    struct qcow2 *q = QS(bd);
    struct stat st;
    if (!bd->read_only) {   /* the walk reads tables from the file */
        int r = qcow2_writeback(bd);
        if (r)
            return r;
    }
    if (fstat(bd->fd, &st) < 0)
        return -errno;
    struct walk w = { .bd = bd, .q = q, .res = res };
    w.n = ((uint64_t)st.st_size + q->cluster_size - 1) >> q->cluster_bits;
    if (w.n > (1ull << 32))
        return err_set(-EFBIG, "%s: image too large to check", bd->path);
    w.ref = calloc(w.n ? w.n : 1, sizeof(uint32_t));
    if (!w.ref)
        return err_set(-ENOMEM, "out of memory");
    res->total_clusters = (bd->size + q->cluster_size - 1) >> q->cluster_bits;
    ref_range(&w, 0, q->cluster_size, "header");
    int r = walk_l1(&w, q->l1_offset, q->l1_size, true);
    if (!r && q->nb_snapshots)
        r = walk_snapshots(&w);
    ref_range(&w, q->rt_offset, (uint64_t)q->rt_clusters * q->cluster_size, "refcount table");
    for (uint64_t k = 0; !r && k < q->rt_entries; k++) {
        uint64_t off = q->rt[k] & ~0x1ffull;
        if (!off)
            continue;
        if ((off & (q->cluster_size - 1)) || (off >> q->cluster_bits) >= w.n) {
            res->corruptions++;
            continue;
        }
        ref_range(&w, off, q->cluster_size, "refcount block");
    }
    if (r) {
        free(w.ref);
        return r;
    }
    /* compare over the clusters of the file, as qemu-img does: counts past
     * the end (a crash between allocation and write) hold no space */
    uint64_t limit = w.n;
    for (uint64_t c = 0; c < limit; c++) {
        uint64_t stored = 0, want = c < w.n ? w.ref[c] : 0;
        r = qcow2_refcount_get(bd, c, &stored);
        if (r)
            break;
        if (want)
            res->image_end_offset = (c + 1) << q->cluster_bits;
        if (stored == want)
            continue;
        bool leak = stored > want;
        if (leak)
            res->leaks++;
        else
            res->corruptions++;
        if ((leak && (repair & BLOCK_CHECK_REPAIR_LEAKS)) || (!leak && repair == BLOCK_CHECK_REPAIR_ALL)) {
            int rr = qcow2_refcount_update(bd, c, 1, (int)((int64_t)want - (int64_t)stored));
            if (rr == 0) {
                if (leak)
                    res->leaks_fixed++;
                else
                    res->corruptions_fixed++;
            }
        }
    }
    free(w.ref);
    if (r)
        res->check_errors++;
    return 0;
}
