/* The IDT: every vector goes through rt_isr_stubs to rt_interrupt(), which
 * calls the guest's handler or reports the event. An exception without a
 * handler ends the guest with FAIL and the vector, RIP and error code. */
#include "rt.h"

struct idt_gate {
    uint16_t off_lo, selector;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
} __attribute__((packed));

extern char rt_isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static rt_handler handlers[256];
volatile unsigned rt_unexpected;

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?", "#TS", "#NP",
    "#SS", "#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void rt_interrupt(struct rt_frame *f);
void rt_interrupt(struct rt_frame *f)
{
    rt_handler h = handlers[f->vector & 0xFF];
    if (h) {
        h(f);
        return;
    }
    if (f->vector < 32) {
        rt_printf("guest: exception %lu (%s) at RIP 0x%lx, error code 0x%lx, CPU %u\n",
                  f->vector, exception_names[f->vector] ? exception_names[f->vector] : "?",
                  f->rip, f->error, lapic_id());
        rt_finish("unexpected exception");
    }
    rt_unexpected++;
    rt_printf("guest: unexpected interrupt, vector %lu on CPU %u\n", f->vector, lapic_id());
    /* An interrupt from the local APIC must be acknowledged, or it blocks
     * every lower-priority one after it. */
    if (f->vector >= 32 && f->vector != 0xFF)
        lapic_eoi();
}

void rt_set_handler(uint8_t vector, rt_handler h)
{
    handlers[vector] = h;
}

void rt_idt_load(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (int v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(rt_isr_stubs + 16 * v);
        idt[v] = (struct idt_gate){
            .off_lo = (uint16_t)a, .selector = cs, .ist = 0, .type_attr = 0x8E,
            .off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32),
        };
    }
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {
        sizeof(idt) - 1, (uint64_t)(uintptr_t)idt,
    };
    __asm__ volatile("lidt %0" : : "m"(d));
}
