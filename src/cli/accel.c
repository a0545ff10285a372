/* brume accel: what each engine can do on this host, and which one
 * `--accel auto` would take: the same probes `brume run` uses, without a
 * VM. Scripts use it to tell a KVM that runs guests at hardware speed from
 * one that is emulated (nested under an emulator), where a stock Linux
 * kernel cannot boot. */
#include <stdio.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/kvm/kvm.h"
#include "cli/cli.h"

static void print_probe(const char *name, const struct accel_probe *p)
{
    if (!p->usable) {
        printf("%s: not usable: %s\n", name, p->reason);
        return;
    }
    if (p->ns_per_insn > 0) {
        char cost[32];
        kvm_format_ns(p->ns_per_insn, cost, sizeof cost);
        printf("%s: usable, %s per guest instruction, up to %d vCPUs\n", name, cost, p->max_cpus);
    } else {
        printf("%s: usable, up to %d vCPUs\n", name, p->max_cpus);
    }
}

int cli_accel_main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            puts("usage: brume accel\n"
                 "\n"
                 "Probes the engines (kvm: /dev/kvm with a short timed guest loop;\n"
                 "emu: brume's own x86-64 engine) and prints one line each, then the\n"
                 "line `auto: using ENGINE (why)` that `brume run --accel auto` would\n"
                 "print.");
            return 0;
        }
        fprintf(stderr, "brume: accel: unexpected argument '%s' (try brume accel --help)\n", argv[1]);
        return 2;
    }
    struct accel_probe kvm = {0}, emu = {0};
    accel_kvm_ops.probe(&kvm);
    accel_emu_ops.probe(&emu);
    print_probe("kvm", &kvm);
    print_probe("emu", &emu);
    char why[200];
    kvm_auto_verdict(&kvm, why, sizeof why);
    puts(why);
    return 0;
}
