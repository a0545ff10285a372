/* Decoded blocks: runs of instructions decoded once and kept per vCPU, so
 * the step loop pays one lookup per block instead of a fetch and a decode
 * per instruction.
 *
 * A block starts at a host byte (found through the TLB: it names the
 * physical page), lies within that 4 KiB page and ends after a control
 * transfer or an instruction that can change how code is fetched or
 * decoded (mode, CS, paging, interrupt shadow), or after BLOCK_MAX_INSNS.
 * It holds, contiguously, each instruction's handler and decoded operands,
 * then a copy of its bytes.
 *
 * Self-modifying code, DMA into code and remapped pages: a block is used
 * only if its copied bytes still equal guest memory. They are compared
 * when the block is entered and something may have changed them since
 * they last matched: its check slot no longer holds guest_ram_gen (moved
 * on by devices after they write RAM: vm/memory.h), or this vCPU stored
 * into its page (which clears the slots of the page's blocks). Pages that
 * blocks were decoded from are "code pages" of the vCPU; its TLB never
 * holds a fast write tag for them (emu_tlb_entry.wcode), so such stores
 * take emu_write_slow / emu_translate, which call emu_code_written; a
 * store by the running block into its own page also ends the block.
 * Another vCPU's stores are seen by nobody: in an SMP VM (cross_modify)
 * blocks compare their bytes at every entry. Another vCPU writing into
 * the block this vCPU is running is cross-modifying code, which x86 only
 * defines after a serializing event (an interrupt, IRET...): a block
 * boundary here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accel/emu/insn.h"
#include "accel/emu/jit.h"

#define BLOCK_HASH 65536        /* buckets, chained: a collision must not cost a rebuild */
#define CODE_SET 8192           /* code pages (open addressing) */
#define CODE_SET_MAX (CODE_SET * 3 / 4)
#define BLOCK_MAX_INSNS 32
/* Blocks live in one arena per vCPU, emptied all at once when full: a
 * block replaced in the hash table stays valid memory, so the successor
 * links of other blocks never dangle (a link is checked like a hash hit). */
#define ARENA_SIZE (32u << 20)

/* A page that blocks were decoded from. */
struct code_page {
    uintptr_t host;             /* the host address of its first byte, 0: empty slot */
    struct emu_block *blocks;   /* those blocks (emu_block.pnext), the replaced ones too */
};

/* Check slots (emu_block.check): one per block built since the arena
 * was last emptied. */
#define SLOTS (1u << 18)

struct emu_blocks {
    struct emu_block *tab[BLOCK_HASH];
    struct code_page code[CODE_SET];
    unsigned ncode;
    uint8_t *arena;
    size_t used;
    uint64_t *slots;            /* SLOTS of them, near the block code when the kernel agrees */
    unsigned nslots;
    uint64_t resets;            /* times the arena was emptied */
    struct emu_jit *jit;        /* block code, emptied with the arena; NULL: none */
    bool jit_full;              /* empty everything at the next build */
};

/* One anonymous mapping for the tables and the arena: its pages cost
 * memory only once touched (and malloc debugging such as MALLOC_PERTURB_
 * does not fill 32 MiB at each flat run). */
#define BLOCKS_MAP_SIZE (((sizeof(struct emu_blocks) + 4095) & ~(size_t)4095) + ARENA_SIZE)

