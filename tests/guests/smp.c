/* smp: the BSP starts every other CPU the MADT lists with INIT, SIPI,
 * SIPI through its local APIC's ICR. Each AP runs the trampoline into long
 * mode, increments a shared counter and reports its APIC ID. Passes when
 * every APIC ID (the BSP's included) ran code. */
#include "rt.h"

const char guest_name[] = "smp";

#define SMP_TRAMP_BASE 0x70000ull
#define AP_STACK_SIZE 8192

extern const char smp_tramp_start[], smp_tramp_end[], smp_tramp_cr3[], smp_tramp_stack[];

static volatile unsigned ran_count;
static volatile uint8_t ran[256];
static uint8_t ap_stacks[MACHINE_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));

static void mark_ran(unsigned id)
{
    __atomic_fetch_add(&ran_count, 1, __ATOMIC_SEQ_CST);
    ran[id & 0xFF] = 1;
}

void smp_ap_main(void);
void smp_ap_main(void)
{
    rt_idt_load();
    unsigned id = lapic_id();
    mark_ran(id);
    rt_printf("smp: CPU with APIC ID %u is running\n", id);
    rt_halt_forever();
}

static void patch64(const char *sym, uint64_t value)
{
    uint64_t off = (uint64_t)(sym - smp_tramp_start);
    memcpy((void *)(uintptr_t)(SMP_TRAMP_BASE + off), &value, 8);
}

const char *guest_main(void)
{
    if (!rt_acpi.ok)
        return rt_acpi.why;
    if (rt_acpi.ncpus < 2)
        return "the MADT lists a single CPU (run with --cpus 2 or more)";
    unsigned bsp = lapic_id();
    lapic_enable();
    mark_ran(bsp);
    rt_printf("smp: BSP APIC ID %u, %d CPUs in the MADT\n", bsp, rt_acpi.ncpus);

    size_t len = (size_t)(smp_tramp_end - smp_tramp_start);
    memcpy((void *)(uintptr_t)SMP_TRAMP_BASE, smp_tramp_start, len);
    patch64(smp_tramp_cr3, read_cr3());

    unsigned expected = 1;
    for (int i = 0; i < rt_acpi.ncpus; i++) {
        unsigned id = rt_acpi.apic_ids[i];
        if (id == bsp)
            continue;
        expected++;
        patch64(smp_tramp_stack, (uint64_t)(uintptr_t)&ap_stacks[i][AP_STACK_SIZE]);
        unsigned before = ran_count;
        /* INIT (assert, level), 10 ms, then SIPI twice 200 us apart. */
        if (!lapic_ipi(id, 0x00004500))
            return "INIT IPI stuck in the ICR";
        rt_delay_us(10000);
        for (int s = 0; s < 2; s++) {
            if (!lapic_ipi(id, 0x00004600 | (uint32_t)(SMP_TRAMP_BASE >> 12)))
                return "SIPI stuck in the ICR";
            rt_delay_us(200);
        }
        /* Wait for this AP before reusing the trampoline's stack slot. */
        for (int ms = 0; ms < 10000 && ran_count == before; ms++)
            if (!rt_delay_us(1000))
                break;
        if (ran_count == before) {
            rt_printf("smp: APIC ID %u did not start\n", id);
            return "an application processor did not start";
        }
    }
    rt_printf("smp: %u of %u CPUs ran code\n", ran_count, expected);
    for (int i = 0; i < rt_acpi.ncpus; i++)
        if (!ran[rt_acpi.apic_ids[i]])
            return "an APIC ID never ran code";
    if (ran_count != expected)
        return "a CPU ran the start-up code twice";
    return 0;
}
