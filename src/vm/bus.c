/* Port-I/O and MMIO dispatch: a sorted array of ranges, binary-searched. */
#include "vm/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 const struct bus_ops *ops, void *opaque, const char *name)
{
    if (len == 0 || base + len - 1 < base)
        return err_set(-EINVAL, "%s: bad address range 0x%llx+0x%llx", name,
                       (unsigned long long)base, (unsigned long long)len);
    int pos = 0;
    while (pos < bus->count && bus->ranges[pos].base < base)
        pos++;
    /* Overlap can only be with the neighbours of the insertion point. */
    const struct bus_range *prev = pos > 0 ? &bus->ranges[pos - 1] : NULL;
    const struct bus_range *next = pos < bus->count ? &bus->ranges[pos] : NULL;
    const struct bus_range *clash = NULL;
    if (prev && prev->base + prev->len > base)
        clash = prev;
    else if (next && base + len > next->base)
        clash = next;
    if (clash)
        return err_set(-EEXIST, "%s at 0x%llx+0x%llx overlaps %s at 0x%llx+0x%llx", name,
                       (unsigned long long)base, (unsigned long long)len, clash->name,
                       (unsigned long long)clash->base, (unsigned long long)clash->len);
    if (bus->count == bus->capacity) {
        int cap = bus->capacity ? bus->capacity * 2 : 16;
        struct bus_range *r = realloc(bus->ranges, (size_t)cap * sizeof(*r));
        if (!r)
            return err_set(-ENOMEM, "%s: out of memory", name);
        bus->ranges = r;
        bus->capacity = cap;
    }
    memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
            (size_t)(bus->count - pos) * sizeof(bus->ranges[0]));
    bus->ranges[pos] = (struct bus_range){ base, len, ops, opaque, name };
    bus->count++;
    return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
    int lo = 0, hi = bus->count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const struct bus_range *r = &bus->ranges[mid];
        if (addr < r->base)
            hi = mid - 1;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static const struct bus_range *range_for(const struct bus *bus, uint64_t addr, unsigned size)
{
    const struct bus_range *r = bus_find(bus, addr);
    if (!r || addr - r->base + size > r->len)
        return NULL;
    return r;
}

int bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
    const struct bus_range *r = range_for(bus, addr, size);
    if (!r || !r->ops->read) {
        *value = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
        return -ENOENT;
    }
    *value = r->ops->read(r->opaque, addr - r->base, size);
    return 0;
}

int bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
    const struct bus_range *r = range_for(bus, addr, size);
    if (!r || !r->ops->write)
        return -ENOENT;
    r->ops->write(r->opaque, addr - r->base, size, value);
    return 0;
}

void bus_destroy(struct bus *bus)
{
    free(bus->ranges);
    memset(bus, 0, sizeof(*bus));
}
