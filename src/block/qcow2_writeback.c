/* Ordered write-back of qcow2 L1/L2 metadata.
 *
 * Refcounts are written through as they change, but the tables that point
 * at clusters (L2 tables, L1 entries) are kept dirty in memory and written
 * here, in batches, in the order a crash or a power loss can tolerate:
 *
 *   1. fdatasync: the refcounts of newly allocated clusters (and the new
 *      refcount blocks, and the guest data in those clusters) are on disk
 *      before any table points at them;
 *   2. the dirty L2 tables are written;
 *   3. fdatasync, then the dirty L1 entries: a new L2 table is on disk
 *      before the L1 entry that points at it;
 *   4. fdatasync, then the refcounts of clusters that the written tables no
 *      longer point at go down (and are punched): a cluster is never free
 *      on disk while an on-disk table still points at it.
 *
 * A crash at any point leaves at worst leaked clusters (counted, not
 * pointed at). It runs on a guest flush, at close, when the L2 cache is
 * full of dirty tables, and when many frees are queued; so one batch of
 * two or three fdatasyncs (see qcow2_flush_all) covers many allocations. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

#define MAX_PENDING_FREES 4096

int qcow2_sync(struct block_dev *bd)
{
    if (bd->opts && bd->opts->no_flush)
        return 0;   /* the user asked for no flushes (cache=unsafe): only the write order is kept */
    if (fdatasync(bd->fd) < 0)
        return err_set(-errno, "%s: flush: %s", bd->path, strerror(errno));
    QS(bd)->need_sync = false;
    QS(bd)->tables_unsynced = false;
    QS(bd)->syncs++;
    return 0;
}

int qcow2_flush_all(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    uint64_t before = q->syncs;
    int r = qcow2_writeback(bd);
    /* after step 4 only refcount decrements are unflushed: losing them
     * leaks clusters, which a flush need not prevent */
    if (!r && (q->syncs == before || q->tables_unsynced))
        r = qcow2_sync(bd);
    return r;
}

void qcow2_l2_dirty(struct block_dev *bd, const uint8_t *l2, uint64_t idx, uint64_t n)
{
    qcow2_cache_dirty(&QS(bd)->l2c, l2, (uint32_t)(8 * idx), (uint32_t)(8 * (idx + n)));
}

void qcow2_l1_dirty(struct block_dev *bd, uint64_t i)
{
    struct qcow2 *q = QS(bd);
    if (q->l1_dirty_lo >= q->l1_dirty_hi) {
        q->l1_dirty_lo = (uint32_t)i;
        q->l1_dirty_hi = (uint32_t)i + 1;
    } else {
        if (i < q->l1_dirty_lo)
            q->l1_dirty_lo = (uint32_t)i;
        if (i + 1 > q->l1_dirty_hi)
            q->l1_dirty_hi = (uint32_t)i + 1;
    }
}

int qcow2_free_entry_later(struct block_dev *bd, uint64_t e)
{
    struct qcow2 *q = QS(bd);
    if (qcow2_entry_kind(q, e) == QK_UNALLOC || !(e & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COMPRESSED)))
        return 0;
    if (q->n_pending == q->cap_pending) {
        size_t cap = q->cap_pending ? 2 * q->cap_pending : 64;
        uint64_t *p = realloc(q->pending_free, cap * sizeof(*p));
        if (!p)
            return err_set(-ENOMEM, "out of memory");
        q->pending_free = p;
        q->cap_pending = cap;
    }
    q->pending_free[q->n_pending++] = e;
    return q->n_pending >= MAX_PENDING_FREES ? qcow2_writeback(bd) : 0;
}

static int write_l2_tables(struct block_dev *bd, bool *wrote)
{
    struct qcow2_cache *c = &QS(bd)->l2c;
    for (int i = 0; i < c->n; i++) {
        struct qcow2_cache_slot *s = &c->slots[i];
        if (!s->offset || !s->dirty_end)
            continue;
        int r = file_pwrite_all(bd->fd, s->data + s->dirty_start, s->dirty_end - s->dirty_start,
                                s->offset + s->dirty_start);
        if (r)
            return err_set(r, "%s: cannot write L2 table: %s", bd->path, strerror(-r));
        s->dirty_start = s->dirty_end = 0;
        *wrote = true;
        QS(bd)->tables_unsynced = true;
    }
    return 0;
}

static bool any_dirty_l2(struct qcow2 *q)
{
    for (int i = 0; i < q->l2c.n; i++)
        if (q->l2c.slots[i].offset && q->l2c.slots[i].dirty_end)
            return true;
    return false;
}

static int write_l1(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    uint32_t lo = q->l1_dirty_lo, hi = q->l1_dirty_hi;
    uint64_t *buf = malloc((size_t)(hi - lo) * 8);
    if (!buf)
        return err_set(-ENOMEM, "out of memory");
    for (uint32_t i = lo; i < hi; i++)
        wr64be(buf + (i - lo), q->l1[i]);
    int r = file_pwrite_all(bd->fd, buf, (size_t)(hi - lo) * 8, q->l1_offset + 8ull * lo);
    free(buf);
    if (r)
        return err_set(r, "%s: cannot write the L1 table: %s", bd->path, strerror(-r));
    q->l1_dirty_lo = q->l1_dirty_hi = 0;
    q->tables_unsynced = true;
    return 0;
}

int qcow2_writeback(struct block_dev *bd)
{
    struct qcow2 *q = QS(bd);
    bool l2 = any_dirty_l2(q), l1 = q->l1_dirty_lo < q->l1_dirty_hi, wrote = l1;
    int r = 0;
    if ((l2 || l1) && q->need_sync)
        r = qcow2_sync(bd);                          /* 1 */
    if (!r && l2)
        r = write_l2_tables(bd, &wrote);             /* 2 */
    if (!r && l1) {
        r = qcow2_sync(bd);                          /* 3 */
        if (!r)
            r = write_l1(bd);
    }
    if (r || !q->n_pending)
        return r;
    if (wrote && (r = qcow2_sync(bd)))              /* 4 */
        return r;
    /* detach the list first: the frees below must not see it half done */
    uint64_t *list = q->pending_free;
    size_t n = q->n_pending;
    q->pending_free = NULL;
    q->n_pending = q->cap_pending = 0;
    for (size_t i = 0; i < n && !r; i++)
        r = qcow2_free_entry(bd, list[i]);
    free(list);
    return r;
}
