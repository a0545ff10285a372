/* struct cpu_state <-> KVM structs: exact round trips over random valid
 * states, the mappings that are easy to get wrong (register order, segment
 * order, interrupt shadow kind, MP states), and the states that must be
 * refused. Needs no /dev/kvm. */
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "accel/kvm/kvm.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void rnd_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

static void rnd_segment(struct cpu_segment *s)
{
    s->base = rnd();
    s->limit = (uint32_t)rnd();
    s->selector = (uint16_t)rnd();
    s->type = rnd() & 0xf;
    s->s = rnd() & 1;
    s->dpl = rnd() & 3;
    s->present = rnd() & 1;
    s->avl = rnd() & 1;
    s->l = rnd() & 1;
    s->db = rnd() & 1;
    s->g = rnd() & 1;
    s->unusable = rnd() & 1;
}

/* A random state in the normal form kvm_state_from_kvm produces. */
static void rnd_state(struct cpu_state *s, uint32_t mxcsr_mask)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < GPR_COUNT; i++)
        s->regs[i] = rnd();
    s->rip = rnd();
    s->rflags = rnd() | RFLAGS_FIXED;
    for (int i = 0; i < SEG_COUNT; i++)
        rnd_segment(&s->seg[i]);
    rnd_segment(&s->tr);
    rnd_segment(&s->ldtr);
    s->gdt.base = rnd();
    s->gdt.limit = (uint16_t)rnd();
    s->idt.base = rnd();
    s->idt.limit = (uint16_t)rnd();
    s->cr0 = rnd();
    s->cr2 = rnd();
    s->cr3 = rnd();
    s->cr4 = rnd();
    s->cr8 = rnd() & 0xf;
    s->xcr0 = 1;
    for (int i = 0; i < 4; i++)
        s->dr[i] = rnd();
    s->dr6 = rnd();
    s->dr7 = rnd();
    uint64_t *m = (uint64_t *)&s->msr;
    for (size_t i = 0; i < sizeof s->msr / 8; i++)
        m[i] = rnd();
    s->fx.fcw = (uint16_t)rnd();
    s->fx.fsw = (uint16_t)rnd();
    s->fx.ftw = (uint8_t)rnd();
    s->fx.fop = (uint16_t)rnd();
    s->fx.fip = rnd();
    s->fx.fdp = rnd();
    s->fx.mxcsr = (uint32_t)rnd();
    s->fx.mxcsr_mask = mxcsr_mask;
    rnd_bytes(s->fx.st, sizeof s->fx.st);
    rnd_bytes(s->fx.xmm, sizeof s->fx.xmm);
    rnd_bytes(s->lapic, sizeof s->lapic);
    switch (rnd() % 3) {
    case 0:
        break;
    case 1:
        s->event.valid = true;
        s->event.is_exception = true;
        s->event.vector = (uint8_t)(rnd() % 32);
        if (s->event.vector == 2)
            s->event.vector = 14;
        s->event.has_error_code = rnd() & 1;
        s->event.error_code = s->event.has_error_code ? (uint32_t)rnd() : 0;
        break;
    case 2:
        s->event.valid = true;
        s->event.vector = (uint8_t)(32 + rnd() % 224);
        break;
    }
    s->interrupt_shadow = rnd() & 1;
    s->nmi_pending = rnd() & 1;
    s->nmi_masked = rnd() & 1;
    s->run_state = (enum cpu_run_state)(rnd() % 3);
}

static void test_round_trip(void)
{
    static struct kvm_cpu_regs k;
    for (int iter = 0; iter < 2000; iter++) {
        struct cpu_state in, out;
        rnd_state(&in, 0xffff);
        CHECK_EQ(kvm_state_to_kvm(&in, kvm_state_msrs, kvm_nstate_msrs, &k), 0);
        CHECK_EQ(k.nmsrs, kvm_nstate_msrs);
        CHECK_EQ(kvm_state_from_kvm(&k, 0xffff, &out), 0);
        if (memcmp(&in, &out, sizeof in) != 0) {
            fprintf(stderr, "round trip %d differs\n", iter);
            test_failures++;
            break;
        }
    }
}

