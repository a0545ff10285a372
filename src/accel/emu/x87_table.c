/* x87 plug-in table (see insn.h): the handlers of the escape opcodes D8..DF,
 * each decoding its own ModRM. Owned by the x87 work (x87*.c); NULL stops
 * the VM with "unimplemented instruction". */
#include "accel/emu/insn.h"

const emu_op_fn emu_x87_esc[8] = { NULL };
