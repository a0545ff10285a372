/* Page walk and TLB tests: A/D bits, NX, U/S, R/W with CR0.WP, large pages,
 * reserved bits, #PF error codes and CR2, INVLPG, global pages. */
#include "../test.h"
#include "sys_util.h"

#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)

/* Translates and returns -1, or the vector raised (error code in *err). */
static int try_tr(struct sysm *m, uint64_t lin, int acc, bool user, uint64_t *gpa, uint32_t *err)
{
    jmp_buf jb;
    m->c.jb = &jb;
    if (setjmp(jb)) {
        *err = m->c.exc_error;
        return m->c.exc_vector;
    }
    emu_translate(&m->c, lin, acc, user, gpa);
    return -1;
}

static int try_read(struct sysm *m, uint64_t lin, uint64_t *v)
{
    jmp_buf jb;
    m->c.jb = &jb;
    if (setjmp(jb))
        return m->c.exc_vector;
    *v = emu_read_lin(&m->c, lin, 8);
    return -1;
}

static int try_write(struct sysm *m, uint64_t lin, uint64_t v)
{
    jmp_buf jb;
    m->c.jb = &jb;
    if (setjmp(jb))
        return m->c.exc_vector;
    emu_write_lin(&m->c, lin, 8, v);
    return -1;
}

static void test_ad_bits(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    CHECK_EQ(try_tr(m, 0x5123, ACC_R, false, &gpa, &err), -1);
    CHECK_EQ(gpa, 0x5123);
    CHECK(rd64(m, SYS_PML4) & PTE_A);
    CHECK(rd64(m, SYS_PDPT) & PTE_A);
    CHECK(rd64(m, SYS_PD) & PTE_A);
    CHECK(rd64(m, SYS_PT + 5 * 8) & PTE_A);
    CHECK(!(rd64(m, SYS_PT + 5 * 8) & PTE_D));
    /* a write through the fast path must still set D (no write tag yet) */
    CHECK_EQ(try_write(m, 0x5100, 42), -1);
    CHECK(rd64(m, SYS_PT + 5 * 8) & PTE_D);
    CHECK_EQ(rd64(m, 0x5100), 42);
    sys_free(m);
}

