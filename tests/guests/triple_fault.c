/* triple_fault: an empty IDT and an invalid opcode. #UD cannot be
 * delivered, nor the #GP and #DF that follow: the CPU shuts down, and brume
 * must end with a non-zero status and a "triple fault" message. */
#include "rt.h"

const char guest_name[] = "triple_fault";

const char *guest_main(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
    rt_printf("triple_fault: loading an empty IDT, then ud2\n");
    __asm__ volatile("lidt %0; ud2" : : "m"(empty));
    return "still running after ud2 with an empty IDT";
}
