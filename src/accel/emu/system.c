/* System instructions: HLT, CLI/STI, IN/OUT, INT n/INT3/INTO/INT1, IRET,
 * SYSCALL/SYSRET, SWAPGS, MOV CR/DR, the descriptor-table group (0F 00,
 * 0F 01), CPUID, RDTSC(P), RDMSR/WRMSR, RDPMC, fences, CLFLUSH and the
 * cache no-ops. */
#include "accel/emu/fp_emu.h"
#include "accel/emu/insn.h"

void emu_write_flags(struct emu_cpu *c, uint64_t v, unsigned size, bool iret);
void alu_cmpxchg8b16b(struct emu_cpu *c, const struct insn *i);
void seg_verr_verw(struct emu_cpu *c, const struct insn *i);

static inline void need_cpl0(struct emu_cpu *c)
{
    if (c->cpl != 0)
        emu_raise_err(c, EXC_GP, 0);
}

static inline void need_prot(struct emu_cpu *c)
{
    if (c->mode == MODE_REAL)
        emu_raise(c, EXC_UD);
}

static inline unsigned iopl(const struct emu_cpu *c)
{
    return (c->rflags >> 12) & 3;
}

/* I/O permission: CPL <= IOPL, or the TSS I/O bitmap allows every port. */
void emu_port_check(struct emu_cpu *c, uint16_t port, unsigned size)
{
    if (c->mode == MODE_REAL || c->cpl <= iopl(c))
        return;
    if (c->tr.limit < 0x67 || c->tr.unusable)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t base = emu_read_sys(c, c->tr.base + 0x66, 2);
    uint64_t off = base + port / 8;
    if (off + 1 > c->tr.limit)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t bits = emu_read_sys(c, c->tr.base + off, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        emu_raise_err(c, EXC_GP, 0);
}

/* IN AL/eAX,Ib (E4, E5), OUT Ib,AL/eAX (E6, E7), IN/OUT with DX (EC..EF) */
OP(op_in_out)
{
    unsigned size = (i->op & 1) ? (i->osz == 2 ? 2 : 4) : 1;
    uint16_t port = (i->op & 8) ? (uint16_t)c->r[GPR_RDX] : (uint16_t)(i->imm & 0xff);
    emu_port_check(c, port, size);
    if (i->op & 2)
        c->host->pio_out(c, port, size, c->r[GPR_RAX] & mask_of(size));
    else
        reg_set(c, GPR_RAX, size, c->host->pio_in(c, port, size));
}

/* HLT (F4) */
OP(op_hlt)
{
    (void)i;
    need_cpl0(c);
    c->run_state = CPU_HALTED;
    c->exit = EMU_EXIT_HLT;
}

/* CLI (FA) */
OP(op_cli)
{
    (void)i;
    if (c->mode != MODE_REAL && c->cpl > iopl(c))
        emu_raise_err(c, EXC_GP, 0);
    c->rflags &= ~RFLAGS_IF;
}

/* STI (FB): interrupts stay blocked until after the next instruction */
OP(op_sti)
{
    (void)i;
    if (c->mode != MODE_REAL && c->cpl > iopl(c))
        emu_raise_err(c, EXC_GP, 0);
    if (!(c->rflags & RFLAGS_IF)) {
        c->rflags |= RFLAGS_IF;
        c->intr_shadow = true;
        c->exit = EMU_EXIT_KICK;
    }
}

/* FWAIT (9B): the x87 code's check (a pending unmasked exception is #MF). */
OP(op_fwait)
{
    (void)i;
    emu_fp_fwait(c);  /* #NM (CR0.MP and TS), then #MF if an x87 exception is pending */
}

/* INT3 (CC). Software interrupts push the address of the next
 * instruction; a fault during their delivery points at the INT itself. */
OP(op_int3)
{
    (void)i;
    c->insns++;
    emu_raise_soft(c, EXC_BP);
}

/* INT Ib (CD) */
OP(op_int_Ib)
{
    c->insns++;
    emu_raise_soft(c, (int)(i->imm & 0xff));
}

/* INTO (CE, not in 64-bit mode) */
OP(op_into)
{
    (void)i;
    if (emu_flags(c) & RFLAGS_OF) {
        c->insns++;
        emu_raise_soft(c, EXC_OF);
    }
}

/* INT1 / ICEBP (F1): #DB as a trap, without the gate DPL check */
OP(op_int1)
{
    (void)i;
    c->rip = c->next_rip;
    c->insns++;
    emu_raise(c, EXC_DB);
}

/* IRET/IRETD/IRETQ (CF) */
OP(op_iret)
{
    unsigned osz = i->osz;
    if (c->mode == MODE_REAL) {
        uint64_t ip = emu_peek(c, osz, 0);
        uint16_t cs = (uint16_t)emu_peek(c, osz, osz);
        uint64_t fl = emu_peek(c, osz, 2 * osz);
        emu_load_seg_real(c, SEG_CS, cs);
        c->next_rip = ip & mask_of(osz);
        emu_write_flags(c, fl, osz, true);
        reg_set(c, GPR_RSP, emu_stack_size(c), c->r[GPR_RSP] + 3 * osz);
        return;
    }
    if (!(c->msr.efer & EFER_LMA))
        emu_unimplemented(c, i);  /* protected-mode IRET */
    if (c->rflags & RFLAGS_NT)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t ip = emu_peek(c, osz, 0);
    uint16_t cs = (uint16_t)emu_peek(c, osz, osz);
    uint64_t fl = emu_peek(c, osz, 2 * osz);
    unsigned new_cpl = cs & 3, old_cpl = c->cpl;
    if (new_cpl < old_cpl)
        emu_raise_err(c, EXC_GP, cs & ~3u);
    bool pop_ss = c->mode == MODE_LONG64 || new_cpl != old_cpl;
    uint64_t sp = 0;
    uint16_t ss = 0;
    if (pop_ss) {
        sp = emu_peek(c, osz, 3 * osz);
        ss = (uint16_t)emu_peek(c, osz, 4 * osz);
    }
    /* Load CS and SS; undo both if anything faults. */
    struct cpu_segment saved_cs = c->seg[SEG_CS], saved_ss = c->seg[SEG_SS];
    uint8_t saved_mode = c->mode;
    jmp_buf jb, *outer = c->jb;
    c->jb = &jb;
    if (setjmp(jb)) {
        c->jb = outer;
        c->seg[SEG_CS] = saved_cs;
        c->seg[SEG_SS] = saved_ss;
        c->cpl = (uint8_t)old_cpl;
        c->mode = saved_mode;
        longjmp(*outer, 1);
    }
    emu_load_cs(c, cs, (int)new_cpl);
    if (pop_ss) {
        if ((ss & ~3u) == 0 && c->mode == MODE_LONG64 && new_cpl != 3 && (ss & 3) == new_cpl) {
            memset(&c->seg[SEG_SS], 0, sizeof(c->seg[SEG_SS]));
            c->seg[SEG_SS].selector = ss;
            c->seg[SEG_SS].unusable = 1;
            c->seg[SEG_SS].dpl = (uint8_t)new_cpl;
        } else {
            emu_load_seg(c, SEG_SS, ss);
        }
    }
    uint64_t target = ip & mask_of(c->mode == MODE_LONG64 ? 8 : osz);
    if (c->mode == MODE_LONG64 && !emu_canonical(target))
        emu_raise_err(c, EXC_GP, 0);
    c->jb = outer;

    /* Commit: flags with the privilege rules of the old CPL */
    bool was_if = c->rflags & RFLAGS_IF;
    c->cpl = (uint8_t)old_cpl;
    emu_write_flags(c, fl, osz, true);
    c->cpl = (uint8_t)new_cpl;
    c->next_rip = target;
    if (pop_ss)
        reg_set(c, GPR_RSP, c->mode == MODE_LONG64 ? 8 : (c->seg[SEG_SS].db ? 4 : 2), sp);
    else
        reg_set(c, GPR_RSP, emu_stack_size(c), c->r[GPR_RSP] + 3 * osz);
    if (new_cpl > old_cpl) {
        static const int data_segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
        for (unsigned k = 0; k < 4; k++) {
            struct cpu_segment *s = &c->seg[data_segs[k]];
            bool conforming_code = (s->type & 0xc) == 0xc;
            if (!s->unusable && !conforming_code && s->dpl < new_cpl) {
                s->selector = 0;
                s->unusable = 1;
            }
        }
    }
    c->nmi_masked = false;
    if (!was_if && (c->rflags & RFLAGS_IF))
        c->exit = EMU_EXIT_KICK;
}

static void flat_seg(struct cpu_segment *s, uint16_t sel, unsigned type, unsigned dpl, bool code64)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->type = (uint8_t)type;
    s->s = 1;
    s->dpl = (uint8_t)dpl;
    s->present = 1;
    s->avl = 0;
    s->l = code64;
    s->db = !code64;
    s->g = 1;
    s->unusable = 0;
}

