/* The port-I/O and MMIO buses.
 *
 * Devices register address ranges with callbacks; engines hand every port or
 * MMIO access to bus_read/bus_write. Ranges are registered while the VM is
 * being built and never change while vCPUs run, so dispatch needs no lock:
 * a device that can be reached from several vCPUs (or from its back-end
 * thread) protects its own state. */
#ifndef BRUME_VM_BUS_H
#define BRUME_VM_BUS_H

#include <stdint.h>

/* Access callbacks. offset is relative to the registered base; size is 1,
 * 2, 4 or 8. A read returns the value zero-extended to 64 bits. */
struct bus_ops {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
};

struct bus_range {
    uint64_t base, len;
    const struct bus_ops *ops;
    void *opaque;
    const char *name;
};

struct bus {
    struct bus_range *ranges; /* sorted by base, non-overlapping */
    int count, capacity;
};

/* Registers [base, base+len). Returns 0, -EEXIST if the range overlaps an
 * existing one (reason in err_get() names both), -EINVAL for len 0 or an
 * overflowing range, -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 const struct bus_ops *ops, void *opaque, const char *name);

/* Finds the range containing addr, or NULL. */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);

/* Dispatches an access. An access to an unclaimed address reads as all
 * ones (like an open bus on a PC) and writes are dropped; both return
 * -ENOENT so that callers may log them. An access that straddles the end
 * of a range is treated as unclaimed. */
int bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *value);
int bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t value);

void bus_destroy(struct bus *bus);

#endif