int emu_blocks_init(struct emu_cpu *c)
{
    void *m = mmap(NULL, BLOCKS_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -ENOMEM;
    struct emu_blocks *bc = m;
    bc->arena = (uint8_t *)m + (BLOCKS_MAP_SIZE - ARENA_SIZE);
    bc->jit = emu_jit_new();
    /* Near the block code, which then reads a slot RIP-relative. */
    bc->slots = mmap(emu_jit_data_hint(bc->jit), SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (bc->slots == MAP_FAILED) {
        emu_jit_delete(bc->jit);
        munmap(m, BLOCKS_MAP_SIZE);
        return -ENOMEM;
    }
    c->jit_enter = bc->jit ? emu_jit_entry(bc->jit) : NULL;
    c->blocks = bc;
    emu_jcache_clear(c);
    return 0;
}

static void drop_all(struct emu_cpu *c)
{
    struct emu_blocks *bc = c->blocks;
    emu_jcache_clear(c);  /* it points into the code dropped here */
    memset(bc->tab, 0, sizeof(bc->tab));
    memset(bc->code, 0, sizeof(bc->code));
    bc->ncode = 0;
    bc->used = 0;
    bc->nslots = 0;
    bc->resets++;
    emu_jit_reset(bc->jit);
    bc->jit_full = false;
}

void emu_blocks_free(struct emu_cpu *c)
{
    if (!c->blocks)
        return;
    emu_jit_delete(c->blocks->jit);
    munmap(c->blocks->slots, SLOTS * sizeof(uint64_t));
    munmap(c->blocks, BLOCKS_MAP_SIZE);
    c->blocks = NULL;
}

static inline unsigned page_hash(uintptr_t page)
{
    return (unsigned)((page >> 12) ^ (page >> 25)) & (CODE_SET - 1);
}

static struct code_page *find_code_page(struct emu_blocks *bc, uintptr_t host_page)
{
    if (!bc)
        return NULL;
    for (unsigned k = page_hash(host_page);; k = (k + 1) & (CODE_SET - 1)) {
        if (bc->code[k].host == host_page)
            return &bc->code[k];
        if (!bc->code[k].host)
            return NULL;
    }
}

bool emu_code_page(const struct emu_cpu *c, uintptr_t host_page)
{
    return find_code_page(c->blocks, host_page) != NULL;
}

void emu_code_written(struct emu_cpu *c, uintptr_t host_page)
{
    if (host_page == c->exec_page)
        c->block_break = true;
    struct code_page *cp = find_code_page(c->blocks, host_page);
    if (!cp)
        return;
    /* Replaced blocks leave the list here, so that code rewritten over
     * and over (a guest's own JIT) does not make it, and each store,
     * ever longer: what stays is one block per start and mode at most. */
    for (struct emu_block **pb = &cp->blocks; *pb;) {
        struct emu_block *b = *pb;
        if (b->dead) {
            *pb = b->pnext;
            continue;
        }
        *b->check = 0;  /* guest_ram_gen is never 0 */
        pb = &b->pnext;
    }
}

/* Makes host_page (the host address of a guest page's first byte) a code
 * page: from now on this vCPU's stores to it are seen (the fast write
 * tags that map it are turned into wcode). Returns its entry. */
static struct code_page *mark_code(struct emu_cpu *c, uintptr_t host_page)
{
    struct emu_blocks *bc = c->blocks;
    struct code_page *cp = find_code_page(bc, host_page);
    if (cp)
        return cp;
    if (bc->ncode >= CODE_SET_MAX) {
        /* Forget everything: no block is left whose page needs watching. */
        drop_all(c);
    }
    unsigned k = page_hash(host_page);
    while (bc->code[k].host)
        k = (k + 1) & (CODE_SET - 1);
    cp = &bc->code[k];
    cp->host = host_page;
    cp->blocks = NULL;
    bc->ncode++;
    for (int m = 0; m < 2; m++)
        for (int t = 0; t < EMU_TLB_SIZE; t++) {
            struct emu_tlb_entry *e = &c->tlb[m][t];
            if (e->tag[ACC_W] != TLB_INVALID && (uintptr_t)(e->tag[ACC_W] + e->addend) == host_page) {
                e->tag[ACC_W] = TLB_INVALID;
                e->wcode = true;
            }
        }
    return cp;
}

/* Instructions after which a block ends: control transfers (the next
 * instruction is elsewhere), and those that may change the mode, CS, CPL,
 * paging, RFLAGS.TF/IF or the interrupt shadow, or that stop the run. The
 * step loop also ends a block at run time when an instruction changes
 * next_rip, sets c->exit or c->block_break, so this list only has to keep
 * blocks short where that is cheaper than a check. */
static bool ends_block(const struct insn *i, emu_op_fn fn)
{
    if (fn == op_ud || fn == op_unimpl)
        return true;
    uint8_t op = i->op;
    if (i->map == MAP_1BYTE) {
        if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xef) || (op >= 0xc2 && op <= 0xc5) ||
            (op >= 0xca && op <= 0xcf) || (op >= 0x6c && op <= 0x6f))
            return true;
        switch (op) {
        case 0x07: case 0x17: case 0x1f:   /* POP ES/SS/DS */
        case 0x62:                         /* BOUND */
        case 0x8e:                         /* MOV Sreg */
        case 0x9a:                         /* CALL far */
        case 0x9d:                         /* POPF */
        case 0xf1: case 0xf4:              /* INT1, HLT */
        case 0xfa: case 0xfb:              /* CLI, STI */
            return true;
        case 0xff:                         /* CALL/JMP near and far */
            return i->nnn >= 2 && i->nnn <= 5;
        case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab:
        case 0xac: case 0xad: case 0xae: case 0xaf:
            return i->rep != 0;            /* may resume at itself */
        default:
            return false;
        }
    }
    if (i->map == MAP_0F) {
        if (op <= 0x0b || (op >= 0x20 && op <= 0x23) || (op >= 0x30 && op <= 0x35) || (op >= 0x80 && op <= 0x8f))
            return true;
        switch (op) {
        case 0xa1: case 0xa9:              /* POP FS/GS */
        case 0xa2:                         /* CPUID (serializing) */
        case 0xae:                         /* FXRSTOR, LDMXCSR, fences */
        case 0xb2: case 0xb4: case 0xb5:   /* LSS/LFS/LGS */
            return true;
        default:
            return false;
        }
    }
    return false;
}