/* SYSCALL (0F 05) */
OP(op_syscall)
{
    (void)i;
    if (!(c->msr.efer & EFER_SCE) || !(c->msr.efer & EFER_LMA))
        emu_raise(c, EXC_UD);
    uint16_t sel = (uint16_t)(c->msr.star >> 32) & 0xfffc;
    c->r[GPR_RCX] = c->next_rip;
    emu_flags_sync(c);
    c->r[GPR_R11] = (c->rflags & ~RFLAGS_RF) | RFLAGS_FIXED;
    bool from64 = c->mode == MODE_LONG64;
    flat_seg(&c->seg[SEG_CS], sel, 0xb, 0, true);
    flat_seg(&c->seg[SEG_SS], (uint16_t)(sel + 8), 0x3, 0, false);
    c->cpl = 0;
    c->rflags = (c->rflags & ~c->msr.sfmask & ~RFLAGS_RF) | RFLAGS_FIXED;
    emu_update_mode(c);
    c->next_rip = from64 ? c->msr.lstar : c->msr.cstar;
}

/* SYSRET (0F 07): REX.W returns to 64-bit mode, else to compatibility mode */
OP(op_sysret)
{
    if (!(c->msr.efer & EFER_SCE) || !(c->msr.efer & EFER_LMA) || c->mode != MODE_LONG64)
        emu_raise(c, EXC_UD);
    need_cpl0(c);
    uint16_t base = (uint16_t)(c->msr.star >> 48);
    bool to64 = i->osz == 8;
    if (to64 && !emu_canonical(c->r[GPR_RCX]))
        emu_raise_err(c, EXC_GP, 0);
    if (to64)
        flat_seg(&c->seg[SEG_CS], (uint16_t)((base + 16) | 3), 0xb, 3, true);
    else
        flat_seg(&c->seg[SEG_CS], (uint16_t)(base | 3), 0xb, 3, false);
    /* SS gets a fixed flat descriptor; its selector is STAR[63:48]+8 */
    flat_seg(&c->seg[SEG_SS], (uint16_t)((base + 8) | 3), 0x3, 3, false);
    c->cpl = 3;
    bool was_if = c->rflags & RFLAGS_IF;
    emu_flags_sync(c);
    c->rflags = (c->r[GPR_R11] & 0x3c7fd7ull) | RFLAGS_FIXED;
    emu_update_mode(c);
    c->next_rip = to64 ? c->r[GPR_RCX] : (uint32_t)c->r[GPR_RCX];
    if (!was_if && (c->rflags & RFLAGS_IF))
        c->exit = EMU_EXIT_KICK;
}

