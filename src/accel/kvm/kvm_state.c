/* struct cpu_state <-> KVM's vCPU state structs, as pure functions.
 *
 * KVM splits a vCPU's state over several ioctls (REGS, SREGS, FPU,
 * DEBUGREGS, VCPU_EVENTS, MP_STATE, LAPIC, MSRS); brume keeps it in one
 * engine-neutral struct. These conversions are the only place that knows
 * both layouts, so snapshots taken on kvm can resume on emu and back. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "accel/kvm/kvm.h"
#include "util/log.h"

/* ---- general registers: kvm_regs is not in encoding order ---- */

static const size_t regs_offset[GPR_COUNT] = {
    [GPR_RAX] = offsetof(struct kvm_regs, rax), [GPR_RCX] = offsetof(struct kvm_regs, rcx),
    [GPR_RDX] = offsetof(struct kvm_regs, rdx), [GPR_RBX] = offsetof(struct kvm_regs, rbx),
    [GPR_RSP] = offsetof(struct kvm_regs, rsp), [GPR_RBP] = offsetof(struct kvm_regs, rbp),
    [GPR_RSI] = offsetof(struct kvm_regs, rsi), [GPR_RDI] = offsetof(struct kvm_regs, rdi),
    [GPR_R8] = offsetof(struct kvm_regs, r8),   [GPR_R9] = offsetof(struct kvm_regs, r9),
    [GPR_R10] = offsetof(struct kvm_regs, r10), [GPR_R11] = offsetof(struct kvm_regs, r11),
    [GPR_R12] = offsetof(struct kvm_regs, r12), [GPR_R13] = offsetof(struct kvm_regs, r13),
    [GPR_R14] = offsetof(struct kvm_regs, r14), [GPR_R15] = offsetof(struct kvm_regs, r15),
};

static uint64_t *regs_slot(struct kvm_regs *r, int i)
{
    return (uint64_t *)((char *)r + regs_offset[i]);
}

/* ---- segments ---- */

static struct kvm_segment *sregs_seg(struct kvm_sregs *s, int seg)
{
    switch (seg) {
    case SEG_ES: return &s->es;
    case SEG_CS: return &s->cs;
    case SEG_SS: return &s->ss;
    case SEG_DS: return &s->ds;
    case SEG_FS: return &s->fs;
    default:     return &s->gs;
    }
}

static void seg_to_kvm(const struct cpu_segment *c, struct kvm_segment *k)
{
    *k = (struct kvm_segment){
        .base = c->base, .limit = c->limit, .selector = c->selector,
        .type = c->type, .present = c->present, .dpl = c->dpl, .db = c->db,
        .s = c->s, .l = c->l, .g = c->g, .avl = c->avl, .unusable = c->unusable,
    };
}

static void seg_from_kvm(const struct kvm_segment *k, struct cpu_segment *c)
{
    /* field by field on a zeroed struct: the padding stays zero, so states
     * compare (and snapshot) byte for byte */
    memset(c, 0, sizeof *c);
    c->base = k->base;
    c->limit = k->limit;
    c->selector = k->selector;
    c->type = k->type & 0xf;
    c->s = k->s;
    c->dpl = k->dpl & 3;
    c->present = k->present;
    c->avl = k->avl;
    c->l = k->l;
    c->db = k->db;
    c->g = k->g;
    c->unusable = k->unusable;
}

/* ---- MSRs ---- */

