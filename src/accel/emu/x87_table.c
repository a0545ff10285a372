/* x87 plug-in table (see insn.h): the handlers of the escape opcodes D8..DF,
 * each decoding its own ModRM. One handler serves them all (x87_ops.c):
 * the forms are tables there. */
#include "accel/emu/insn.h"

void op_x87_esc(struct emu_cpu *c, const struct insn *i);

const emu_op_fn emu_x87_esc[8] = {
    op_x87_esc, op_x87_esc, op_x87_esc, op_x87_esc,
    op_x87_esc, op_x87_esc, op_x87_esc, op_x87_esc,
};