/* CLTS (0F 06) */
OP(op_clts)
{
    (void)i;
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
}

/* INVD (0F 08), WBINVD (0F 09): caches are not modelled */
OP(op_invd_wbinvd)
{
    (void)i;
    need_cpl0(c);
}

/* The CR4 bits this CPU supports (those its CPUID advertises). */
#define CR4_SUPPORTED (CR4_DE | CR4_TSD | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | \
                       CR4_OSFXSR | CR4_OSXMMEXCPT)

static void write_cr0(struct emu_cpu *c, uint64_t v)
{
    v |= CR0_ET;
    if (v >> 32)
        emu_raise_err(c, EXC_GP, 0);
    if ((v & CR0_PG) && !(v & CR0_PE))
        emu_raise_err(c, EXC_GP, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        emu_raise_err(c, EXC_GP, 0);
    bool paging_on = (v & CR0_PG) && !(c->cr0 & CR0_PG);
    if (paging_on && (c->msr.efer & EFER_LME)) {
        if (!(c->cr4 & CR4_PAE) || c->seg[SEG_CS].l)
            emu_raise_err(c, EXC_GP, 0);
    }
    if (!(v & CR0_PG) && (c->cr0 & CR0_PG) && c->mode == MODE_LONG64)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t changed = c->cr0 ^ v;
    c->cr0 = v;
    if (v & CR0_PG) {
        if (c->msr.efer & EFER_LME)
            c->msr.efer |= EFER_LMA;
    } else {
        c->msr.efer &= ~EFER_LMA;
    }
    if (changed & (CR0_PG | CR0_WP | CR0_PE))
        emu_tlb_flush(c, false);
    emu_update_mode(c);
}

static void write_cr4(struct emu_cpu *c, uint64_t v)
{
    if (v & ~(uint64_t)CR4_SUPPORTED)
        emu_raise_err(c, EXC_GP, 0);
    if ((c->msr.efer & EFER_LMA) && !(v & CR4_PAE))
        emu_raise_err(c, EXC_GP, 0);
    uint64_t changed = c->cr4 ^ v;
    c->cr4 = v;
    if (changed & (CR4_PGE | CR4_PAE | CR4_PSE))
        emu_tlb_flush(c, false);
}

/* MOV Rd,Cd (0F 20), MOV Cd,Rd (0F 22) */
OP(op_mov_cr)
{
    unsigned n = i->reg;
    bool to_cr = i->op == 0x22;
    if (n == 8 && c->mode != MODE_LONG64)
        emu_raise(c, EXC_UD);  /* CR8 exists in 64-bit mode only */
    need_cpl0(c);  /* also valid in real mode (CPL 0), as trampolines use it */
    if (!to_cr) {
        uint64_t v;
        switch (n) {
        case 0: v = c->cr0; break;
        case 2: v = c->cr2; break;
        case 3: v = c->cr3; break;
        case 4: v = c->cr4; break;
        case 8: v = c->host->cr8_read ? c->host->cr8_read(c) : c->cr8; break;
        default: emu_raise(c, EXC_UD);
        }
        reg_set(c, i->rm, i->osz, v);
        return;
    }
    uint64_t v = c->r[i->rm] & mask_of(i->osz);
    switch (n) {
    case 0: write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3:
        if (v & ~(((1ull << EMU_PHYS_BITS) - 1)))
            emu_raise_err(c, EXC_GP, 0);
        c->cr3 = v;
        emu_tlb_flush(c, true);
        break;
    case 4: write_cr4(c, v); break;
    case 8:
        if (v > 15)
            emu_raise_err(c, EXC_GP, 0);
        c->cr8 = v;
        if (c->host->cr8_write)
            c->host->cr8_write(c, v);
        c->exit = EMU_EXIT_KICK;  /* a lower TPR may unblock an interrupt */
        break;
    default: emu_raise(c, EXC_UD);
    }
}

/* MOV Rd,Dd (0F 21), MOV Dd,Rd (0F 23). Debug registers are stored, but
 * hardware breakpoints are not implemented. */
OP(op_mov_dr)
{
    unsigned n = i->reg;
    need_cpl0(c);
    if (n > 7)
        emu_raise(c, EXC_UD);
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            emu_raise(c, EXC_UD);
        n += 2;
    }
    if (i->op == 0x21) {
        uint64_t v = n < 4 ? c->dr[n] : n == 6 ? c->dr6 : c->dr7;
        reg_set(c, i->rm, i->osz, v);
        return;
    }
    uint64_t v = c->r[i->rm] & mask_of(i->osz);
    if (n >= 6 && (v >> 32))
        emu_raise_err(c, EXC_GP, 0);
    if (n < 4)
        c->dr[n] = v;
    else if (n == 6)
        c->dr6 = (v & 0x0000e00f) | 0xffff0ff0;
    else
        c->dr7 = (v & 0xffff2bff) | 0x400;
}

