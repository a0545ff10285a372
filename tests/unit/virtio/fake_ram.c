/* gpa_to_hva / guest_read / guest_write for tests, until src/vm/memory.c
 * is on main; same contract as memory.h. */
#include <errno.h>
#include <string.h>

#include "vm/memory.h"

void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end))
        return NULL;
    for (int i = 0; i < mem->nregions; i++) {
        const struct mem_region *r = &mem->regions[i];
        if (gpa >= r->gpa && end <= r->gpa + r->size && gpa < r->gpa + r->size)
            return r->hva + (gpa - r->gpa);
    }
    return NULL;
}

int guest_read(const struct guest_memory *mem, uint64_t gpa, void *buf, uint64_t len)
{
    void *p = gpa_to_hva(mem, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, uint64_t len)
{
    void *p = gpa_to_hva(mem, gpa, len);
    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    return 0;
}

bool gpa_is_ram(const struct guest_memory *mem, uint64_t gpa)
{
    return gpa_to_hva(mem, gpa, 1) != NULL;
}
