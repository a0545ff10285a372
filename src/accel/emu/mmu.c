/* Linear -> physical -> host: the software TLB, the 4-level page walk and
 * the slow paths of memory accesses (page crossings, MMIO).
 *
 * Paging (SDM vol. 3, ch. 4.5): 4-level with 4 KiB, 2 MiB and 1 GiB pages,
 * A/D bits set atomically in guest memory, NX (with EFER.NXE), U/S, R/W
 * with CR0.WP, global pages (CR4.PGE) kept across CR3 loads. Legacy 32-bit
 * paging (CR0.PG without EFER.LME) is not implemented and stops the VM. */
#include "accel/emu/insn.h"

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_NX  (1ull << 63)
#define PHYS_MASK (((1ull << EMU_PHYS_BITS) - 1) & ~0xfffull)

void emu_jcache_clear(struct emu_cpu *c)
{
    for (unsigned k = 0; k < EMU_JCACHE_SIZE; k++)
        c->jcache[k].key = EMU_JCACHE_EMPTY;
}

void emu_tlb_flush(struct emu_cpu *c, bool keep_global)
{
    c->block_break = true;  /* the running block's page may be gone */
    emu_jcache_clear(c);
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < EMU_TLB_SIZE; k++) {
            struct emu_tlb_entry *e = &c->tlb[m][k];
            if (keep_global && e->global)
                continue;
            e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
            e->global = false;
        }
}

void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin)
{
    /* A large page may be cached in many 4 KiB entries: drop every entry
     * that maps the same 2 MiB region, and the exact one. */
    uint64_t page = lin & ~0xfffull;
    c->block_break = true;
    emu_jcache_clear(c);
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < EMU_TLB_SIZE; k++) {
            struct emu_tlb_entry *e = &c->tlb[m][k];
            for (int a = 0; a < 3; a++)
                if (e->tag[a] != TLB_INVALID && ((e->tag[a] ^ page) >> 21) == 0) {
                    e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
                    e->global = false;
                    break;
                }
        }
}

/* Reads a page-table entry (8 bytes) at physical address pa; returns a
 * host pointer for atomic A/D updates, or NULL if the table is not RAM. */
static uint64_t *pte_ptr(struct emu_cpu *c, uint64_t pa)
{
    uint8_t *page = c->host->ram_page(c, pa & ~0xfffull);
    return page ? (uint64_t *)(void *)(page + (pa & 0xff8)) : NULL;
}

struct walk {
    uint64_t gpa;
    bool w_ok, u_ok, x_ok, dirty, global;
};

static uint32_t pf_code(struct emu_cpu *c, int acc, bool user, uint32_t bits)
{
    uint32_t e = bits;
    if (acc == ACC_W)
        e |= PFEC_W;
    if (user)
        e |= PFEC_U;
    if (acc == ACC_X && (c->msr.efer & EFER_NXE))
        e |= PFEC_I;
    return e | 0x80000000u;
}

/* Sets the A or D bit of the entry at p, as a store of this vCPU: a page
 * table that shares a page with code is a strange thing to have, but the
 * blocks decoded from that page must see the change. */
static void set_pte_bit(struct emu_cpu *c, uint64_t *p, uint64_t bit)
{
    __atomic_fetch_or(p, bit, __ATOMIC_SEQ_CST);
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)0xfff;
    if (emu_code_page(c, page))
        emu_code_written(c, page);
}