/* WRMSR (0F 30) */
OP(op_wrmsr)
{
    (void)i;
    need_cpl0(c);
    uint64_t v = (c->r[GPR_RDX] << 32) | (c->r[GPR_RAX] & 0xffffffff);
    if (!emu_wrmsr(c, (uint32_t)c->r[GPR_RCX], v))
        emu_raise_err(c, EXC_GP, 0);
}

/* RDMSR (0F 32) */
OP(op_rdmsr)
{
    (void)i;
    need_cpl0(c);
    uint64_t v;
    if (!emu_rdmsr(c, (uint32_t)c->r[GPR_RCX], &v))
        emu_raise_err(c, EXC_GP, 0);
    c->r[GPR_RAX] = v & 0xffffffff;
    c->r[GPR_RDX] = v >> 32;
}

/* RDTSC (0F 31) */
OP(op_rdtsc)
{
    (void)i;
    if ((c->cr4 & CR4_TSD) && c->cpl != 0)
        emu_raise_err(c, EXC_GP, 0);
    uint64_t t = emu_rdtsc(c);
    c->r[GPR_RAX] = t & 0xffffffff;
    c->r[GPR_RDX] = t >> 32;
}

/* RDPMC (0F 33): no performance counters exist */
OP(op_rdpmc)
{
    (void)i;
    emu_raise_err(c, EXC_GP, 0);
}