static const struct {
    uint32_t index;
    size_t offset;          /* in struct cpu_msrs */
    bool optional;          /* only where KVM_GET_MSR_INDEX_LIST has it */
} msr_table[] = {
    {MSR_STAR, offsetof(struct cpu_msrs, star), false},
    {MSR_LSTAR, offsetof(struct cpu_msrs, lstar), false},
    {MSR_CSTAR, offsetof(struct cpu_msrs, cstar), false},
    {MSR_SFMASK, offsetof(struct cpu_msrs, sfmask), false},
    {MSR_KERNEL_GS_BASE, offsetof(struct cpu_msrs, kernel_gs_base), false},
    {MSR_IA32_SYSENTER_CS, offsetof(struct cpu_msrs, sysenter_cs), false},
    {MSR_IA32_SYSENTER_ESP, offsetof(struct cpu_msrs, sysenter_esp), false},
    {MSR_IA32_SYSENTER_EIP, offsetof(struct cpu_msrs, sysenter_eip), false},
    {MSR_IA32_PAT, offsetof(struct cpu_msrs, pat), false},
    {MSR_IA32_MISC_ENABLE, offsetof(struct cpu_msrs, misc_enable), false},
    {MSR_MTRR_DEF_TYPE, offsetof(struct cpu_msrs, mtrr_def_type), false},
    {0x250, offsetof(struct cpu_msrs, mtrr_fixed[0]), false},   /* 64K_00000 */
    {0x258, offsetof(struct cpu_msrs, mtrr_fixed[1]), false},   /* 16K_80000 */
    {0x259, offsetof(struct cpu_msrs, mtrr_fixed[2]), false},   /* 16K_A0000 */
    {0x268, offsetof(struct cpu_msrs, mtrr_fixed[3]), false},   /* 4K_C0000 */
    {0x269, offsetof(struct cpu_msrs, mtrr_fixed[4]), false},
    {0x26a, offsetof(struct cpu_msrs, mtrr_fixed[5]), false},
    {0x26b, offsetof(struct cpu_msrs, mtrr_fixed[6]), false},
    {0x26c, offsetof(struct cpu_msrs, mtrr_fixed[7]), false},
    {0x26d, offsetof(struct cpu_msrs, mtrr_fixed[8]), false},
    {0x26e, offsetof(struct cpu_msrs, mtrr_fixed[9]), false},
    {0x26f, offsetof(struct cpu_msrs, mtrr_fixed[10]), false},  /* 4K_F8000 */
#define MTRR_VAR(i) \
    {0x200 + 2 * (i), offsetof(struct cpu_msrs, mtrr_var_base[i]), false}, \
    {0x201 + 2 * (i), offsetof(struct cpu_msrs, mtrr_var_mask[i]), false}
    MTRR_VAR(0), MTRR_VAR(1), MTRR_VAR(2), MTRR_VAR(3),
    MTRR_VAR(4), MTRR_VAR(5), MTRR_VAR(6), MTRR_VAR(7),
#undef MTRR_VAR
    {MSR_TSC_AUX, offsetof(struct cpu_msrs, tsc_aux), true},
    {MSR_IA32_SPEC_CTRL, offsetof(struct cpu_msrs, spec_ctrl), true},
    /* last: writing the TSC is the one write KVM treats as a resync */
    {MSR_IA32_TSC, offsetof(struct cpu_msrs, tsc), false},
};

#define NMSR_TABLE ((int)(sizeof msr_table / sizeof msr_table[0]))

const uint32_t kvm_state_msrs[] = {
    MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
    MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
    MSR_IA32_PAT, MSR_IA32_MISC_ENABLE, MSR_MTRR_DEF_TYPE,
    0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
    0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
    0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
    MSR_TSC_AUX, MSR_IA32_SPEC_CTRL, MSR_IA32_TSC,
};
const int kvm_nstate_msrs = sizeof kvm_state_msrs / sizeof kvm_state_msrs[0];
_Static_assert(sizeof kvm_state_msrs / sizeof kvm_state_msrs[0] == NMSR_TABLE,
               "kvm_state_msrs lists every MSR of msr_table");

static int msr_find(uint32_t index)
{
    for (int i = 0; i < NMSR_TABLE; i++)
        if (msr_table[i].index == index)
            return i;
    return -1;
}

bool kvm_msr_is_optional(uint32_t index)
{
    int i = msr_find(index);
    return i >= 0 && msr_table[i].optional;
}

static uint64_t *msr_slot(struct cpu_msrs *m, int i)
{
    return (uint64_t *)((char *)m + msr_table[i].offset);
}

/* ---- events and run state ---- */

static int events_to_kvm(const struct cpu_state *s, struct kvm_vcpu_events *e)
{
    memset(e, 0, sizeof *e);
    if (s->event.valid) {
        if (s->event.is_exception) {
            /* KVM refuses vectors above 31 and NMI (2) as exceptions */
            if (s->event.vector > 31 || s->event.vector == 2)
                return err_set(-EINVAL, "cpu state: pending exception vector %u is not an exception",
                               s->event.vector);
            e->exception.injected = 1;
            e->exception.nr = s->event.vector;
            e->exception.has_error_code = s->event.has_error_code;
            e->exception.error_code = s->event.has_error_code ? s->event.error_code : 0;
        } else {
            if (s->event.vector < 32)
                return err_set(-EINVAL, "cpu state: pending interrupt vector %u is reserved for exceptions",
                               s->event.vector);
            e->interrupt.injected = 1;
            e->interrupt.nr = s->event.vector;
        }
    }
    /* VMX refuses "blocking by STI" while RFLAGS.IF=0, so a shadow with IF
     * clear can only have come from MOV SS */
    if (s->interrupt_shadow)
        e->interrupt.shadow = (s->rflags & RFLAGS_IF) ? KVM_X86_SHADOW_INT_STI
                                                      : KVM_X86_SHADOW_INT_MOV_SS;
    e->nmi.pending = s->nmi_pending;
    e->nmi.masked = s->nmi_masked;
    e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
    return 0;
}

