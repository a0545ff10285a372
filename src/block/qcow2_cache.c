/* A bounded cache of qcow2 metadata tables (L2 tables, refcount blocks,
 * vmdk grain tables). Refcount blocks are write-through: callers write the
 * changed entries at once. L2 tables are write-back: callers mark the
 * changed bytes dirty, and qcow2_writeback (qcow2_writeback.c) writes them
 * in crash-safe order. A dirty table is never evicted: when every slot is
 * dirty, the cache's writeback hook runs first. */
#include <errno.h>
#include <stdlib.h>

#include "block/qcow2.h"
#include "util/log.h"

int qcow2_cache_init(struct qcow2_cache *c, int n, uint32_t size)
{
    c->slots = calloc((size_t)n, sizeof(*c->slots));
    if (!c->slots)
        return -ENOMEM;
    c->n = n;
    c->size = size;
    c->tick = 0;
    c->writeback = NULL;
    for (int i = 0; i < n; i++) {
        c->slots[i].data = malloc(size);
        if (!c->slots[i].data)
            return -ENOMEM;
    }
    return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
    for (int i = 0; c->slots && i < c->n; i++)
        free(c->slots[i].data);
    free(c->slots);
    c->slots = NULL;
}

static struct qcow2_cache_slot *cache_find(struct qcow2_cache *c, uint64_t off)
{
    for (int i = 0; i < c->n; i++)
        if (c->slots[i].offset == off)
            return &c->slots[i];
    return NULL;
}

/* The least recently used clean slot; when all are dirty, the writeback
 * hook cleans them first. */
static int cache_victim(struct block_dev *bd, struct qcow2_cache *c, struct qcow2_cache_slot **out)
{
    for (int pass = 0; pass < 2; pass++) {
        struct qcow2_cache_slot *v = NULL;
        for (int i = 0; i < c->n; i++) {
            struct qcow2_cache_slot *s = &c->slots[i];
            if (!s->offset) {
                *out = s;
                return 0;
            }
            if (!s->dirty_end && (!v || s->lru < v->lru))
                v = s;
        }
        if (v) {
            *out = v;
            return 0;
        }
        int r = c->writeback ? c->writeback(bd) : -EIO;
        if (r)
            return r;
    }
    return err_set(-EIO, "%s: metadata cache: no table could be written back", bd->path);
}

void qcow2_cache_dirty(struct qcow2_cache *c, const uint8_t *data, uint32_t lo, uint32_t hi)
{
    for (int i = 0; i < c->n; i++) {
        struct qcow2_cache_slot *s = &c->slots[i];
        if (s->data != data)
            continue;
        if (!s->dirty_end || lo < s->dirty_start)
            s->dirty_start = lo;
        if (hi > s->dirty_end)
            s->dirty_end = hi;
        return;
    }
}

int qcow2_cache_get(struct block_dev *bd, struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (!s) {
        int r = cache_victim(bd, c, &s);
        if (r)
            return r;
        s->offset = 0;
        r = file_pread_all(bd->fd, s->data, c->size, off);
        if (r)
            return err_set(r, "%s: cannot read metadata at %llu: %s", bd->path, (unsigned long long)off,
                           strerror(-r));
        s->offset = off;
    }
    s->lru = ++c->tick;
    *out = s->data;
    return 0;
}

int qcow2_cache_new(struct block_dev *bd, struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (!s) {
        int r = cache_victim(bd, c, &s);
        if (r)
            return r;
    }
    s->offset = off;
    s->lru = ++c->tick;
    *out = s->data;
    return 0;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (s) {
        s->offset = 0;
        s->dirty_start = s->dirty_end = 0;
    }
}