/* True when instruction i (handler fn) leaves the flags unchanged
 * whenever it faults, so the block loop need not save them before it
 * (insn.ckpt). Either it never writes them (MOV, LEA, PUSH/POP, branches,
 * CMOV/SETcc only read them), or it cannot fault at all (ALU, shifts,
 * IMUL, INC/DEC between registers and immediates, without LOCK, which
 * would be #UD), or it is one of special.c's forms, which read their
 * memory operand before they record flags and write none. */
static bool flags_safe(const struct insn *i, emu_op_fn fn)
{
    if (emu_specialize(i, NULL))
        return true;
    static const emu_op_fn no_flags[] = {
        op_mov_E_G, op_mov_G_E, op_mov_E_I, op_mov_Zv_Iv, op_mov_Zb_Ib, op_movzx_Gv_E, op_movsx_Gv_E,
        op_movsxd_Gv_Ed, op_lea_Gv_M, op_push_Zv, op_pop_Zv, op_push_I, op_call_J, op_jmp_J, op_jcc_J,
        op_ret, op_cmovcc_Gv_Ev, op_setcc_Eb, op_nop, op_nop_Ev, op_leave, op_bswap_Zv, op_cbw, op_cwd,
    };
    for (size_t k = 0; k < sizeof(no_flags) / sizeof(no_flags[0]); k++)
        if (fn == no_flags[k])
            return true;
    if (i->lock || (i->has_modrm && i->mod != 3))
        return false;
    static const emu_op_fn reg_only[] = {
        op_alu_E_G, op_alu_G_E, op_alu_A_I, op_grp1_E_I, op_grp2_E, op_imul_Gv_Ev, op_imul_Gv_Ev_I,
        op_incdec_Zv, op_test_E_G, op_test_A_I,
    };
    for (size_t k = 0; k < sizeof(reg_only) / sizeof(reg_only[0]); k++)
        if (fn == reg_only[k])
            return true;
    return false;
}

static inline unsigned block_hash(const uint8_t *p)
{
    uintptr_t h = (uintptr_t)p;
    return (unsigned)(h ^ (h >> 14) ^ (h >> 28)) & (BLOCK_HASH - 1);
}

