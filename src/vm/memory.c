/* Guest RAM: memfd-backed regions around the 32-bit MMIO hole. */
#include "vm/memory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

#define PAGE_SIZE 4096ull

static int region_create(struct mem_region *r, uint64_t gpa, uint64_t size, int index)
{
    char name[32];
    snprintf(name, sizeof(name), "brume-ram%d", index);
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return err_set(-errno, "guest memory: memfd_create: %s", strerror(errno));
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        return err_set(-e, "guest memory: cannot size %llu MiB: %s",
                       (unsigned long long)(size >> 20), strerror(e));
    }
    /* MAP_NORESERVE: guests touch only what they use, and --mem may exceed
     * the host's free memory as long as the guest does not fill it. */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return err_set(-e, "guest memory: cannot map %llu MiB: %s",
                       (unsigned long long)(size >> 20), strerror(e));
    }
    r->gpa = gpa;
    r->size = size;
    r->hva = p;
    r->fd = fd;
    return 0;
}

int guest_memory_init(struct guest_memory *mem, uint64_t ram_size)
{
    memset(mem, 0, sizeof(*mem));
    for (int i = 0; i < MEM_MAX_REGIONS; i++)
        mem->regions[i].fd = -1;
    if (ram_size == 0)
        return err_set(-EINVAL, "--mem: the guest needs some memory (got 0)");
    if (ram_size % PAGE_SIZE)
        return err_set(-EINVAL, "--mem: %llu bytes is not a multiple of 4 KiB",
                       (unsigned long long)ram_size);
    /* Stay far below the host's 47-bit user address space. */
    if (ram_size > (1ull << 40))
        return err_set(-EINVAL, "--mem: %llu GiB is more than brume supports (1 TiB)",
                       (unsigned long long)(ram_size >> 30));

    uint64_t low = ram_size < MEM_HOLE_START ? ram_size : MEM_HOLE_START;
    int rc = region_create(&mem->regions[0], 0, low, 0);
    if (rc < 0)
        return rc;
    mem->nregions = 1;
    if (ram_size > low) {
        rc = region_create(&mem->regions[1], MEM_HOLE_END, ram_size - low, 1);
        if (rc < 0) {
            guest_memory_destroy(mem);
            return rc;
        }
        mem->nregions = 2;
    }
    mem->ram_size = ram_size;
    return 0;
}

void guest_memory_destroy(struct guest_memory *mem)
{
    for (int i = 0; i < mem->nregions; i++) {
        struct mem_region *r = &mem->regions[i];
        if (r->hva)
            munmap(r->hva, r->size);
        if (r->fd >= 0)
            close(r->fd);
        r->hva = NULL;
        r->fd = -1;
    }
    mem->nregions = 0;
}

static const struct mem_region *region_of(const struct guest_memory *mem, uint64_t gpa)
{
    for (int i = 0; i < mem->nregions; i++) {
        const struct mem_region *r = &mem->regions[i];
        if (gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

uint64_t guest_ram_gen = 1;

void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
    const struct mem_region *r = region_of(mem, gpa);
    if (!r)
        return NULL;
    uint64_t off = gpa - r->gpa;
    if (len > r->size - off)
        return NULL;
    return r->hva + off;
}

bool gpa_is_ram(const struct guest_memory *mem, uint64_t gpa)
{
    return region_of(mem, gpa) != NULL;
}

/* Copies piecewise so a range may span the two RAM regions only where they
 * are contiguous in guest physical space (they never are: the hole is
 * between them), which makes any such range fail as it should. */
static int guest_copy(const struct guest_memory *mem, uint64_t gpa, void *buf,
                      uint64_t len, bool to_guest)
{
    uint8_t *p = buf;
    while (len > 0) {
        const struct mem_region *r = region_of(mem, gpa);
        if (!r)
            return -EFAULT;
        uint64_t off = gpa - r->gpa;
        uint64_t chunk = r->size - off < len ? r->size - off : len;
        if (to_guest)
            memcpy(r->hva + off, p, chunk);
        else
            memcpy(p, r->hva + off, chunk);
        p += chunk;
        gpa += chunk;
        len -= chunk;
        if (len && gpa == 0) /* wrapped around the address space */
            return -EFAULT;
    }
    return 0;
}

int guest_read(const struct guest_memory *mem, uint64_t gpa, void *buf, uint64_t len)
{
    return guest_copy(mem, gpa, buf, len, false);
}

int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, uint64_t len)
{
    int r = guest_copy(mem, gpa, (void *)buf, len, true);
    guest_ram_changed();
    return r;
}