static void events_from_kvm(const struct kvm_vcpu_events *e, struct cpu_state *s)
{
    memset(&s->event, 0, sizeof s->event);
    if (e->exception.injected || e->exception.pending) {
        s->event.valid = true;
        s->event.is_exception = true;
        s->event.vector = e->exception.nr;
        s->event.has_error_code = e->exception.has_error_code;
        s->event.error_code = e->exception.has_error_code ? e->exception.error_code : 0;
    } else if (e->interrupt.injected) {
        s->event.valid = true;
        s->event.vector = e->interrupt.nr;
    }
    s->interrupt_shadow = e->interrupt.shadow != 0;
    /* an NMI caught half-delivered is delivered again: still pending */
    s->nmi_pending = e->nmi.pending || e->nmi.injected;
    s->nmi_masked = e->nmi.masked;
}

static int mp_to_kvm(enum cpu_run_state rs, struct kvm_mp_state *mp)
{
    switch (rs) {
    case CPU_RUNNABLE:      mp->mp_state = KVM_MP_STATE_RUNNABLE; return 0;
    case CPU_HALTED:        mp->mp_state = KVM_MP_STATE_HALTED; return 0;
    /* INIT_RECEIVED, not UNINITIALIZED: only it takes a SIPI directly */
    case CPU_WAIT_FOR_SIPI: mp->mp_state = KVM_MP_STATE_INIT_RECEIVED; return 0;
    }
    return err_set(-EINVAL, "cpu state: unknown run state %d", (int)rs);
}

static int mp_from_kvm(const struct kvm_mp_state *mp, enum cpu_run_state *rs)
{
    switch (mp->mp_state) {
    case KVM_MP_STATE_RUNNABLE:      *rs = CPU_RUNNABLE; return 0;
    case KVM_MP_STATE_HALTED:        *rs = CPU_HALTED; return 0;
    case KVM_MP_STATE_UNINITIALIZED:
    case KVM_MP_STATE_INIT_RECEIVED: *rs = CPU_WAIT_FOR_SIPI; return 0;
    }
    return err_set(-EINVAL, "kvm: vCPU in MP state %u, which brume does not model", mp->mp_state);
}

/* ---- the whole state ---- */

int kvm_state_to_kvm(const struct cpu_state *s, const uint32_t *msr_list, int n,
                     struct kvm_cpu_regs *k)
{
    memset(k, 0, sizeof *k);

    /* brume never advertises XSAVE, so XCR0 can only hold x87 (or be
     * unset in a state built from scratch) */
    if (s->xcr0 & ~1ull)
        return err_set(-EINVAL, "cpu state: xcr0 0x%llx needs XSAVE, which the kvm engine does not offer",
                       (unsigned long long)s->xcr0);

    for (int i = 0; i < GPR_COUNT; i++)
        *regs_slot(&k->regs, i) = s->regs[i];
    k->regs.rip = s->rip;
    k->regs.rflags = s->rflags;

    for (int i = 0; i < SEG_COUNT; i++)
        seg_to_kvm(&s->seg[i], sregs_seg(&k->sregs, i));
    seg_to_kvm(&s->tr, &k->sregs.tr);
    seg_to_kvm(&s->ldtr, &k->sregs.ldt);
    k->sregs.gdt.base = s->gdt.base;
    k->sregs.gdt.limit = s->gdt.limit;
    k->sregs.idt.base = s->idt.base;
    k->sregs.idt.limit = s->idt.limit;
    k->sregs.cr0 = s->cr0;
    k->sregs.cr2 = s->cr2;
    k->sregs.cr3 = s->cr3;
    k->sregs.cr4 = s->cr4;
    k->sregs.cr8 = s->cr8;
    k->sregs.efer = s->msr.efer;
    k->sregs.apic_base = s->msr.apic_base;
    /* interrupt_bitmap stays empty: the injected interrupt travels in
     * vcpu_events, and naming it twice would be ambiguous */

    const struct cpu_fxsave *fx = &s->fx;
    memcpy(k->fpu.fpr, fx->st, sizeof k->fpu.fpr);
    k->fpu.fcw = fx->fcw;
    k->fpu.fsw = fx->fsw;
    k->fpu.ftwx = fx->ftw;
    k->fpu.last_opcode = fx->fop;
    k->fpu.last_ip = fx->fip;
    k->fpu.last_dp = fx->fdp;
    memcpy(k->fpu.xmm, fx->xmm, sizeof k->fpu.xmm);
    k->fpu.mxcsr = fx->mxcsr;

    memcpy(k->dregs.db, s->dr, sizeof k->dregs.db);
    k->dregs.dr6 = s->dr6;
    k->dregs.dr7 = s->dr7;

    int rc = events_to_kvm(s, &k->events);
    if (rc < 0)
        return rc;
    rc = mp_to_kvm(s->run_state, &k->mp);
    if (rc < 0)
        return rc;