static struct emu_block *build(struct emu_cpu *c, const uint8_t *p, unsigned page_off, unsigned avail, uint8_t key,
                               uint64_t gen)
{
    struct decode_mode m = { key & 1, (key >> 1) & 1 };
    struct emu_binsn ins[BLOCK_MAX_INSNS];
    /* Decoded from a copy, which is also the block's copy of its bytes:
     * guest memory may change while it is decoded (a device, another
     * vCPU), and the block must be what its bytes say. Copied as the
     * decoder goes, 15 bytes (the longest instruction) ahead of it. */
    uint8_t copy[BLOCK_MAX_INSNS * 15];
    unsigned have = avail < sizeof(copy) ? avail : (unsigned)sizeof(copy);
    unsigned off = 0, n = 0, copied = 0;
    while (n < BLOCK_MAX_INSNS && off < have) {
        unsigned want = have - off > 15 ? off + 15 : have;
        if (want > copied) {
            memcpy(copy + copied, p + copied, want - copied);
            copied = want;
        }
        if (emu_decode(copy + off, copied - off, m, &ins[n].i) != DECODE_OK)
            break;  /* crosses the page or faults: the next block's first instruction */
        ins[n].fn = emu_dispatch(&ins[n].i);
        ins[n].i.ckpt = !flags_safe(&ins[n].i, ins[n].fn);
        off += ins[n].i.len;
        bool last = ends_block(&ins[n].i, ins[n].fn);
        n++;
        if (last)
            break;
    }
    if (n == 0)
        return NULL;
    struct emu_blocks *bc = c->blocks;
    size_t ins_off = (sizeof(struct emu_block) + off + 7) & ~(size_t)7;
    size_t size = (ins_off + n * sizeof(ins[0]) + 63) & ~(size_t)63;
    if (bc->used + size > ARENA_SIZE || bc->jit_full || bc->nslots == SLOTS)
        drop_all(c);
    struct code_page *cp = mark_code(c, (uintptr_t)(p - page_off));  /* may empty the arena too */
    struct emu_block *b = (struct emu_block *)(void *)(bc->arena + bc->used);
    bc->used += size;
    b->host = p;
    b->page = (uintptr_t)(p - page_off);
    b->ripmask = m.code64 ? ~0ull : m.def32 ? 0xffffffffull : 0xffffull;
    b->next[0] = b->next[1] = NULL;
    b->hnext = NULL;
    b->link_at[0] = b->link_at[1] = NULL;
    b->relinks = 0;
    b->nbytes = (uint16_t)off;
    b->ins_off = (uint16_t)ins_off;
    b->n = (uint8_t)n;
    b->mode = key;
    b->wide = avail >= 8;
    b->check = &bc->slots[bc->nslots++];
    *b->check = gen;  /* read before the copy; no store of this vCPU since */
    b->pnext = cp->blocks;
    cp->blocks = b;
    b->dead = false;
    memcpy(b->bytes, copy, off);
    memcpy((uint8_t *)b + ins_off, ins, n * sizeof(ins[0]));
    b->code = emu_jit_compile(bc->jit, b, gen != EMU_GEN_NEVER);
    bc->jit_full = emu_jit_full(bc->jit);
    return b;
}

void emu_block_link(struct emu_cpu *c, struct emu_block *prev, unsigned k, struct emu_block *b)
{
    prev->next[k] = b;
    if (b && prev->code && b->code && prev->mode == b->mode)
        emu_jit_link(c->blocks->jit, prev, k, b);
}

struct emu_block *emu_block_get(struct emu_cpu *c, struct emu_block *prev, const uint8_t *p, unsigned page_off,
                                unsigned avail, uint8_t key)
{
    struct emu_blocks *bc = c->blocks;
    const uint64_t gen = emu_block_gen(c);
    unsigned link = 1;
    if (prev) {
        link = p == prev->host + prev->nbytes ? 0 : 1;
        if (emu_block_matches(prev->next[link], p, key, gen))
            return prev->next[link];
    }
    struct emu_block **slot = &bc->tab[block_hash(p)], *b = NULL;
    for (struct emu_block **pp = slot; *pp; pp = &(*pp)->hnext) {
        struct emu_block *x = *pp;
        if (x->host != p || x->mode != key)
            continue;
        *pp = x->hnext;  /* unlinked: put back in front if still valid */
        if (emu_block_matches(x, p, key, gen)) {
            b = x;
            b->hnext = *slot;
            *slot = b;
        } else {
            x->dead = true;  /* decoded again below */
        }
        break;
    }
    if (!b) {
        uint64_t resets = bc->resets;
        b = build(c, p, page_off, avail, key, gen);
        if (bc->resets != resets)
            prev = NULL;  /* it was in the emptied arena */
        if (b) {
            b->hnext = *slot;  /* slot is in the table, which a reset only zeroed */
            *slot = b;
        }
    }
    if (prev)
        emu_block_link(c, prev, link, b);
    return b;
}
