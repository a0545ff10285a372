/* wild_jump: jumps where no code can be. By default to 0xE0000000, inside
 * the identity map but backed by neither RAM nor a device (the MMIO hole);
 * with wild=1, to 512 GiB, outside the identity map, with the
 * IDT emptied first so that the page fault cannot be handled either. brume
 * must end with a non-zero status and an error, not hang. */
#include "rt.h"

const char guest_name[] = "wild_jump";

const char *guest_main(void)
{
    uint64_t unmapped = 0;
    uint64_t target = 0xE0000000ull;
    if (rt_cmdline_u64("wild", &unmapped) && unmapped)
        target = 0x8000000000ull;
    rt_printf("wild_jump: jumping to 0x%lx\n", target);
    if (target == 0x8000000000ull) {
        struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
        __asm__ volatile("lidt %0" : : "m"(empty));
    }
    __asm__ volatile("jmp *%0" : : "r"(target));
    return "still running after the wild jump";
}