static void test_mappings(void)
{
    static struct kvm_cpu_regs k;
    struct cpu_state s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < GPR_COUNT; i++)
        s.regs[i] = 0x100 + (uint64_t)i;
    s.rflags = RFLAGS_FIXED;
    s.xcr0 = 1;
    for (int i = 0; i < SEG_COUNT; i++)
        s.seg[i].selector = (uint16_t)(0x10 * (i + 1));
    s.msr.efer = EFER_LME | EFER_LMA;
    s.msr.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP;
    s.msr.pat = 0x0007040600070406ull;
    s.msr.tsc = 12345;
    s.msr.mtrr_var_mask[7] = 0xabc;
    CHECK_EQ(kvm_state_to_kvm(&s, kvm_state_msrs, kvm_nstate_msrs, &k), 0);

    /* kvm_regs is rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8.. */
    CHECK_EQ(k.regs.rax, 0x100);
    CHECK_EQ(k.regs.rcx, 0x101);
    CHECK_EQ(k.regs.rdx, 0x102);
    CHECK_EQ(k.regs.rbx, 0x103);
    CHECK_EQ(k.regs.rsp, 0x104);
    CHECK_EQ(k.regs.rbp, 0x105);
    CHECK_EQ(k.regs.rsi, 0x106);
    CHECK_EQ(k.regs.rdi, 0x107);
    CHECK_EQ(k.regs.r8, 0x108);
    CHECK_EQ(k.regs.r15, 0x10f);
    /* segments: ES CS SS DS FS GS in encoding order */
    CHECK_EQ(k.sregs.es.selector, 0x10);
    CHECK_EQ(k.sregs.cs.selector, 0x20);
    CHECK_EQ(k.sregs.ss.selector, 0x30);
    CHECK_EQ(k.sregs.ds.selector, 0x40);
    CHECK_EQ(k.sregs.fs.selector, 0x50);
    CHECK_EQ(k.sregs.gs.selector, 0x60);
    /* EFER and APIC base travel in sregs */
    CHECK_EQ(k.sregs.efer, EFER_LME | EFER_LMA);
    CHECK_EQ(k.sregs.apic_base, 0xFEE00900);
    /* MSRs in list order, TSC last */
    CHECK_EQ(k.msrs[0].index, MSR_STAR);
    CHECK_EQ(k.msrs[kvm_nstate_msrs - 1].index, MSR_IA32_TSC);
    CHECK_EQ(k.msrs[kvm_nstate_msrs - 1].data, 12345);
    bool found_pat = false, found_mask7 = false;
    for (int i = 0; i < k.nmsrs; i++) {
        if (k.msrs[i].index == MSR_IA32_PAT)
            found_pat = k.msrs[i].data == 0x0007040600070406ull;
        if (k.msrs[i].index == 0x20f)
            found_mask7 = k.msrs[i].data == 0xabc;
    }
    CHECK(found_pat);
    CHECK(found_mask7);
    /* the MP state an AP waits in for its SIPI */
    CHECK_EQ(k.mp.mp_state, KVM_MP_STATE_RUNNABLE);
    s.run_state = CPU_WAIT_FOR_SIPI;
    CHECK_EQ(kvm_state_to_kvm(&s, kvm_state_msrs, kvm_nstate_msrs, &k), 0);
    CHECK_EQ(k.mp.mp_state, KVM_MP_STATE_INIT_RECEIVED);
    s.run_state = CPU_HALTED;
    CHECK_EQ(kvm_state_to_kvm(&s, kvm_state_msrs, kvm_nstate_msrs, &k), 0);
    CHECK_EQ(k.mp.mp_state, KVM_MP_STATE_HALTED);
    s.run_state = CPU_RUNNABLE;

    /* interrupt shadow: STI when IF=1, MOV SS when IF=0 (VMX entry check) */
    s.interrupt_shadow = true;
    s.rflags = RFLAGS_FIXED | RFLAGS_IF;
    CHECK_EQ(kvm_state_to_kvm(&s, kvm_state_msrs, kvm_nstate_msrs, &k), 0);
    CHECK_EQ(k.events.interrupt.shadow, KVM_X86_SHADOW_INT_STI);
    s.rflags = RFLAGS_FIXED;
    CHECK_EQ(kvm_state_to_kvm(&s, kvm_state_msrs, kvm_nstate_msrs, &k), 0);
    CHECK_EQ(k.events.interrupt.shadow, KVM_X86_SHADOW_INT_MOV_SS);
    CHECK(k.events.flags & KVM_VCPUEVENT_VALID_SHADOW);
    CHECK(k.events.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
    CHECK(!(k.events.flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR));
    s.interrupt_shadow = false;

    /* a subset MSR list (a host without SPEC_CTRL): the missing MSR reads 0 */
    const uint32_t few[] = {MSR_LSTAR, MSR_IA32_TSC};
    s.msr.lstar = 0xffffffff81000000ull;
    s.msr.spec_ctrl = 5;
    CHECK_EQ(kvm_state_to_kvm(&s, few, 2, &k), 0);
    CHECK_EQ(k.nmsrs, 2);
    struct cpu_state out;
    CHECK_EQ(kvm_state_from_kvm(&k, 0xffbf, &out), 0);
    CHECK_EQ(out.msr.lstar, 0xffffffff81000000ull);
    CHECK_EQ(out.msr.tsc, 12345);
    CHECK_EQ(out.msr.spec_ctrl, 0);
    CHECK_EQ(out.fx.mxcsr_mask, 0xffbf);
    CHECK_EQ(out.xcr0, 1);

    /* an MSR that is not part of the state is refused */
    const uint32_t bad[] = {0x6e0 /* TSC deadline */};
    CHECK_EQ(kvm_state_to_kvm(&s, bad, 1, &k), -EINVAL);
}

