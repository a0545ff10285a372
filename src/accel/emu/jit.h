/* Block code (jit.c): host code that runs a decoded block, per vCPU. */
#ifndef BRUME_ACCEL_EMU_JIT_H
#define BRUME_ACCEL_EMU_JIT_H

#include "accel/emu/insn.h"

struct emu_jit;

/* A code buffer, or NULL when block code is off (BRUME_NO_JIT=1) or the
 * host refuses the mappings: blocks then run in exec.c's loop. */
struct emu_jit *emu_jit_new(void);
void emu_jit_delete(struct emu_jit *j);
/* An address for data that block code reads (mmap's hint): right after
 * the code, so that a RIP-relative operand reaches it. NULL without j. */
void *emu_jit_data_hint(const struct emu_jit *j);
/* Forgets all code (the block arena was emptied). */
void emu_jit_reset(struct emu_jit *j);
/* The way into block code: jit_enter(c, b->code) runs b and the blocks
 * chained after it, then sets c->jit_last. */
void (*emu_jit_entry(const struct emu_jit *j))(struct emu_cpu *c, const void *code);
/* Makes from's code jump straight to to's when the next RIP is to's
 * first byte (k: 0 fall-through, 1 any other on the page). */
void emu_jit_link(struct emu_jit *j, struct emu_block *from, unsigned k, const struct emu_block *to);
/* True when the buffer has no room left for a block: empty it. */
bool emu_jit_full(const struct emu_jit *j);
/* Code for block b (which must stay where it is), or NULL: the buffer is
 * full (empty it with the arena) or b has none (not 64-bit, or too short
 * to check near the end of memory). With gen, the code checks b's bytes
 * only when b's check slot no longer holds guest_ram_gen (as
 * emu_block_matches); without, at every entry. */
const void *emu_jit_compile(struct emu_jit *j, struct emu_block *b, bool gen);

#endif