/* CPUID (0F A2) */
OP(op_cpuid)
{
    (void)i;
    uint32_t out[4];
    emu_cpuid(c, (uint32_t)c->r[GPR_RAX], (uint32_t)c->r[GPR_RCX], out);
    c->r[GPR_RAX] = out[0];
    c->r[GPR_RBX] = out[1];
    c->r[GPR_RCX] = out[2];
    c->r[GPR_RDX] = out[3];
}

/* LTR: loads TR from an available TSS descriptor (16 bytes in long mode)
 * and marks it busy */
static void load_tr(struct emu_cpu *c, uint16_t sel)
{
    if ((sel & ~3u) == 0 || (sel & 4))
        emu_raise_err(c, EXC_GP, sel & ~3u);
    uint64_t d = emu_read_desc(c, sel, EXC_GP);
    struct cpu_segment s;
    emu_desc_to_seg(d, sel, &s);
    if (s.s || (s.type != 9 && s.type != 1))
        emu_raise_err(c, EXC_GP, sel & ~3u);
    if (c->msr.efer & EFER_LMA) {
        if (s.type != 9)
            emu_raise_err(c, EXC_GP, sel & ~3u);
        uint64_t hi = emu_read_sys(c, c->gdt.base + (sel & ~7u) + 8, 8);
        s.base |= (hi & 0xffffffff) << 32;
    }
    if (!s.present)
        emu_raise_err(c, EXC_NP, sel & ~3u);
    emu_write_sys(c, c->gdt.base + (sel & ~7u) + 5, 1, ((d >> 40) & 0xff) | 2);
    s.type |= 2;
    c->tr = s;
}

static void load_ldtr(struct emu_cpu *c, uint16_t sel)
{
    if ((sel & ~3u) == 0) {
        memset(&c->ldtr, 0, sizeof(c->ldtr));
        c->ldtr.selector = sel;
        c->ldtr.unusable = 1;
        return;
    }
    if (sel & 4)
        emu_raise_err(c, EXC_GP, sel & ~3u);
    uint64_t d = emu_read_desc(c, sel, EXC_GP);
    struct cpu_segment s;
    emu_desc_to_seg(d, sel, &s);
    if (s.s || s.type != 2)
        emu_raise_err(c, EXC_GP, sel & ~3u);
    if (c->msr.efer & EFER_LMA) {
        uint64_t hi = emu_read_sys(c, c->gdt.base + (sel & ~7u) + 8, 8);
        s.base |= (hi & 0xffffffff) << 32;
    }
    if (!s.present)
        emu_raise_err(c, EXC_NP, sel & ~3u);
    c->ldtr = s;
}

