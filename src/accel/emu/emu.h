/* The emu engine's CPU: state of one emulated x86-64 vCPU and the internal
 * API shared by the files of src/accel/emu.
 *
 * Layout of the engine (the file list is the table of contents):
 *   decode.c      bytes -> struct insn (no execution, no CPU state)
 *   dispatch.c    the opcode tables: struct insn -> handler
 *   block.c       decoded blocks: decoded once, linked, checked at entry
 *   exec.c        the step loop (blocks and single steps)
 *   mmu.c         software TLB, 4-level page walk, physical accesses
 *   flags.c/alu.c/shift.c/muldiv.c/bitops.c/string.c/stack.c/branch.c/
 *   data.c        the integer instructions, by topic
 *   system.c/segment.c/exception.c/cpuid.c/msr.c   system instructions
 *   engine.c      struct accel_ops: threads, HLT, interrupts, state
 *   flat.c        emu_flat_run(): user code on flat memory (diff tests)
 *   sse*.c, x87*.c  SSE and x87, plugged in through the tables of insn.h
 *
 * Faults unwind with longjmp to the step loop (c->jb), so handlers read and
 * write operands without checking return codes. A handler therefore does
 * everything that can fault before it changes architectural state. */
#ifndef BRUME_ACCEL_EMU_EMU_H
#define BRUME_ACCEL_EMU_EMU_H

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "accel/cpu_state.h"
#include "vm/memory.h"

struct vm;
struct vcpu;
struct emu_cpu;
struct insn;
struct emu_blocks;

/* Exception vectors */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* #PF error code bits */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)