static void test_not_present(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    wr64(m, SYS_PT + 6 * 8, 0);
    CHECK_EQ(try_tr(m, 0x6008, ACC_R, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, 0);
    CHECK_EQ(m->c.cr2, 0x6008);
    CHECK_EQ(try_tr(m, 0x6010, ACC_W, true, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_W | PFEC_U);
    CHECK_EQ(m->c.cr2, 0x6010);
    CHECK_EQ(try_tr(m, 0x6010, ACC_X, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_I);
    /* a missing PML4 entry */
    CHECK_EQ(try_tr(m, 0x8000000000ull, ACC_R, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, 0);
    sys_free(m);
}

static void test_user_supervisor(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    wr64(m, SYS_PT + 7 * 8, 0x7000 | 3);  /* supervisor-only, writable */
    CHECK_EQ(try_tr(m, 0x7000, ACC_R, true, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_U);
    CHECK_EQ(try_tr(m, 0x7000, ACC_W, false, &gpa, &err), -1);
    /* U/S cleared at a higher level applies too */
    wr64(m, SYS_PD + 8, 0x200000 | 0x83);
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_tr(m, 0x200000, ACC_R, true, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_U);
    sys_free(m);
}

static void test_write_protect(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    wr64(m, SYS_PT + 8 * 8, 0x8000 | 5);  /* read-only, user */
    CHECK_EQ(try_tr(m, 0x8000, ACC_W, true, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_W | PFEC_U);
    CHECK_EQ(try_tr(m, 0x8000, ACC_W, false, &gpa, &err), EXC_PF);  /* CR0.WP=1 */
    CHECK_EQ(err, PFEC_P | PFEC_W);
    m->c.cr0 &= ~CR0_WP;
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_tr(m, 0x8000, ACC_W, false, &gpa, &err), -1);  /* supervisor ignores R/W */
    CHECK_EQ(try_tr(m, 0x8000, ACC_W, true, &gpa, &err), EXC_PF);
    sys_free(m);
}

static void test_nx(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    wr64(m, SYS_PT + 9 * 8, 0x9000 | 7 | (1ull << 63));
    CHECK_EQ(try_tr(m, 0x9000, ACC_R, false, &gpa, &err), -1);
    CHECK_EQ(try_tr(m, 0x9000, ACC_X, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_I);
    CHECK_EQ(try_tr(m, 0x9000, ACC_X, true, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_I | PFEC_U);
    /* without EFER.NXE the bit is reserved */
    m->c.msr.efer &= ~EFER_NXE;
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_tr(m, 0x9000, ACC_R, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_RSVD);
    sys_free(m);
}

static void test_large_pages(void)
{
    struct sysm *m = sys_new();
    uint64_t gpa;
    uint32_t err = 0;
    /* 2 MiB: PD[1] maps 0x200000 */
    CHECK_EQ(try_tr(m, 0x2abcde, ACC_R, false, &gpa, &err), -1);
    CHECK_EQ(gpa, 0x2abcde);
    /* remap PD[1] to 0x600000 */
    wr64(m, SYS_PD + 8, 0x600000 | 0x87);
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_tr(m, 0x2abcde, ACC_W, false, &gpa, &err), -1);
    CHECK_EQ(gpa, 0x6abcde);
    CHECK(rd64(m, SYS_PD + 8) & PTE_D);
    /* reserved bit 13 in a 2 MiB PDE */
    wr64(m, SYS_PD + 8, 0x600000 | 0x87 | (1ull << 13));
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_tr(m, 0x2abcde, ACC_R, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_RSVD);
    /* 1 GiB: PDPT[1] maps 0x40000000 -> physical 0 */
    wr64(m, SYS_PDPT + 8, 0x0 | 0x87);
    CHECK_EQ(try_tr(m, 0x40123456, ACC_R, false, &gpa, &err), -1);
    CHECK_EQ(gpa, 0x123456);
    /* PS in a PML4E is reserved */
    wr64(m, SYS_PML4 + 8, 0x0 | 0x87);
    CHECK_EQ(try_tr(m, 0x8000000000ull, ACC_R, false, &gpa, &err), EXC_PF);
    CHECK_EQ(err, PFEC_P | PFEC_RSVD);
    sys_free(m);
}

static void test_tlb_invlpg_global(void)
{
    struct sysm *m = sys_new();
    uint64_t v = 0;
    wr64(m, 0xa000, 0x1111);
    CHECK_EQ(try_read(m, 0xa000, &v), -1);
    CHECK_EQ(v, 0x1111);
    /* Unmapping without INVLPG: the TLB still has it, as on hardware */
    wr64(m, SYS_PT + 10 * 8, 0);
    CHECK_EQ(try_read(m, 0xa000, &v), -1);
    emu_tlb_flush_page(&m->c, 0xa000);
    CHECK_EQ(try_read(m, 0xa000, &v), EXC_PF);
    /* A global page survives a CR3 reload (flush keeping globals) */
    wr64(m, SYS_PT + 11 * 8, 0xb000 | 7 | (1ull << 8));
    CHECK_EQ(try_read(m, 0xb000, &v), -1);
    wr64(m, SYS_PT + 11 * 8, 0);
    emu_tlb_flush(&m->c, true);
    CHECK_EQ(try_read(m, 0xb000, &v), -1);
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_read(m, 0xb000, &v), EXC_PF);
    /* ... while a non-global page does not */
    CHECK_EQ(try_read(m, 0xc000, &v), -1);
    wr64(m, SYS_PT + 12 * 8, 0);
    emu_tlb_flush(&m->c, true);
    CHECK_EQ(try_read(m, 0xc000, &v), EXC_PF);
    sys_free(m);
}

static void test_straddle(void)
{
    struct sysm *m = sys_new();
    uint64_t v = 0;
    wr64(m, 0xdff8, 0x8877665544332211ull);
    wr64(m, 0xe000, 0xffeeddccbbaa9988ull);
    CHECK_EQ(try_read(m, 0xdffc, &v), -1);
    CHECK_EQ(v, 0xbbaa998888776655ull);
    /* a write straddling into a read-only page writes nothing */
    wr64(m, SYS_PT + 14 * 8, 0xe000 | 5);
    emu_tlb_flush(&m->c, false);
    CHECK_EQ(try_write(m, 0xdffc, 0), EXC_PF);
    CHECK_EQ(m->c.cr2, 0xe000);
    CHECK_EQ(rd64(m, 0xdff8), 0x8877665544332211ull);
    sys_free(m);
}

int main(void)
{
    test_ad_bits();
    test_not_present();
    test_user_supervisor();
    test_write_protect();
    test_nx();
    test_large_pages();
    test_tlb_invlpg_global();
    test_straddle();
    TEST_MAIN_END();
}