/* Group 6 (0F 00): /0 SLDT, /1 STR, /2 LLDT, /3 LTR, /4 VERR, /5 VERW */
OP(op_grp6)
{
    need_prot(c);
    switch (i->nnn) {
    case 0: case 1: {
        uint16_t sel = i->nnn ? c->tr.selector : c->ldtr.selector;
        if (i->mod == 3)
            reg_set(c, i->rm, i->osz, sel);
        else
            mem_write(c, i, 2, sel);
        break;
    }
    case 2:
        need_cpl0(c);
        load_ldtr(c, (uint16_t)rd_E(c, i, 2));
        break;
    case 3:
        need_cpl0(c);
        load_tr(c, (uint16_t)rd_E(c, i, 2));
        break;
    case 4: case 5:
        seg_verr_verw(c, i);
        break;
    default:
        emu_raise(c, EXC_UD);
    }
}

static void store_dtable(struct emu_cpu *c, const struct insn *i, const struct cpu_dtable *t)
{
    uint64_t ea = insn_ea(c, i);
    unsigned bsz = c->mode == MODE_LONG64 ? 8 : 4;
    uint64_t lin = emu_linear(c, i->ea_seg, ea, 2 + bsz);
    emu_probe_write(c, lin, 2 + bsz, emu_user(c));
    seg_write(c, i->ea_seg, ea, 2, t->limit);
    seg_write(c, i->ea_seg, (ea + 2) & mask_of(i->asz), bsz, t->base);
}

static void load_dtable(struct emu_cpu *c, const struct insn *i, struct cpu_dtable *t)
{
    need_cpl0(c);
    uint64_t ea = insn_ea(c, i);
    unsigned bsz = c->mode == MODE_LONG64 ? 8 : 4;
    uint16_t limit = (uint16_t)seg_read(c, i->ea_seg, ea, 2);
    uint64_t base = seg_read(c, i->ea_seg, (ea + 2) & mask_of(i->asz), bsz);
    if (bsz == 4 && i->osz == 2)
        base &= 0xffffff;
    if (c->mode == MODE_LONG64 && !emu_canonical(base))
        emu_raise_err(c, EXC_GP, 0);
    t->limit = limit;
    t->base = base;
}

/* Group 7 (0F 01) */
OP(op_grp7)
{
    if (i->mod != 3) {
        switch (i->nnn) {
        case 0: store_dtable(c, i, &c->gdt); return;   /* SGDT */
        case 1: store_dtable(c, i, &c->idt); return;   /* SIDT */
        case 2: load_dtable(c, i, &c->gdt); return;    /* LGDT */
        case 3: load_dtable(c, i, &c->idt); return;    /* LIDT */
        case 4: mem_write(c, i, 2, c->cr0); return;    /* SMSW Mw */
        case 6: {                                      /* LMSW Ew */
            need_cpl0(c);
            uint64_t v = rd_E(c, i, 2);
            write_cr0(c, (c->cr0 & ~0xeull) | (v & 0xf) | (c->cr0 & CR0_PE));
            return;
        }
        case 7:                                        /* INVLPG */
            need_cpl0(c);
            emu_tlb_flush_page(c, insn_lin(c, i, 1));
            return;
        default: emu_raise(c, EXC_UD);
        }
    }
    switch (i->modrm) {
    case 0xf8: /* SWAPGS */
        if (c->mode != MODE_LONG64)
            emu_raise(c, EXC_UD);
        need_cpl0(c);
        {
            uint64_t t = c->seg[SEG_GS].base;
            c->seg[SEG_GS].base = c->msr.kernel_gs_base;
            c->msr.kernel_gs_base = t;
        }
        return;
    case 0xf9: { /* RDTSCP */
        if ((c->cr4 & CR4_TSD) && c->cpl != 0)
            emu_raise_err(c, EXC_GP, 0);
        uint64_t t = emu_rdtsc(c);
        c->r[GPR_RAX] = t & 0xffffffff;
        c->r[GPR_RDX] = t >> 32;
        c->r[GPR_RCX] = c->msr.tsc_aux & 0xffffffff;
        return;
    }
    default:
        break;
    }
    switch (i->nnn) {
    case 4: /* SMSW Rv */
        reg_set(c, i->rm, i->osz, c->cr0);
        return;
    case 6: { /* LMSW Rw */
        need_cpl0(c);
        uint64_t v = c->r[i->rm];
        write_cr0(c, (c->cr0 & ~0xeull) | (v & 0xf) | (c->cr0 & CR0_PE));
        return;
    }
    default:
        /* VMX, SVM, MONITOR/MWAIT, CLAC/STAC, XGETBV/XSETBV, RDPKRU, ...:
         * none is advertised */
        emu_raise(c, EXC_UD);
    }
}

