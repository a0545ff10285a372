/* Block code (jit.c): host code that runs a decoded block, per vCPU. */
#ifndef BRUME_ACCEL_EMU_JIT_H
#define BRUME_ACCEL_EMU_JIT_H

#include "accel/emu/insn.h"

typedef void (*emu_block_fn)(struct emu_cpu *c);

struct emu_jit;

/* A code buffer, or NULL when block code is off (BRUME_NO_JIT=1) or the
 * host refuses the mappings: blocks then run in exec.c's loop. */
struct emu_jit *emu_jit_new(void);
void emu_jit_delete(struct emu_jit *j);
/* Forgets all code (the block arena was emptied). */
void emu_jit_reset(struct emu_jit *j);
/* Code for block b (which must stay where it is), or NULL: the buffer is
 * full (empty it with the arena) or b is not a 64-bit block. */
emu_block_fn emu_jit_compile(struct emu_jit *j, const struct emu_block *b);

#endif
