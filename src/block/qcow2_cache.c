/* A bounded cache of qcow2 metadata tables (L2 tables, refcount blocks).
 * Write-through: callers modify a cached table and write the changed
 * entries to the file at once, so eviction never writes. */
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

static struct qcow2_cache_slot *cache_victim(struct qcow2_cache *c)
{
    struct qcow2_cache_slot *v = &c->slots[0];
    for (int i = 0; i < c->n; i++) {
        if (!c->slots[i].offset)
            return &c->slots[i];
        if (c->slots[i].lru < v->lru)
            v = &c->slots[i];
    }
    return v;
}

int qcow2_cache_get(struct block_dev *bd, struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (!s) {
        s = cache_victim(c);
        s->offset = 0;
        int r = file_pread_all(bd->fd, s->data, c->size, off);
        if (r)
            return err_set(r, "%s: cannot read metadata at %llu: %s", bd->path, (unsigned long long)off,
                           strerror(-r));
        s->offset = off;
    }
    s->lru = ++c->tick;
    *out = s->data;
    return 0;
}

int qcow2_cache_new(struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (!s)
        s = cache_victim(c);
    s->offset = off;
    s->lru = ++c->tick;
    *out = s->data;
    return 0;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
    struct qcow2_cache_slot *s = cache_find(c, off);
    if (s)
        s->offset = 0;
}
