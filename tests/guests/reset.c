/* reset: pulses the reset line through the i8042 (command 0xFE), as
 * Linux's reboot=k does; brume must end with status 0. */
#include "rt.h"

const char guest_name[] = "reset";

const char *guest_main(void)
{
    rt_printf("reset: writing 0xFE to the i8042 command port\n");
    rt_reset();
}