/* Kinds of memory access (for permission checks and TLB tags) */
enum emu_access { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

/* The platform under the CPU: physical memory, MMIO, ports, clock. The
 * engine fills it with the VM's (engine.c); tests and flat.c fill their own,
 * so the CPU core links without the rest of brume. */
struct emu_host_ops {
    /* Host pointer to the 4 KiB page that holds gpa, or NULL when gpa is not
     * RAM (then the access goes to mmio_read/mmio_write). */
    uint8_t *(*ram_page)(struct emu_cpu *c, uint64_t gpa);
    uint64_t (*mmio_read)(struct emu_cpu *c, uint64_t gpa, unsigned size);
    void (*mmio_write)(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t value);
    uint64_t (*pio_in)(struct emu_cpu *c, uint16_t port, unsigned size);
    void (*pio_out)(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t value);
    /* Monotonic nanoseconds (vm_clock_ns on a VM). */
    uint64_t (*clock_ns)(struct emu_cpu *c);
    /* CR8 <-> local APIC TPR; NULL: CR8 is a plain register. */
    uint64_t (*cr8_read)(struct emu_cpu *c);
    void (*cr8_write)(struct emu_cpu *c, uint64_t v);
    /* A write to the APIC base MSR (the engine moves the LAPIC page). */
    void (*apic_base_changed)(struct emu_cpu *c);
};

/* Software TLB. A tag is the page's linear address when the access kind is
 * allowed with a host pointer, else TLB_INVALID; a hit is one compare and
 * the host address is lin + addend. Pages that are not RAM (MMIO) and pages
 * whose D bit is clear (for writes) are never entered, so they take the
 * slow path on every access. */
#define EMU_TLB_SIZE 256
#define TLB_INVALID  1ull
struct emu_tlb_entry {
    uint64_t tag[3];      /* indexed by enum emu_access */
    uintptr_t addend;
    uint64_t gpa;         /* the physical page */
    bool global;
    /* Writable, but the page holds decoded code (block.c): tag[ACC_W] is
     * left invalid so that stores take emu_write_slow, which writes through
     * addend and tells the block cache (self-modifying code). */
    bool wcode;
} __attribute__((aligned(64)));  /* one cache line, and indexing by a shift (block code) */

/* The jump cache: block code by linear RIP and CPL, for the jumps whose
 * target block code cannot know when it is built (RET, indirect jumps,
 * a target on another page that is not one of the block's two last
 * successors). Filled by exec.c's loop when it enters block code; emptied
 * with the TLB (so it never outlives the translation it was found with)
 * and with the blocks. Only 64-bit blocks have code. */
#define EMU_JCACHE_SIZE 512
#define EMU_JCACHE_EMPTY 0x0000800000000000ull  /* no RIP's key: not canonical, bit 63 clear */
struct emu_jcache_entry {
    uint64_t key;         /* emu_jcache_key */
    const void *code;
};

/* The key of RIP at this CPL: a user RIP (canonical) with bit 63 flipped,
 * so that no kernel key, which is canonical, equals it. */
static inline uint64_t emu_jcache_key(uint64_t rip, unsigned cpl)
{
    return rip ^ ((uint64_t)(cpl == 3) << 63);
}

/* Function entries are 16-byte aligned: the bits above them spread those. */
static inline unsigned emu_jcache_index(uint64_t rip)
{
    return (unsigned)((rip >> 4) ^ rip) & (EMU_JCACHE_SIZE - 1);
}

/* The two TLBs: supervisor accesses and user (CPL 3) accesses. */
enum { TLB_SUPER = 0, TLB_USER = 1 };

/* Why emu_run returned, besides having run its budget of instructions. */
enum emu_exit {
    EMU_EXIT_NONE = 0,
    EMU_EXIT_HLT,          /* HLT: run_state is CPU_HALTED */
    EMU_EXIT_EXCEPTION,    /* flat mode: an exception ended the run */
    EMU_EXIT_UNIMPL,       /* an instruction the engine does not implement */
    EMU_EXIT_TRIPLE_FAULT,
    EMU_EXIT_ERROR,        /* an internal limit (message in exit_msg) */
    EMU_EXIT_KICK,         /* something (STI, MOV CR8, I/O) wants the loop to look at interrupts now */
};

/* Lazy arithmetic flags (flags.c). A flag-setting instruction records what
 * it did (kind, operand size, operands, result) instead of computing
 * CF/PF/AF/ZF/SF/OF; readers compute them when they need them. op packs
 * the kind (LF_KIND), the size in bytes (bits 4..7) and LF_CIN (the carry
 * in of ADC/SBB). op == LF_NONE (zero, so a zeroed emu_cpu is valid): the
 * six bits of emu_cpu.rflags are exact. */
enum {
    LF_NONE = 0,
    LF_ADD,     /* a + b (+ CIN) = res */
    LF_SUB,     /* a - b (- CIN) = res; CMP, NEG (a = 0), CMPS/SCAS */
    LF_INC,     /* a + 1 = res; b is the CF kept from before (RFLAGS_CF or 0) */
    LF_DEC,     /* a - 1 = res; b as for LF_INC */
    LF_SZP,     /* SF/ZF/PF from res; CF, AF, OF are the bits of b (logic, shifts, MUL) */
};
#define LF_KIND       0xfu
#define LF_SIZE_SHIFT 4
#define LF_CIN        (1u << 8)
struct emu_lazy_flags {
    uint64_t res, a, b;   /* a, b, res are masked to the operand size */
    uint32_t op;
};

/* CPU modes, derived from CR0.PE, EFER.LMA, CS.L and CS.D */
enum emu_mode { MODE_REAL, MODE_PROT16, MODE_PROT32, MODE_COMPAT16, MODE_COMPAT32, MODE_LONG64 };

struct emu_cpu {
    uint64_t r[GPR_COUNT];
    uint64_t rip;         /* the current instruction */
    uint64_t next_rip;    /* the next one (branches change it) */
    /* RFLAGS. Its six arithmetic bits are exact only when lf.op is
     * LF_NONE: read RFLAGS with emu_flags(), and call emu_flags_sync()
     * before touching those bits in rflags directly. Other bits (IF, DF,
     * TF, ...) are always exact here. */
    uint64_t rflags;
    struct emu_lazy_flags lf;
    /* The flags before the current instruction (restored on faults):
     * emu_flags_checkpoint() / emu_flags_rollback(). */
    uint64_t rflags_start;
    struct emu_lazy_flags lf_start;
    uint64_t ckpt_insns;  /* c->insns when they were saved */

    struct cpu_segment seg[SEG_COUNT];
    struct cpu_segment tr, ldtr;
    struct cpu_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t xcr0;
    uint64_t dr[4], dr6, dr7;
    struct cpu_msrs msr;
    int64_t tsc_offset;   /* guest TSC = clock-derived TSC + tsc_offset */
    int64_t tsc_adjust;   /* IA32_TSC_ADJUST (not in cpu_state: 0 unless the guest writes TSC) */
    uint64_t spec_ctrl;   /* IA32_SPEC_CTRL (not in cpu_state: it changes nothing here) */
    struct cpu_fxsave fx; /* x87/SSE state, used by sse*.c and x87*.c */

