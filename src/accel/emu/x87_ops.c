/* The x87 escapes D8..DF: one handler. Control instructions (FLDENV,
 * FLDCW, FNSTENV, FNSTCW, FRSTOR, FNSAVE, FNSTSW, FNCLEX, FNINIT) are done
 * in C on the state (x87_ctl.c); every other defined form runs on the
 * host's x87 (x87_host.c) after its memory operand has been fetched, and a
 * store form writes its operand back only if the host produced it. */
#include "accel/emu/fp_emu.h"

void op_x87_esc(struct emu_cpu *c, const struct insn *i);

/* FWAIT (9B): #NM when CR0.MP and CR0.TS, then #MF when an unmasked
 * exception is pending. */
void emu_fp_fwait(struct emu_cpu *c)
{
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        emu_raise(c, EXC_NM);
    if (x87_mf_pending(&c->fx))
        emu_raise(c, EXC_MF);
}

/* Memory control forms: D9 /4..7 and DD /4, /6, /7. Non-waiting (FLDCW,
 * FLDENV and FRSTOR do not check for pending exceptions either: they may
 * only make one pending). */
static bool x87_ctl_mem(struct emu_cpu *c, const struct insn *i, unsigned esc)
{
    bool o16 = i->osz == 2;
    bool user = emu_user(c);
    uint8_t buf[108];
    uint64_t lin;
    unsigned n;

    switch (esc << 3 | i->nnn) {
    case 1 << 3 | 4: /* FLDENV m14/28 */
        n = x87_env_size(o16);
        emu_read_bytes(c, insn_lin(c, i, n), buf, n, user);
        x87_env_load(&c->fx, buf, o16);
        return true;
    case 1 << 3 | 5: /* FLDCW m2byte */
        c->fx.fcw = x87_fcw_norm((uint16_t)mem_read(c, i, 2));
        x87_fix_es(&c->fx);
        return true;
    case 1 << 3 | 6: /* FNSTENV m14/28: then masks every exception */
        n = x87_env_size(o16);
        lin = insn_lin(c, i, n);
        emu_probe_write(c, lin, n, user);
        x87_env_store(&c->fx, buf, o16);
        emu_write_bytes(c, lin, buf, n, user);
        c->fx.fcw |= FSW_EXC;
        x87_fix_es(&c->fx);
        return true;
    case 1 << 3 | 7: /* FNSTCW m2byte */
        mem_write(c, i, 2, c->fx.fcw);
        return true;
    case 5 << 3 | 4: /* FRSTOR m94/108 */
        n = x87_save_size(o16);
        emu_read_bytes(c, insn_lin(c, i, n), buf, n, user);
        x87_save_load(&c->fx, buf, o16);
        return true;
    case 5 << 3 | 6: /* FNSAVE m94/108: then FNINIT */
        n = x87_save_size(o16);
        lin = insn_lin(c, i, n);
        emu_probe_write(c, lin, n, user);
        x87_save_store(&c->fx, buf, o16);
        emu_write_bytes(c, lin, buf, n, user);
        x87_init(&c->fx);
        return true;
    case 5 << 3 | 7: /* FNSTSW m2byte */
        mem_write(c, i, 2, c->fx.fsw);
        return true;
    }
    return false;
}

/* Register control forms: DB E2 FNCLEX, DB E3 FNINIT, DF E0 FNSTSW AX. */
static bool x87_ctl_reg(struct emu_cpu *c, unsigned esc, unsigned modrm)
{
    if (esc == 3 && modrm == 0xe2) {
        x87_clex(&c->fx);
        return true;
    }
    if (esc == 3 && modrm == 0xe3) {
        x87_init(&c->fx);
        return true;
    }
    if (esc == 7 && modrm == 0xe0) {
        reg_set(c, GPR_RAX, 2, c->fx.fsw);
        return true;
    }
    return false;
}

void op_x87_esc(struct emu_cpu *c, const struct insn *i)
{
    unsigned esc = i->op - 0xd8u;
    unsigned modrm = i->modrm;
    bool mem = i->mod != 3;

    fp_check_x87(c, i);
    if (mem ? x87_ctl_mem(c, i, esc) : x87_ctl_reg(c, esc, modrm))
        return;
    if (!x87_host_form(esc, modrm))
        emu_raise(c, EXC_UD);
    if (x87_mf_pending(&c->fx))
        emu_raise(c, EXC_MF);

    uint8_t buf[16] __attribute__((aligned(16)));
    unsigned n = 0;
    uint64_t lin = 0;
    bool store = false;
    memset(buf, 0, sizeof(buf));
    if (mem) {
        n = x87_mem_size(esc, modrm);
        store = x87_mem_is_store(esc, modrm);
        lin = insn_lin(c, i, n);
        if (store)
            emu_probe_write(c, lin, n, emu_user(c));
        else
            emu_read_bytes(c, lin, buf, n, emu_user(c));
    }

    /* The host sees the operand through [rsi]: its ModRM is rebuilt by
     * the stub from the reg field alone. */
    emu_flags_sync(c);
    uint64_t fl = c->rflags;
    x87_host_exec(&c->fx, esc, modrm, buf, &fl);
    if (store && !x87_store_suppressed(&c->fx))
        emu_write_bytes(c, lin, buf, n, emu_user(c));
    c->rflags = fl;

    /* Last instruction pointers: every non-control instruction. */
    c->fx.fop = (uint16_t)((esc << 8) | modrm);
    c->fx.fip = c->rip;
    if (mem)
        c->fx.fdp = insn_ea(c, i);
}
