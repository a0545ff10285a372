/* The opcode tables: (map, opcode) -> handler. Entries name the handler
 * after the instruction and its Intel operand notation. Unlisted entries
 * are op_unimpl (stops the VM with the RIP and bytes); the decoder already
 * raised #UD for undefined encodings. The SSE/MMX and x87 groups come from
 * the plug-in tables declared in insn.h. */
#include "accel/emu/insn.h"

#define ALU_ROW op_alu_E_G, op_alu_E_G, op_alu_G_E, op_alu_G_E, op_alu_A_I, op_alu_A_I
#define X8(h) h, h, h, h, h, h, h, h
#define X16(h) X8(h), X8(h)

static const emu_op_fn map_1byte[256] = {
    /* 00 */ ALU_ROW, op_push_Sw, op_pop_Sw, ALU_ROW, op_push_Sw, op_ud /* 0F escape */,
    /* 10 */ ALU_ROW, op_push_Sw, op_pop_Sw, ALU_ROW, op_push_Sw, op_pop_Sw,
    /* 20 */ ALU_ROW, op_ud /* ES: prefix */, op_daa_das,
             ALU_ROW, op_ud /* CS: prefix */, op_daa_das,
    /* 30 */ ALU_ROW, op_ud /* SS: prefix */, op_aaa_aas,
             ALU_ROW, op_ud /* DS: prefix */, op_aaa_aas,
    /* 40 */ X16(op_incdec_Zv),
    /* 50 */ X8(op_push_Zv), X8(op_pop_Zv),
    /* 60 */ op_pusha, op_popa, op_bound, op_movsxd_Gv_Ed,
             op_ud, op_ud, op_ud, op_ud, /* prefixes */
             op_push_I, op_imul_Gv_Ev_I, op_push_I, op_imul_Gv_Ev_I,
             op_string, op_string, op_string, op_string, /* INS/OUTS */
    /* 70 */ X16(op_jcc_J),
    /* 80 */ op_grp1_E_I, op_grp1_E_I, op_grp1_E_I, op_grp1_E_I, op_test_E_G, op_test_E_G, op_xchg_E_G, op_xchg_E_G,
             op_mov_E_G, op_mov_E_G, op_mov_G_E, op_mov_G_E, op_mov_Ew_Sw, op_lea_Gv_M, op_mov_Sw_Ew, op_pop_Ev,
    /* 90 */ X8(op_xchg_Zv_rAX),
             op_cbw, op_cwd, op_far_Ap, op_fwait, op_pushf, op_popf, op_sahf, op_lahf,
    /* A0 */ op_mov_moffs, op_mov_moffs, op_mov_moffs, op_mov_moffs, op_string, op_string, op_string, op_string,
             op_test_A_I, op_test_A_I, op_string, op_string, op_string, op_string, op_string, op_string,
    /* B0 */ X8(op_mov_Zb_Ib), X8(op_mov_Zv_Iv),
    /* C0 */ op_grp2_E, op_grp2_E, op_ret, op_ret, op_load_far_ptr, op_load_far_ptr, op_mov_E_I, op_mov_E_I,
             op_enter, op_leave, op_retf, op_retf, op_int3, op_int_Ib, op_into, op_iret,
    /* D0 */ op_grp2_E, op_grp2_E, op_grp2_E, op_grp2_E, op_aam, op_aad, op_ud, op_xlat,
             X8(op_x87),
    /* E0 */ op_loop_Jb, op_loop_Jb, op_loop_Jb, op_loop_Jb, op_in_out, op_in_out, op_in_out, op_in_out,
             op_call_J, op_jmp_J, op_far_Ap, op_jmp_J, op_in_out, op_in_out, op_in_out, op_in_out,
    /* F0 */ op_ud /* LOCK */, op_int1, op_ud, op_ud, op_hlt, op_flag_bits, op_grp3_E, op_grp3_E,
             op_flag_bits, op_flag_bits, op_cli, op_sti, op_flag_bits, op_flag_bits, op_grp4_Eb, op_grp5_Ev,
};