    uint32_t apic_id;     /* CPUID's initial APIC ID: the vCPU index */
    uint8_t cpl;
    uint8_t mode;         /* enum emu_mode */
    bool intr_shadow;     /* after STI / MOV SS: no interrupt before the next insn */
    bool nmi_pending, nmi_masked;
    enum cpu_run_state run_state;

    struct emu_tlb_entry tlb[2][EMU_TLB_SIZE];
    struct emu_blocks *blocks;  /* decoded-block cache (block.c), NULL: decode every instruction */
    uintptr_t exec_page;  /* guest page (host address) of the block being run, 0 outside blocks */
    bool block_break;     /* end the running block after this instruction (mode, TLB, code write) */
    /* Other vCPUs may store into this one's code without it knowing (an
     * SMP VM): its blocks check their bytes at every entry, as they did
     * before guest_ram_gen (block.c). */
    bool cross_modify;
    /* Block code (jit.c): the way in, the end of the current run (chained
     * blocks stop before it) and the last block whose code ran. */
    void (*jit_enter)(struct emu_cpu *c, const void *code);
    uint64_t run_end;
    struct emu_block *jit_last;
    uint64_t jit_last_lin;  /* its linear address */
    struct emu_jcache_entry jcache[EMU_JCACHE_SIZE];

    /* Exceptions: emu_raise() stores the event and longjmps to *jb. */
    jmp_buf *jb;
    int exc_vector;
    uint32_t exc_error;
    bool exc_has_error;
    bool exc_soft;        /* INT n/INT3/INTO: delivered with the gate DPL check */
    int delivering;       /* vector being delivered, -1 if none (for #DF) */

    /* Run control */
    int exit;             /* enum emu_exit */
    char exit_msg[200];
    uint64_t insns;       /* instructions retired */

    /* Platform */
    const struct emu_host_ops *host;
    void *opaque;         /* the owner's (engine: struct vcpu) */
    struct vm *vm;
    pthread_mutex_t *split_lock; /* LOCKed accesses that cross pages or hit MMIO */

