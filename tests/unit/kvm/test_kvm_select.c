/* Engine selection: --accel parsing, the probe's answers for devices that
 * are missing or are not KVM, and accel_select's choice and explanation on
 * this host (with or without /dev/kvm). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "accel/accel.h"
#include "accel/kvm/kvm.h"
#include "util/log.h"

/* Until the emu engine is linked in, a stand-in with its identity: the
 * real one (a strong symbol in libbrume) replaces it when present. */
__attribute__((weak)) const struct accel_ops accel_emu_ops = {.name = "emu", .kind = ACCEL_EMU};

int main(void)
{
    enum accel_kind k = ACCEL_EMU;
    CHECK_EQ(accel_parse("kvm", &k), 0); CHECK_EQ(k, ACCEL_KVM);
    CHECK_EQ(accel_parse("emu", &k), 0); CHECK_EQ(k, ACCEL_EMU);
    CHECK_EQ(accel_parse("auto", &k), 0); CHECK_EQ(k, ACCEL_AUTO);
    CHECK_EQ(accel_parse("KVM", &k), -EINVAL);
    CHECK(strstr(err_get(), "'KVM' is not an engine") != NULL);
    CHECK_EQ(accel_parse("", &k), -EINVAL);
    CHECK_EQ(accel_parse("kvm ", &k), -EINVAL);
    CHECK_EQ(accel_parse(NULL, &k), -EINVAL);

    struct accel_probe p;
    CHECK_EQ(kvm_probe_path("/nonexistent/kvm", &p), 0);
    CHECK(!p.usable);
    CHECK(strcmp(p.reason, "no /nonexistent/kvm") == 0);
    CHECK_EQ(kvm_probe_path("/dev/null", &p), 0);
    CHECK(!p.usable);
    CHECK(strstr(p.reason, "/dev/null is not a KVM device") != NULL);

    const char *why = NULL;
    const struct accel_ops *ops = accel_select(ACCEL_EMU, &why, NULL);
    CHECK(ops == &accel_emu_ops);
    CHECK(why && strstr(why, "emu") != NULL);

    struct accel_probe here;
    accel_kvm_ops.probe(&here);
    ops = accel_select(ACCEL_AUTO, &why, NULL);
    CHECK(why != NULL);
    if (access("/dev/kvm", F_OK) != 0) {
        /* this machine: no KVM at all */
        CHECK(!here.usable);
        CHECK(ops == &accel_emu_ops);
        CHECK(why && strcmp(why, "auto: using emu (no /dev/kvm)") == 0);
        err_clear();
        CHECK(accel_select(ACCEL_KVM, &why, NULL) == NULL);
        CHECK(strcmp(err_get(), "--accel kvm: /dev/kvm is not usable: no /dev/kvm") == 0);
    } else {
        /* a host with /dev/kvm: auto follows the calibration */
        bool fast = here.usable && here.ns_per_insn < KVM_AUTO_MAX_NS_PER_INSN;
        printf("kvm probe: usable=%d ns/insn=%.2f max_cpus=%d (%s)\nselect: %s\n",
               here.usable, here.ns_per_insn, here.max_cpus, here.reason, why);
        CHECK(ops == (fast ? &accel_kvm_ops : &accel_emu_ops));
        CHECK(strncmp(why, fast ? "auto: using kvm" : "auto: using emu", 15) == 0);
        ops = accel_select(ACCEL_KVM, &why, NULL);
        CHECK(ops == (here.usable ? &accel_kvm_ops : NULL));
        if (here.usable)
            CHECK(here.max_cpus >= 1);
    }
    TEST_MAIN_END();
}