/* Two-byte map. op_sse: the opcode belongs to the SSE/MMX plug-in table. */
static const emu_op_fn map_0f[256] = {
    /* 00 */ op_grp6, op_grp7, op_lar_lsl, op_lar_lsl, op_ud, op_syscall, op_clts, op_sysret,
             op_invd_wbinvd, op_invd_wbinvd, op_ud, op_ud /* UD2 */, op_ud, op_nop_Ev /* PREFETCHW */, op_ud, op_ud,
    /* 10 */ X8(op_sse),
             op_nop_Ev /* PREFETCHh */, op_nop_Ev, op_nop_Ev, op_nop_Ev, op_nop_Ev, op_nop_Ev, op_nop_Ev, op_nop_Ev /* NOP Ev */,
    /* 20 */ op_mov_cr, op_mov_dr, op_mov_cr, op_mov_dr, op_ud, op_ud, op_ud, op_ud,
             X8(op_sse),
    /* 30 */ op_wrmsr, op_rdtsc, op_rdmsr, op_rdpmc, op_sysenter, op_sysexit, op_ud, op_ud,
             op_0f38, op_ud, op_0f3a, op_ud, op_ud, op_ud, op_ud, op_ud,
    /* 40 */ X16(op_cmovcc_Gv_Ev),
    /* 50 */ X16(op_sse),
    /* 60 */ X16(op_sse),
    /* 70 */ X16(op_sse),
    /* 80 */ X16(op_jcc_J),
    /* 90 */ X16(op_setcc_Eb),
    /* A0 */ op_push_Sw, op_pop_Sw, op_cpuid, op_bt_Ev_Gv, op_shld_shrd, op_shld_shrd, op_ud, op_ud,
             op_push_Sw, op_pop_Sw, op_ud /* RSM: never in SMM */, op_bt_Ev_Gv, op_shld_shrd, op_shld_shrd, op_grp15, op_imul_Gv_Ev,
    /* B0 */ op_cmpxchg_E_G, op_cmpxchg_E_G, op_load_far_ptr, op_bt_Ev_Gv, op_load_far_ptr, op_load_far_ptr, op_movzx_Gv_E, op_movzx_Gv_E,
             op_popcnt_Gv_Ev, op_ud /* UD1 */, op_grp8_Ev_Ib, op_bt_Ev_Gv, op_bsf_Gv_Ev, op_bsr_Gv_Ev, op_movsx_Gv_E, op_movsx_Gv_E,
    /* C0 */ op_xadd_E_G, op_xadd_E_G, op_sse, op_movnti_My_Gy, op_sse, op_sse, op_sse, op_grp9,
             X8(op_bswap_Zv),
    /* D0 */ X16(op_sse),
    /* E0 */ X16(op_sse),
    /* F0 */ X8(op_sse), op_sse, op_sse, op_sse, op_sse, op_sse, op_sse, op_sse, op_ud /* UD0 */,
};

/* Looks up a plug-in entry; NULL means not implemented (never #UD). */
static inline void plug(struct emu_cpu *c, const struct insn *i, emu_op_fn f)
{
    if (!f)
        emu_unimplemented(c, i);
    f(c, i);
}

OP(op_sse) { plug(c, i, emu_sse_0f[i->op][i->pfx]); }
OP(op_0f38) { plug(c, i, emu_sse_0f38[i->op][i->pfx]); }
OP(op_0f3a) { plug(c, i, emu_sse_0f3a[i->op][i->pfx]); }
OP(op_x87) { plug(c, i, emu_x87_esc[i->op - 0xd8]); }

emu_op_fn emu_dispatch(const struct insn *i)
{
    switch (i->map) {
    case MAP_1BYTE: return emu_specialize(i, map_1byte[i->op]);
    case MAP_0F: return emu_specialize(i, map_0f[i->op]);
    case MAP_0F38: return op_0f38;
    default: return op_0f3a;
    }
}