/* The walk: returns 0 with *w filled, or a #PF error code | bit 31. */
static uint32_t walk(struct emu_cpu *c, uint64_t lin, int acc, bool user, bool set_ad, struct walk *w)
{
    if (!(c->cr0 & CR0_PG)) {
        w->gpa = c->mode == MODE_LONG64 ? lin : lin & 0xffffffffull;
        w->w_ok = w->u_ok = w->x_ok = w->dirty = true;
        w->global = false;
        return 0;
    }
    uint64_t rsvd = ~((1ull << EMU_PHYS_BITS) - 1) & 0x000fffffffffffffull;
    if (!(c->msr.efer & EFER_NXE))
        rsvd |= PTE_NX;
    uint64_t table = c->cr3 & PHYS_MASK;
    uint64_t *ptes[4];
    int n = 0;
    bool w_ok = true, u_ok = true, x_ok = true;
    uint64_t pte = 0, page_mask = 0;
    for (int level = 4; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t pa = table + ((lin >> shift) & 511) * 8;
        uint64_t *p = pte_ptr(c, pa);
        pte = p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;
        if (!(pte & PTE_P))
            return pf_code(c, acc, user, 0);
        uint64_t r = rsvd;
        bool leaf = level == 1 || ((pte & PTE_PS) && level <= 3);
        if (level == 4 && (pte & PTE_PS))
            r |= PTE_PS;
        if (leaf && level == 3)
            r |= 0x3fffe000ull;
        if (leaf && level == 2)
            r |= 0x1fe000ull;
        if (pte & r)
            return pf_code(c, acc, user, PFEC_P | PFEC_RSVD);
        ptes[n++] = p;
        w_ok = w_ok && (pte & PTE_W);
        u_ok = u_ok && (pte & PTE_U);
        x_ok = x_ok && !(pte & PTE_NX);
        if (leaf) {
            page_mask = (1ull << shift) - 1;
            break;
        }
        table = pte & PHYS_MASK;
    }
    if (!(c->msr.efer & EFER_NXE))
        x_ok = true;
    /* Access rights (no SMEP/SMAP: they are not advertised) */
    bool w_allowed = w_ok || (!user && !(c->cr0 & CR0_WP));
    if ((user && !u_ok) || (acc == ACC_W && !w_allowed) || (acc == ACC_X && !x_ok))
        return pf_code(c, acc, user, PFEC_P);
    if (set_ad) {
        for (int k = 0; k < n; k++)
            if (ptes[k] && !(__atomic_load_n(ptes[k], __ATOMIC_RELAXED) & PTE_A))
                set_pte_bit(c, ptes[k], PTE_A);
        if (acc == ACC_W && ptes[n - 1] && !(pte & PTE_D)) {
            set_pte_bit(c, ptes[n - 1], PTE_D);
            pte |= PTE_D;
        }
    }
    w->gpa = ((pte & PHYS_MASK & ~page_mask) | (lin & page_mask));
    w->w_ok = w_allowed;
    w->u_ok = u_ok;
    w->x_ok = x_ok;
    w->dirty = pte & PTE_D;
    w->global = (pte & PTE_G) && (c->cr4 & CR4_PGE);
    return 0;
}

uint32_t emu_walk(struct emu_cpu *c, uint64_t lin, int acc, bool user, uint64_t *gpa, bool set_ad)
{
    struct walk w;
    uint32_t e = walk(c, lin, acc, user, set_ad, &w);
    if (!e)
        *gpa = w.gpa;
    return e;
}

_Noreturn static void page_fault(struct emu_cpu *c, uint64_t lin, uint32_t code)
{
    c->cr2 = lin;
    emu_raise_err(c, EXC_PF, code & 0x7fffffffu);
}

static uint8_t *translate_flat(struct emu_cpu *c, uint64_t lin, int acc, uint64_t *gpa)
{
    if (lin - c->flat_base >= c->flat_size)
        page_fault(c, lin, pf_code(c, acc, true, 0));
    *gpa = lin;
    uint64_t page = lin & ~0xfffull;
    /* Cache the page only when all of it is inside the flat range. */
    if (page >= c->flat_base && page + 0x1000 <= c->flat_base + c->flat_size && page + 0x1000 > page) {
        struct emu_tlb_entry *e = &c->tlb[TLB_USER][(lin >> 12) & (EMU_TLB_SIZE - 1)];
        e->addend = (uintptr_t)c->flat_mem - (uintptr_t)c->flat_base;
        e->wcode = emu_code_page(c, (uintptr_t)(page + e->addend));
        e->tag[ACC_R] = e->tag[ACC_X] = page;
        e->tag[ACC_W] = e->wcode ? TLB_INVALID : page;
        e->gpa = page;
        e->global = false;
    }
    if (acc == ACC_W)
        emu_code_written(c, (uintptr_t)(c->flat_mem + (page - c->flat_base)));
    return c->flat_mem + (lin - c->flat_base);
}

