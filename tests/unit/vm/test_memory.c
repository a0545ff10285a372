#include <errno.h>
#include <string.h>

#include "../test.h"
#include "vm/memory.h"

static void test_small(void)
{
    struct guest_memory m;
    CHECK_EQ(guest_memory_init(&m, 128ull << 20), 0);
    CHECK_EQ(m.nregions, 1);
    CHECK(gpa_to_hva(&m, 0, 4096) != NULL);
    CHECK(gpa_to_hva(&m, (128ull << 20) - 8, 8) != NULL);
    CHECK(gpa_to_hva(&m, (128ull << 20) - 8, 9) == NULL);   /* crosses the end */
    CHECK(gpa_to_hva(&m, 128ull << 20, 1) == NULL);
    CHECK(gpa_to_hva(&m, 16, UINT64_MAX) == NULL);         /* length overflow */
    CHECK(gpa_to_hva(&m, UINT64_MAX, 2) == NULL);
    uint8_t buf[16] = { 1, 2, 3 }, back[16];
    CHECK_EQ(guest_write(&m, 0x1000, buf, sizeof(buf)), 0);
    CHECK_EQ(guest_read(&m, 0x1000, back, sizeof(back)), 0);
    CHECK(memcmp(buf, back, sizeof(buf)) == 0);
    CHECK_EQ(guest_read(&m, (128ull << 20) - 4, back, 8), -EFAULT);
    guest_memory_destroy(&m);
}

static void test_hole(void)
{
    struct guest_memory m;
    CHECK_EQ(guest_memory_init(&m, 6ull << 30), 0);
    CHECK_EQ(m.nregions, 2);
    CHECK_EQ(m.regions[0].size, MEM_HOLE_START);
    CHECK_EQ(m.regions[1].gpa, MEM_HOLE_END);
    CHECK_EQ(m.regions[1].size, (6ull << 30) - MEM_HOLE_START);
    CHECK(!gpa_is_ram(&m, MEM_HOLE_START));
    CHECK(!gpa_is_ram(&m, 0xFEE00000));
    CHECK(gpa_is_ram(&m, MEM_HOLE_END));
    CHECK(gpa_to_hva(&m, MEM_HOLE_START - 4, 8) == NULL);   /* into the hole */
    uint8_t b[8];
    CHECK_EQ(guest_read(&m, MEM_HOLE_START - 4, b, 8), -EFAULT);
    CHECK(gpa_to_hva(&m, MEM_HOLE_END + (3ull << 30) - 1, 1) != NULL);
    CHECK(gpa_to_hva(&m, MEM_HOLE_END + (3ull << 30), 1) == NULL);
    guest_memory_destroy(&m);
}

static void test_bad_sizes(void)
{
    struct guest_memory m;
    CHECK_EQ(guest_memory_init(&m, 0), -EINVAL);
    CHECK_EQ(guest_memory_init(&m, 4097), -EINVAL);
    CHECK_EQ(guest_memory_init(&m, 1ull << 50), -EINVAL);
    guest_memory_destroy(&m);
}

int main(void)
{
    test_small();
    test_hole();
    test_bad_sizes();
    TEST_MAIN_END();
}