    memcpy(k->lapic.regs, s->lapic, sizeof k->lapic.regs);

    if (n > (int)(sizeof k->msrs / sizeof k->msrs[0]))
        return err_set(-EINVAL, "kvm: %d MSRs is more than the state holds", n);
    for (int i = 0; i < n; i++) {
        int t = msr_find(msr_list[i]);
        if (t < 0)
            return err_set(-EINVAL, "kvm: MSR 0x%x is not part of the cpu state", msr_list[i]);
        k->msrs[i].index = msr_list[i];
        k->msrs[i].data = *msr_slot((struct cpu_msrs *)&s->msr, t);
    }
    k->nmsrs = n;
    return 0;
}

int kvm_state_from_kvm(const struct kvm_cpu_regs *k, uint32_t mxcsr_mask, struct cpu_state *s)
{
    memset(s, 0, sizeof *s);

    for (int i = 0; i < GPR_COUNT; i++)
        s->regs[i] = *regs_slot((struct kvm_regs *)&k->regs, i);
    s->rip = k->regs.rip;
    s->rflags = k->regs.rflags;

    for (int i = 0; i < SEG_COUNT; i++)
        seg_from_kvm(sregs_seg((struct kvm_sregs *)&k->sregs, i), &s->seg[i]);
    seg_from_kvm(&k->sregs.tr, &s->tr);
    seg_from_kvm(&k->sregs.ldt, &s->ldtr);
    s->gdt.base = k->sregs.gdt.base;
    s->gdt.limit = k->sregs.gdt.limit;
    s->idt.base = k->sregs.idt.base;
    s->idt.limit = k->sregs.idt.limit;
    s->cr0 = k->sregs.cr0;
    s->cr2 = k->sregs.cr2;
    s->cr3 = k->sregs.cr3;
    s->cr4 = k->sregs.cr4;
    s->cr8 = k->sregs.cr8;
    s->msr.efer = k->sregs.efer;
    s->msr.apic_base = k->sregs.apic_base;
    s->xcr0 = 1;   /* x87 only: the guest has no XSAVE to change it */

    struct cpu_fxsave *fx = &s->fx;
    memcpy(fx->st, k->fpu.fpr, sizeof fx->st);
    fx->fcw = k->fpu.fcw;
    fx->fsw = k->fpu.fsw;
    fx->ftw = k->fpu.ftwx;
    fx->fop = k->fpu.last_opcode;
    fx->fip = k->fpu.last_ip;
    fx->fdp = k->fpu.last_dp;
    memcpy(fx->xmm, k->fpu.xmm, sizeof fx->xmm);
    fx->mxcsr = k->fpu.mxcsr;
    fx->mxcsr_mask = mxcsr_mask;

    memcpy(s->dr, k->dregs.db, sizeof s->dr);
    s->dr6 = k->dregs.dr6;
    s->dr7 = k->dregs.dr7;

    events_from_kvm(&k->events, s);
    /* KVM reports an acknowledged but not yet injected interrupt in the
     * sregs bitmap when vcpu_events did not carry it */
    if (!s->event.valid) {
        for (int w = 0; w < 4; w++) {
            uint64_t bits = k->sregs.interrupt_bitmap[w];
            if (bits) {
                s->event.valid = true;
                s->event.vector = (uint8_t)(w * 64 + __builtin_ctzll(bits));
                break;
            }
        }
    }
    int rc = mp_from_kvm(&k->mp, &s->run_state);
    if (rc < 0)
        return rc;

    memcpy(s->lapic, k->lapic.regs, sizeof s->lapic);

    for (int i = 0; i < k->nmsrs && i < (int)(sizeof k->msrs / sizeof k->msrs[0]); i++) {
        int t = msr_find(k->msrs[i].index);
        if (t >= 0)
            *msr_slot(&s->msr, t) = k->msrs[i].data;
    }
    return 0;
}

bool kvm_lapic_page_empty(const uint8_t regs[CPU_LAPIC_REGS_SIZE])
{
    for (int i = 0; i < CPU_LAPIC_REGS_SIZE; i++)
        if (regs[i])
            return false;
    return true;
}

int kvm_lapic_check(const uint8_t regs[CPU_LAPIC_REGS_SIZE], int index)
{
    uint32_t id;
    memcpy(&id, regs + 0x20, 4);
    /* xAPIC: the ID is in bits 31:24 and brume's APIC ID is the vCPU index
     * (CPUID and the MADT say so); a page that disagrees is another vCPU's,
     * or not a LAPIC page at all */
    if ((id >> 24) != (uint32_t)index)
        return err_set(-EINVAL, "cpu state: the LAPIC page has APIC ID %u, vCPU %d needs %d",
                       id >> 24, index, index);
    return 0;
}