/* Group 15 (0F AE): fences and CLFLUSH here; FXSAVE/FXRSTOR/LDMXCSR/
 * STMXCSR (/0../3 with memory) go to the SSE plug-in entry for 0F AE. */
OP(op_grp15)
{
    if (i->mod == 3) {
        if (i->pfx != PFX_NONE || i->nnn < 5)
            emu_raise(c, EXC_UD);  /* RDFSBASE & co: FSGSBASE not advertised */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);  /* LFENCE, MFENCE, SFENCE */
        return;
    }
    if (i->pfx == PFX_NONE && i->nnn < 4) {
        emu_op_fn f = emu_sse_0f[0xae][PFX_NONE];
        if (!f)
            emu_unimplemented(c, i);
        f(c, i);
        return;
    }
    if (i->pfx == PFX_NONE && i->nnn == 7) {  /* CLFLUSH: translates like a read */
        uint64_t gpa;
        emu_translate(c, insn_lin(c, i, 1), ACC_R, emu_user(c), &gpa);
        return;
    }
    emu_raise(c, EXC_UD);  /* XSAVE family, CLFLUSHOPT, CLWB: not advertised */
}

/* Group 9 (0F C7): /1 CMPXCHG8B/16B; RDRAND/RDSEED/RDPID are not advertised */
OP(op_grp9)
{
    if (i->nnn == 1 && i->mod != 3) {
        alu_cmpxchg8b16b(c, i);
        return;
    }
    emu_raise(c, EXC_UD);
}

/* MOVNTI My,Gy (0F C3): a plain store here */
OP(op_movnti_My_Gy)
{
    if (i->mod == 3 || i->pfx != PFX_NONE)
        emu_raise(c, EXC_UD);
    unsigned size = i->osz == 8 ? 8 : 4;
    mem_write(c, i, size, rd_G(c, i, size));
}

/* SYSENTER (0F 34): flat CPL 0 segments from IA32_SYSENTER_CS */
OP(op_sysenter)
{
    (void)i;
    uint16_t cs = (uint16_t)c->msr.sysenter_cs & 0xfffc;
    if (c->mode == MODE_REAL || cs == 0)
        emu_raise_err(c, EXC_GP, 0);
    bool lm = c->msr.efer & EFER_LMA;
    flat_seg(&c->seg[SEG_CS], cs, 0xb, 0, lm);
    flat_seg(&c->seg[SEG_SS], (uint16_t)(cs + 8), 0x3, 0, false);
    c->cpl = 0;
    c->rflags &= ~(RFLAGS_VM | RFLAGS_IF | RFLAGS_RF);
    emu_update_mode(c);
    c->r[GPR_RSP] = lm ? c->msr.sysenter_esp : (uint32_t)c->msr.sysenter_esp;
    c->next_rip = lm ? c->msr.sysenter_eip : (uint32_t)c->msr.sysenter_eip;
}

/* SYSEXIT (0F 35): to CPL 3; REX.W returns to 64-bit mode */
OP(op_sysexit)
{
    uint16_t cs = (uint16_t)c->msr.sysenter_cs & 0xfffc;
    if (c->mode == MODE_REAL || cs == 0 || c->cpl != 0)
        emu_raise_err(c, EXC_GP, 0);
    bool to64 = i->osz == 8;
    if (to64 && (!emu_canonical(c->r[GPR_RDX]) || !emu_canonical(c->r[GPR_RCX])))
        emu_raise_err(c, EXC_GP, 0);
    flat_seg(&c->seg[SEG_CS], (uint16_t)((cs + (to64 ? 32 : 16)) | 3), 0xb, 3, to64);
    flat_seg(&c->seg[SEG_SS], (uint16_t)((cs + (to64 ? 40 : 24)) | 3), 0x3, 3, false);
    c->cpl = 3;
    emu_update_mode(c);
    c->r[GPR_RSP] = to64 ? c->r[GPR_RCX] : (uint32_t)c->r[GPR_RCX];
    c->next_rip = to64 ? c->r[GPR_RDX] : (uint32_t)c->r[GPR_RDX];
}
