/* diff-runner: runs every instruction form of the tables natively and in
 * emu and reports, per group, forms, cases and mismatches; the last line is
 *   diff: F forms, C cases, X mismatches
 * Usage: diff-runner [--group NAME] [--cases N] [--seed S] [--form NAME]
 *                    [--case IDX] [--details N] [--list] [--self-check] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "util/log.h"

#define MAX_FORMS 4096

static const struct diff_table *const tables[] = {
    &forms_alu, &forms_shift, &forms_muldiv, &forms_bit, &forms_move, &forms_stack,
    &forms_string, &forms_flags, &forms_branch, &forms_except, &forms_sse, &forms_x87,
};

struct opts {
    const char *group, *form;
    uint64_t cases, seed, one_case;
    bool has_case, list, self_check;
    unsigned details;
};

struct totals {
    uint64_t forms, cases, mismatches, excluded, unimpl, failing_forms;
};

static struct diff_form forms[MAX_FORMS];
static struct diff_case kase;
static struct diff_result nat, emu;
static char diffbuf[16384];

static void usage(void)
{
    fprintf(stderr, "usage: diff-runner [--group NAME] [--cases N] [--seed S] [--form NAME] [--case IDX]\n"
                    "                   [--details N] [--list] [--self-check]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .cases = 200, .seed = 1, .details = 3 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list")) {
            o->list = true;
        } else if (!strcmp(a, "--self-check")) {
            o->self_check = true;
        } else if (!v) {
            usage();
        } else if (!strcmp(a, "--group")) {
            o->group = v, i++;
        } else if (!strcmp(a, "--form")) {
            o->form = v, i++;
        } else if (!strcmp(a, "--cases")) {
            o->cases = strtoull(v, NULL, 0), i++;
        } else if (!strcmp(a, "--seed")) {
            o->seed = strtoull(v, NULL, 0), i++;
        } else if (!strcmp(a, "--case")) {
            o->one_case = strtoull(v, NULL, 0), o->has_case = true, i++;
        } else if (!strcmp(a, "--details")) {
            o->details = (unsigned)strtoul(v, NULL, 0), i++;
        } else {
            usage();
        }
    }
}

/* Runs one form; returns its mismatch count (an engine failure counts 1). */
static uint64_t run_form(const struct diff_form *f, const struct opts *o, struct totals *t,
                         unsigned *details_left)
{
    uint64_t first = o->has_case ? o->one_case : 0;
    uint64_t last = o->has_case ? o->one_case + 1 : o->cases;
    uint64_t bad = 0;
    for (uint64_t idx = first; idx < last; idx++) {
        gen_case(f, o->seed, idx, &kase);
        int rc = native_run(&kase, &nat);
        if (rc < 0) {
            printf("  %s: native run failed (%s)\n", f->name, strerror(-rc));
            return bad + 1;
        }
        t->cases++;
        if (!engine_available())
            continue;
        rc = engine_run(&kase, &emu);
        if (rc < 0) {
            const char *why = err_get();
            bool unimpl = strstr(why, "unimplemented") || strstr(why, "not implemented");
            printf("  FAIL %s: engine %s: %s\n", f->name, unimpl ? "does not implement it" : "failed", why);
            if (unimpl)
                t->unimpl++;
            compare_print_case(f, &kase, o->seed, idx);
            return bad + 1;
        }
        if (compare_results(f, &kase, &nat, &emu, diffbuf, sizeof diffbuf)) {
            bad++;
            if (*details_left || o->has_case) {
                if (*details_left)
                    (*details_left)--;
                compare_print_case(f, &kase, o->seed, idx);
                printf("    end: native vector %d err %#x rip %" PRIx64 ", emu vector %d err %#x rip %" PRIx64 "\n",
                       nat.vector, nat.error_code, nat.st.rip, emu.vector, emu.error_code, emu.st.rip);
                fputs(diffbuf, stdout);
            }
        } else if (o->has_case) {
            compare_print_case(f, &kase, o->seed, idx);
            printf("    (no difference; native vector %d, rip %" PRIx64 ")\n", nat.vector, nat.st.rip);
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0);

    int rc = native_init();
    if (rc < 0) {
        fprintf(stderr, "diff-runner: cannot map the test region at %#llx: %s\n",
                (unsigned long long)DIFF_BASE, strerror(-rc));
        return 1;
    }
    if (o.self_check)
        return selfcheck_run() ? 1 : 0;

    struct totals all = { 0 };
    char failing[8192] = "";
    size_t flen = 0;
    bool any_group = false;
    for (size_t g = 0; g < sizeof tables / sizeof tables[0]; g++) {
        const struct diff_table *t = tables[g];
        if (o.group && strcmp(o.group, t->group))
            continue;
        any_group = true;
        size_t n = gen_expand(t, forms, MAX_FORMS);
        struct totals gt = { 0 };
        unsigned details_left = o.details;
        for (size_t i = 0; i < n; i++) {
            const struct diff_form *f = &forms[i];
            if (o.form && strcmp(o.form, f->name))
                continue;
            if (o.list) {
                printf("%-8s %s%s%s\n", t->group, f->name, f->excluded ? "  [excluded: " : "",
                       f->excluded ? f->excluded : "");
                continue;
            }
            if (f->excluded) {
                printf("  excluded %s: %s\n", f->name, f->excluded);
                gt.excluded++;
                continue;
            }
            gt.forms++;
            uint64_t bad = run_form(f, &o, &gt, &details_left);
            if (bad) {
                gt.mismatches += bad;
                gt.failing_forms++;
                int k = snprintf(failing + flen, sizeof failing - flen, "%s  %s [%" PRIu64 "]\n",
                                 t->group, f->name, bad);
                if (k > 0 && (size_t)k < sizeof failing - flen)
                    flen += (size_t)k;
            }
        }
        if (o.list || !gt.forms)
            continue;
        printf("group %-7s %4" PRIu64 " forms, %7" PRIu64 " cases, %5" PRIu64 " mismatches in %3" PRIu64
               " forms (%" PRIu64 " unimplemented), %" PRIu64 " excluded\n",
               t->group, gt.forms, gt.cases, gt.mismatches, gt.failing_forms, gt.unimpl, gt.excluded);
        all.forms += gt.forms, all.cases += gt.cases, all.mismatches += gt.mismatches;
        all.failing_forms += gt.failing_forms, all.unimpl += gt.unimpl, all.excluded += gt.excluded;
    }
    if (!any_group) {
        fprintf(stderr, "diff-runner: no group named '%s'\n", o.group);
        return 2;
    }
    if (o.list)
        return 0;
    if (flen)
        printf("failing forms (group, form, mismatching cases):\n%s", failing);
    if (!engine_available()) {
        printf("diff: %" PRIu64 " forms, %" PRIu64 " cases run natively only\n", all.forms, all.cases);
        printf("skipped: emu_flat_run is not in this build, nothing to compare against\n");
        return 77;
    }
    printf("diff: %" PRIu64 " forms, %" PRIu64 " cases, %" PRIu64 " mismatches (%" PRIu64
           " forms failing, %" PRIu64 " unimplemented, %" PRIu64 " excluded)\n",
           all.forms, all.cases, all.mismatches, all.failing_forms, all.unimpl, all.excluded);
    return all.mismatches ? 1 : 0;
}