    /* Flat mode (flat.c): no paging, linear [flat_base, +flat_size) is host
     * memory flat_mem; CPL 3; every exception ends the run. */
    bool flat;
    uint8_t *flat_mem;
    uint64_t flat_base, flat_size;
};

/* ---- flags.c: lazy flags ---- */
#define RFLAGS_ARITH6 (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
/* The six arithmetic flags computed from c->lf (lf.op != LF_NONE). */
uint64_t emu_flags_arith(const struct emu_cpu *c);

/* The architectural RFLAGS. */
static inline uint64_t emu_flags(const struct emu_cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->rflags;
    return (c->rflags & ~RFLAGS_ARITH6) | emu_flags_arith(c);
}

/* Makes c->rflags exact (lf.op = LF_NONE): call it before reading or
 * writing arithmetic bits of c->rflags directly. */
static inline void emu_flags_sync(struct emu_cpu *c)
{
    if (c->lf.op != LF_NONE) {
        c->rflags = emu_flags(c);
        c->lf.op = LF_NONE;
    }
}

/* The step loop saves the flags before an instruction and puts them back
 * when it faults (so a faulting instruction leaves the flags of before
 * it); a REP CMPS/SCAS saves them after each complete iteration. In a
 * decoded block only the instructions that could fault after changing the
 * flags save them (insn.ckpt, block.c): the others leave the flags as
 * they were whenever they fault, so a saved copy from an earlier
 * instruction (c->ckpt_insns != c->insns) is not put back. */
static inline void emu_flags_checkpoint(struct emu_cpu *c)
{
    c->rflags_start = c->rflags;
    c->lf_start = c->lf;
    c->ckpt_insns = c->insns;
}

static inline void emu_flags_rollback(struct emu_cpu *c)
{
    if (c->ckpt_insns != c->insns)
        return;  /* saved before an earlier instruction: the flags are right */
    c->rflags = c->rflags_start;
    c->lf = c->lf_start;
}

/* ---- block.c ---- */
/* Allocates / frees the decoded-block cache (optional: without it every
 * instruction is decoded each time it runs). Returns 0 or -ENOMEM. */
int emu_blocks_init(struct emu_cpu *c);
void emu_blocks_free(struct emu_cpu *c);
/* Guest pages are named by the host address of their first byte (the
 * flat runner's memory need not be page-aligned on the host). */
/* True when blocks were decoded from the guest page at host_page. */
bool emu_code_page(const struct emu_cpu *c, uintptr_t host_page);
/* A store to a guest page (at host_page) that may hold code: a store
 * into the page of the running block ends the block after this
 * instruction, so the next instruction is fetched again; and the page's
 * blocks check their bytes again before they next run (their check
 * slots are cleared: block.c). Called before the store is made. */
void emu_code_written(struct emu_cpu *c, uintptr_t host_page);

/* The count of changes to guest RAM (vm/memory.h) that blocks compare
 * with their check slot (emu_block_matches); or EMU_GEN_NEVER: check
 * every time. */
#define EMU_GEN_NEVER (~0ull)
static inline uint64_t emu_block_gen(const struct emu_cpu *c)
{
    return c->cross_modify ? EMU_GEN_NEVER : guest_ram_gen_now();
}

/* ---- exec.c ---- */
/* Resets c to the architectural power-on state (real mode at F000:FFF0). */
void emu_cpu_reset(struct emu_cpu *c);
/* Recomputes c->mode and c->cpl from CR0, EFER, CS; call after changing them. */
void emu_update_mode(struct emu_cpu *c);
/* Runs up to max_insns instructions (fewer if something needs attention:
 * c->exit says what). Exceptions are delivered through the IDT (or end the
 * run in flat mode). Returns the number of instructions retired. */
uint64_t emu_run(struct emu_cpu *c, uint64_t max_insns);
/* Ends the run: an instruction the decoder knows but the engine does not
 * implement. Writes the RIP and the bytes into exit_msg. Never returns. */
_Noreturn void emu_unimplemented(struct emu_cpu *c, const struct insn *i);
/* Ends the run with an error message. Never returns. */
_Noreturn void emu_fatal(struct emu_cpu *c, int exit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- exception.c ---- */
_Noreturn void emu_raise(struct emu_cpu *c, int vector);
_Noreturn void emu_raise_err(struct emu_cpu *c, int vector, uint32_t error_code);
/* INT n / INT3 / INTO: delivered with the return address c->next_rip. */
_Noreturn void emu_raise_soft(struct emu_cpu *c, int vector);
/* Delivers the pending exception c->exc_* (or an external interrupt when
 * external is true) through the IDT; handles #DF and triple faults. */
void emu_deliver(struct emu_cpu *c, int vector, bool external);
/* Delivers the event recorded by emu_raise (called by the step loop). */
void emu_deliver_exception(struct emu_cpu *c);

/* ---- mmu.c ---- */
/* Empties the jump cache (the TLB flushes do it too). */
void emu_jcache_clear(struct emu_cpu *c);
void emu_tlb_flush(struct emu_cpu *c, bool keep_global);
void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin);
/* Translates a linear address for an access (raises #PF). *gpa gets the
 * physical address; returns the host pointer for it or NULL (MMIO). user is
 * true for CPL 3 accesses that are not implicit supervisor accesses. */
uint8_t *emu_translate(struct emu_cpu *c, uint64_t lin, int acc, bool user, uint64_t *gpa);
/* Page walk without side effects on the TLB (tests, debugging). Returns 0
 * and fills *gpa, or a #PF error code with bit 31 set when it would fault. */
uint32_t emu_walk(struct emu_cpu *c, uint64_t lin, int acc, bool user, uint64_t *gpa, bool set_ad);
/* Slow paths of the accessors below: any size, page crossings, MMIO. */
uint64_t emu_read_slow(struct emu_cpu *c, uint64_t lin, unsigned size, int acc, bool user);
void emu_write_slow(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t v, bool user);
void emu_read_bytes(struct emu_cpu *c, uint64_t lin, void *buf, unsigned n, bool user);
void emu_write_bytes(struct emu_cpu *c, uint64_t lin, const void *buf, unsigned n, bool user);
/* Host pointer for a read-modify-write of size bytes at lin when they lie in
 * one RAM page, after checking write permission; NULL when the access
 * crosses a page or is MMIO (permission has then been checked for every
 * byte, so the slow read and write that follow cannot fault). */
void *emu_rmw_ptr(struct emu_cpu *c, uint64_t lin, unsigned size);
/* Checks that [lin, lin+n) is writable (raises #PF). */
void emu_probe_write(struct emu_cpu *c, uint64_t lin, unsigned n, bool user);

/* Host loads and stores of 1, 2, 4 or 8 bytes (little-endian host). The
 * switch gives fixed-size moves: a memcpy of a variable size would be a
 * library call on every guest access. */
static inline uint64_t emu_ld(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
    default: { uint64_t v = 0; memcpy(&v, p, size); return v; }
    }
}

