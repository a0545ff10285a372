/* SSE/MMX plug-in tables (see insn.h): [opcode][PFX_NONE, PFX_66, PFX_F3,
 * PFX_F2]. Owned by the SSE work (sse*.c); an entry left NULL stops the VM
 * with "unimplemented instruction", op_ud makes an encoding #UD.
 * 0F AE [PFX_NONE] receives FXSAVE/FXRSTOR/LDMXCSR/STMXCSR (modrm.reg 0..3,
 * memory forms only). */
#include "accel/emu/insn.h"

const emu_op_fn emu_sse_0f[256][4] = {
    [0x00] = { NULL },
};

const emu_op_fn emu_sse_0f38[256][4] = {
    [0x00] = { NULL },
};

const emu_op_fn emu_sse_0f3a[256][4] = {
    [0x00] = { NULL },
};
