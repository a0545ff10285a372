/* Engine selection (filled in by the kvm/emu work). */
#include "accel/accel.h"
