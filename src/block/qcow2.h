/* qcow2 driver internals (QEMU's docs/interop/qcow2.txt describes the
 * format). Split by concern: qcow2_header.c (open, create, header updates),
 * qcow2_cache.c (bounded table cache), qcow2_refcount.c (refcounts and
 * cluster allocation), qcow2_cluster.c (guest I/O through L1/L2),
 * qcow2_compress.c, qcow2_check.c.
 *
 * Crash safety (docs/images.md has the full list): refcount blocks and the
 * refcount table are written through; L2 tables and the L1 table are
 * written back later, in batches, by qcow2_writeback (qcow2_writeback.c),
 * which flushes between the steps that depend on each other: refcounts
 * and data, then L2 tables, then L1 entries, then refcount decrements for
 * clusters that no table points at any more. A guest flush runs the
 * writeback and then an fdatasync. */
#ifndef BRUME_BLOCK_QCOW2_H
#define BRUME_BLOCK_QCOW2_H

#include "block/block_int.h"

#define QCOW2_MAGIC 0x514649fbu            /* "QFI\xfb" */
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_INCOMPAT_DIRTY 1ull
#define QCOW2_INCOMPAT_CORRUPT 2ull
#define QCOW2_INCOMPAT_DATA_FILE 4ull
#define QCOW2_INCOMPAT_COMPRESSION 8ull
#define QCOW2_INCOMPAT_EXTL2 16ull
#define QCOW2_INCOMPAT_KNOWN (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION)
#define QCOW2_COMPAT_LAZY_REFCOUNTS 1ull
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_MAX_L1_BYTES (32u << 20)      /* like QEMU: refuse absurd L1 tables */
#define QCOW2_MAX_RT_BYTES (8u << 20)

struct qcow2_cache_slot {
    uint64_t offset;      /* host offset of the table, 0 when free */
    uint64_t lru;
    uint8_t *data;        /* the table (big-endian, as in the file) */
    uint32_t dirty_start, dirty_end;   /* bytes not yet written back; end 0: clean */
};

struct qcow2_cache {
    struct qcow2_cache_slot *slots;
    int n;
    uint64_t tick;
    uint32_t size;        /* bytes per table */
    int (*writeback)(struct block_dev *bd);   /* cleans every dirty slot */
};

enum qcow2_kind { QK_UNALLOC, QK_ZERO, QK_NORMAL, QK_COMPRESSED };

struct qcow2 {
    int version;
    uint32_t cluster_bits, cluster_size, l2_bits, l2_entries;
    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;                   /* host byte order */
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_entries;
    uint64_t *rt;                   /* host byte order */
    uint32_t refcount_order, rb_entries;
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    int compression;                /* 0 zlib, 1 zstd */
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    struct qcow2_cache l2c, rbc;
    uint64_t free_hint;             /* cluster index where free clusters may start */
    uint64_t alloc_end;             /* first cluster index past everything allocated */
    uint64_t comp_next;             /* byte offset where the next compressed cluster may go (0: none) */
    uint64_t last_comp_entry;       /* decompressed-cluster cache */
    uint8_t *comp_cache;
    uint8_t *scratch;               /* 2 clusters for copy-on-write */
    uint8_t *zbuf;                  /* compressed input/output buffer */
    uint32_t l1_dirty_lo, l1_dirty_hi;   /* L1 entries [lo, hi) not yet written back */
    uint64_t *pending_free;         /* L2 entries replaced since the last writeback */
    size_t n_pending, cap_pending;
    bool need_sync;                 /* refcounts or new data written since the last fdatasync */
    bool tables_unsynced;           /* L2/L1 tables written since the last fdatasync */
    uint64_t syncs;                 /* fdatasyncs so far */
    bool freed;                     /* some cluster's refcount reached 0 since open */
};

static inline struct qcow2 *QS(struct block_dev *bd) { return bd->priv; }

/* qcow2_cache.c */
int qcow2_cache_init(struct qcow2_cache *c, int n, uint32_t size);
void qcow2_cache_free(struct qcow2_cache *c);
/* Returns the cached table at host offset off (reading it on a miss). */
int qcow2_cache_get(struct block_dev *bd, struct qcow2_cache *c, uint64_t off, uint8_t **out);
/* Installs a table whose content the caller fills (a new table). */
int qcow2_cache_new(struct block_dev *bd, struct qcow2_cache *c, uint64_t off, uint8_t **out);
/* Marks bytes [lo, hi) of the cached table at data as changed. */
void qcow2_cache_dirty(struct qcow2_cache *c, const uint8_t *data, uint32_t lo, uint32_t hi);
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off);

/* qcow2_refcount.c */
int qcow2_refcount_get(struct block_dev *bd, uint64_t cluster, uint64_t *out);
/* Adds delta to the refcounts of count clusters from cluster (blocks must exist). */
int qcow2_refcount_update(struct block_dev *bd, uint64_t cluster, uint64_t count, int delta);
/* Allocates n contiguous clusters (refcount 1); returns the host offset. */
int qcow2_alloc_clusters(struct block_dev *bd, uint64_t n, uint64_t *host);
/* Drops one reference to n clusters; frees (punches) those reaching 0. */
int qcow2_free_clusters(struct block_dev *bd, uint64_t host, uint64_t n);
/* Cuts free clusters off the end of the file (after discards, or the
 * emptying that follows img commit, as qemu-img leaves a smaller file). */
int qcow2_trim_tail(struct block_dev *bd);
uint64_t qcow2_rb_get(const uint8_t *rb, uint32_t order, uint64_t i);
void qcow2_rb_set(uint8_t *rb, uint32_t order, uint64_t i, uint64_t v);

/* qcow2_cluster.c */
int qcow2_l2_entry(struct block_dev *bd, uint64_t guest, uint64_t *entry);
enum qcow2_kind qcow2_entry_kind(struct qcow2 *q, uint64_t entry);
int qcow2_free_entry(struct block_dev *bd, uint64_t entry);
int qcow2_set_l2_entry(struct block_dev *bd, uint64_t guest, uint64_t entry);
void qcow2_compressed_range(struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len);

/* qcow2_writeback.c */
/* Writes dirty L2 tables and L1 entries and frees replaced clusters, in
 * crash-safe order (see the file). Idempotent when nothing is dirty. */
int qcow2_writeback(struct block_dev *bd);
/* fdatasync, remembering that nothing is unflushed. */
int qcow2_sync(struct block_dev *bd);
/* A guest flush: the write-back, then an fdatasync unless the write-back's
 * last one already covers every table it wrote. */
int qcow2_flush_all(struct block_dev *bd);
/* Marks L2 entry idx..idx+n of a cached table as changed. */
void qcow2_l2_dirty(struct block_dev *bd, const uint8_t *l2, uint64_t idx, uint64_t n);
void qcow2_l1_dirty(struct block_dev *bd, uint64_t i);
/* Queues the references an L2 entry held, to drop once the table that no
 * longer holds it is on disk. */
int qcow2_free_entry_later(struct block_dev *bd, uint64_t entry);

/* qcow2_compress.c */
int qcow2_decompress(struct block_dev *bd, uint64_t entry, uint8_t *out);
int qcow2_write_compressed(struct block_dev *bd, const void *buf, uint64_t off);

/* qcow2_header.c */
int qcow2_write_header_field(struct block_dev *bd, uint32_t at, const void *p, size_t len);
int qcow2_mark_corrupt(struct block_dev *bd, const char *why);

int qcow2_check(struct block_dev *bd, struct block_check *res, int repair);

#endif