static inline void emu_st(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
    case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
    case 8: memcpy(p, &v, 8); break;
    default: memcpy(p, &v, size); break;
    }
}

/* True for a canonical 48-bit linear address. */
static inline bool emu_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline bool emu_user(const struct emu_cpu *c)
{
    return c->cpl == 3;
}

/* Reads size (1, 2, 4, 8) bytes at linear address lin: TLB fast path. */
static inline uint64_t emu_read_lin(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    bool user = emu_user(c);
    const struct emu_tlb_entry *e = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    if (e->tag[ACC_R] == (lin & ~0xfffull) && (lin & 0xfff) + size <= 0x1000)
        return emu_ld((void *)(uintptr_t)(lin + e->addend), size);
    return emu_read_slow(c, lin, size, ACC_R, user);
}

/* Host pointer for writing (or read-modify-writing: a writable page is
 * readable) size bytes at lin when the TLB has the page writable and the
 * bytes do not cross it; NULL otherwise (take the slow path). */
static inline void *emu_write_ptr(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    const struct emu_tlb_entry *e = &c->tlb[emu_user(c)][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    if (e->tag[ACC_W] == (lin & ~0xfffull) && (lin & 0xfff) + size <= 0x1000)
        return (void *)(uintptr_t)(lin + e->addend);
    return NULL;
}

static inline void emu_write_lin(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t v)
{
    void *p = emu_write_ptr(c, lin, size);
    if (p) {
        emu_st(p, size, v);
        return;
    }
    emu_write_slow(c, lin, size, v, emu_user(c));
}

/* Supervisor-mode ("implicit") accesses: descriptor tables, TSS, IDT. */
static inline uint64_t emu_read_sys(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    return emu_read_slow(c, lin, size, ACC_R, false);
}
static inline void emu_write_sys(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t v)
{
    emu_write_slow(c, lin, size, v, false);
}

/* ---- segment.c ---- */
/* Linear address of seg:off for an access of size bytes: adds the base,
 * checks canonical form in 64-bit mode (#GP(0), or #SS(0) for SS). */
uint64_t emu_linear(struct emu_cpu *c, int seg, uint64_t off, unsigned size);
/* MOV/POP to a segment register, far transfers: loads selector sel into
 * seg with the checks of the current mode (raises #GP/#NP/#SS). */
void emu_load_seg(struct emu_cpu *c, int seg, uint16_t sel);
/* Loads a code segment for a far JMP/CALL/RET or IRET (no gates). */
void emu_load_cs(struct emu_cpu *c, uint16_t sel, int new_cpl);
/* Reads the 8-byte descriptor for sel from the GDT/LDT (raises #GP(sel)). */
uint64_t emu_read_desc(struct emu_cpu *c, uint16_t sel, int vec);
/* Fills a cpu_segment from a descriptor. */
void emu_desc_to_seg(uint64_t d, uint16_t sel, struct cpu_segment *s);
/* Real-mode / VM86 style load: base = sel << 4. */
void emu_load_seg_real(struct emu_cpu *c, int seg, uint16_t sel);

/* ---- cpuid.c / msr.c ---- */
void emu_cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
/* Reads/writes an MSR; return false for an MSR that raises #GP. */
bool emu_rdmsr(struct emu_cpu *c, uint32_t msr, uint64_t *v);
bool emu_wrmsr(struct emu_cpu *c, uint32_t msr, uint64_t v);
uint64_t emu_rdtsc(struct emu_cpu *c);

/* ---- state conversion (state.c) ---- */
void emu_get_state(const struct emu_cpu *c, struct cpu_state *st);
void emu_set_state(struct emu_cpu *c, const struct cpu_state *st);

/* The physical address width the CPU reports (CPUID 0x80000008). */
#define EMU_PHYS_BITS 40
#define EMU_VIRT_BITS 48

#endif
