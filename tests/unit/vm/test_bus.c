#include <errno.h>

#include "../test.h"
#include "vm/bus.h"

struct fake { uint64_t last_off, last_val; unsigned last_size; int writes; };

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    return off * 0x10 + size;
}

static void fake_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct fake *f = opaque;
    f->last_off = off;
    f->last_size = size;
    f->last_val = val;
    f->writes++;
}

static const struct bus_ops fake_ops = { fake_read, fake_write };

int main(void)
{
    struct bus b = { 0 };
    struct fake a = { 0 }, c = { 0 };
    CHECK_EQ(bus_register(&b, 0x3f8, 8, &fake_ops, &a, "com1"), 0);
    CHECK_EQ(bus_register(&b, 0x40, 4, &fake_ops, &c, "pit"), 0);
    CHECK_EQ(bus_register(&b, 0x3f0, 9, &fake_ops, &c, "clash-low"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0x3ff, 1, &fake_ops, &c, "clash-high"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0x3fa, 1, &fake_ops, &c, "clash-inside"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0x3f0, 0x20, &fake_ops, &c, "clash-around"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0x3f0, 8, &fake_ops, &c, "adjacent"), 0);
    CHECK_EQ(bus_register(&b, 0x10, 0, &fake_ops, &c, "empty"), -EINVAL);
    CHECK_EQ(bus_register(&b, UINT64_MAX, 2, &fake_ops, &c, "wraps"), -EINVAL);

    uint64_t v = 0;
    CHECK_EQ(bus_read(&b, 0x3fd, 1, &v), 0);
    CHECK_EQ(v, 5 * 0x10 + 1);
    CHECK_EQ(bus_write(&b, 0x3f9, 1, 0xab), 0);
    CHECK_EQ(a.last_off, 1);
    CHECK_EQ(a.last_val, 0xab);
    /* unclaimed and straddling accesses: all ones, writes dropped */
    CHECK_EQ(bus_read(&b, 0x500, 2, &v), -ENOENT);
    CHECK_EQ(v, 0xffff);
    CHECK_EQ(bus_read(&b, 0x3fe, 4, &v), -ENOENT);
    CHECK_EQ(v, 0xffffffff);
    CHECK_EQ(bus_read(&b, 0x3fe, 8, &v), -ENOENT);
    CHECK_EQ(v, UINT64_MAX);
    int before = a.writes;
    CHECK_EQ(bus_write(&b, 0x3ff, 2, 1), -ENOENT);
    CHECK_EQ(a.writes, before);
    CHECK(bus_find(&b, 0x42) != NULL);
    CHECK(bus_find(&b, 0x44) == NULL);
    bus_destroy(&b);
    TEST_MAIN_END();
}