static void test_refusals(void)
{
    static struct kvm_cpu_regs k;
    struct cpu_state s;
    memset(&s, 0, sizeof s);
    s.rflags = RFLAGS_FIXED;

    s.xcr0 = 0;   /* a state built from scratch: accepted */
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), 0);
    s.xcr0 = 7;   /* AVX state: the kvm engine hides XSAVE */
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), -EINVAL);
    s.xcr0 = 1;

    s.event = (struct cpu_pending_event){.valid = true, .is_exception = true, .vector = 40};
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), -EINVAL);
    s.event.vector = 2;   /* NMI is not an exception */
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), -EINVAL);
    s.event = (struct cpu_pending_event){.valid = true, .vector = 13};   /* interrupt < 32 */
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), -EINVAL);
    s.event = (struct cpu_pending_event){.valid = true, .is_exception = true, .vector = 14,
                                         .has_error_code = true, .error_code = 2};
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), 0);
    CHECK_EQ(k.events.exception.injected, 1);
    CHECK_EQ(k.events.exception.nr, 14);
    CHECK_EQ(k.events.exception.error_code, 2);
    s.event.valid = false;

    s.run_state = (enum cpu_run_state)7;
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), -EINVAL);
    s.run_state = CPU_RUNNABLE;

    /* from KVM: MP states brume does not model are refused, UNINITIALIZED
     * (a fresh AP) is waiting for SIPI */
    CHECK_EQ(kvm_state_to_kvm(&s, NULL, 0, &k), 0);
    struct cpu_state out;
    k.mp.mp_state = KVM_MP_STATE_UNINITIALIZED;
    CHECK_EQ(kvm_state_from_kvm(&k, 0xffff, &out), 0);
    CHECK_EQ(out.run_state, CPU_WAIT_FOR_SIPI);
    k.mp.mp_state = KVM_MP_STATE_STOPPED;
    CHECK_EQ(kvm_state_from_kvm(&k, 0xffff, &out), -EINVAL);
    k.mp.mp_state = KVM_MP_STATE_RUNNABLE;

    /* an interrupt KVM reports only in the sregs bitmap */
    memset(&k.events, 0, sizeof k.events);
    k.sregs.interrupt_bitmap[1] = 1ull << 3;   /* vector 67 */
    CHECK_EQ(kvm_state_from_kvm(&k, 0xffff, &out), 0);
    CHECK(out.event.valid);
    CHECK(!out.event.is_exception);
    CHECK_EQ(out.event.vector, 67);

    /* a half-delivered NMI is still pending */
    k.sregs.interrupt_bitmap[1] = 0;
    k.events.nmi.injected = 1;
    CHECK_EQ(kvm_state_from_kvm(&k, 0xffff, &out), 0);
    CHECK(out.nmi_pending);
}

static void test_lapic_empty(void)
{
    uint8_t page[CPU_LAPIC_REGS_SIZE] = {0};
    CHECK(kvm_lapic_page_empty(page));
    page[0x30] = 0x14;   /* version register */
    CHECK(!kvm_lapic_page_empty(page));
    page[0x30] = 0;
    page[CPU_LAPIC_REGS_SIZE - 1] = 1;
    CHECK(!kvm_lapic_page_empty(page));

    /* the APIC ID (bits 31:24 of register 0x20) must be the vCPU's */
    CHECK_EQ(kvm_lapic_check(page, 0), 0);
    CHECK_EQ(kvm_lapic_check(page, 3), -EINVAL);
    page[0x23] = 3;
    CHECK_EQ(kvm_lapic_check(page, 3), 0);
    CHECK_EQ(kvm_lapic_check(page, 0), -EINVAL);
    page[0x23] = 0xff;
    CHECK_EQ(kvm_lapic_check(page, 63), -EINVAL);
}

int main(void)
{
    test_round_trip();
    test_mappings();
    test_refusals();
    test_lapic_empty();
    TEST_MAIN_END();
}