uint8_t *emu_translate(struct emu_cpu *c, uint64_t lin, int acc, bool user, uint64_t *gpa)
{
    if (c->flat)
        return translate_flat(c, lin, acc, gpa);
    if ((c->cr0 & CR0_PG) && !(c->msr.efer & EFER_LMA))
        emu_fatal(c, EMU_EXIT_UNIMPL, "emu: 32-bit paging (CR0.PG without EFER.LME) is not implemented (RIP 0x%llx)",
                  (unsigned long long)c->rip);
    struct walk w;
    uint32_t e = walk(c, lin, acc, user, true, &w);
    if (e)
        page_fault(c, lin, e);
    *gpa = w.gpa;
    uint64_t ppage = w.gpa & ~0xfffull;
    uint8_t *host = c->host->ram_page(c, ppage);
    if (!host)
        return NULL;
    uint64_t page = lin & ~0xfffull;
    struct emu_tlb_entry *t = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    bool code = emu_code_page(c, (uintptr_t)host);
    t->tag[ACC_R] = page;
    t->tag[ACC_W] = (w.w_ok && w.dirty && !code) ? page : TLB_INVALID;
    t->wcode = w.w_ok && w.dirty && code;
    t->tag[ACC_X] = w.x_ok ? page : TLB_INVALID;
    t->addend = (uintptr_t)host - (uintptr_t)page;
    t->gpa = ppage;
    t->global = w.global;
    if (acc == ACC_W && code)
        emu_code_written(c, (uintptr_t)host);
    return host + (w.gpa & 0xfff);
}

uint64_t emu_read_slow(struct emu_cpu *c, uint64_t lin, unsigned size, int acc, bool user)
{
    if ((lin & 0xfff) + size > 0x1000) {
        uint64_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= emu_read_slow(c, lin + k, 1, acc, user) << (8 * k);
        return v;
    }
    uint64_t gpa;
    uint8_t *h = emu_translate(c, lin, acc, user, &gpa);
    if (h)
        return emu_ld(h, size);
    return c->host->mmio_read(c, gpa, size);
}

void emu_probe_write(struct emu_cpu *c, uint64_t lin, unsigned n, bool user)
{
    uint64_t gpa;
    emu_translate(c, lin, ACC_W, user, &gpa);
    if ((lin & 0xfff) + n > 0x1000)
        emu_translate(c, (lin | 0xfff) + 1, ACC_W, user, &gpa);
}

/* The TLB's host pointer for a store to a writable code page (wcode), or
 * NULL: such stores skip the walk but are reported to the block cache. */
static inline uint8_t *code_store_ptr(struct emu_cpu *c, uint64_t lin, bool user)
{
    const struct emu_tlb_entry *e = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    if (!e->wcode || e->tag[ACC_R] != (lin & ~0xfffull))
        return NULL;
    emu_code_written(c, (uintptr_t)((lin & ~0xfffull) + e->addend));
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

void emu_write_slow(struct emu_cpu *c, uint64_t lin, unsigned size, uint64_t v, bool user)
{
    uint64_t gpa;
    if ((lin & 0xfff) + size > 0x1000) {
        emu_probe_write(c, lin, size, user);
        for (unsigned k = 0; k < size; k++)
            emu_write_slow(c, lin + k, 1, v >> (8 * k), user);
        return;
    }
    uint8_t *cp = code_store_ptr(c, lin, user);
    if (cp) {
        emu_st(cp, size, v);
        return;
    }
    uint8_t *h = emu_translate(c, lin, ACC_W, user, &gpa);
    if (h)
        emu_st(h, size, v);
    else
        c->host->mmio_write(c, gpa, size, v);
}

void emu_read_bytes(struct emu_cpu *c, uint64_t lin, void *buf, unsigned n, bool user)
{
    uint8_t *b = buf;
    while (n) {
        unsigned chunk = n >= 8 && (lin & 0xfff) + 8 <= 0x1000 ? 8 : 1;
        uint64_t v = emu_read_slow(c, lin, chunk, ACC_R, user);
        memcpy(b, &v, chunk);
        b += chunk;
        lin += chunk;
        n -= chunk;
    }
}

void emu_write_bytes(struct emu_cpu *c, uint64_t lin, const void *buf, unsigned n, bool user)
{
    const uint8_t *b = buf;
    emu_probe_write(c, lin, n, user);
    while (n) {
        unsigned chunk = n >= 8 && (lin & 0xfff) + 8 <= 0x1000 ? 8 : 1;
        uint64_t v = 0;
        memcpy(&v, b, chunk);
        emu_write_slow(c, lin, chunk, v, user);
        b += chunk;
        lin += chunk;
        n -= chunk;
    }
}

void *emu_rmw_ptr(struct emu_cpu *c, uint64_t lin, unsigned size)
{
    bool user = emu_user(c);
    uint64_t gpa;
    if ((lin & 0xfff) + size > 0x1000) {
        emu_probe_write(c, lin, size, user);
        return NULL;
    }
    const struct emu_tlb_entry *e = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    if (e->tag[ACC_W] == (lin & ~0xfffull))
        return (void *)(uintptr_t)(lin + e->addend);
    void *cp = code_store_ptr(c, lin, user);
    if (cp)
        return cp;
    return emu_translate(c, lin, ACC_W, user, &gpa);
}
