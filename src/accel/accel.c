/* Engine selection: --accel kvm | emu | auto.
 *
 * kvm is used when asked for and usable; emu always works. auto takes kvm
 * only when the calibration in kvm's probe shows guest code running at
 * hardware speed: a /dev/kvm that is itself emulated (nested KVM under an
 * emulator, microseconds per instruction) loses to brume's own engine. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/kvm/kvm.h"
#include "util/log.h"

/* The one-line explanation handed back in *why. Per thread, like
 * err_get(): it is the answer to this thread's last question. */
static _Thread_local char why_buf[200];

const struct accel_ops *accel_select(enum accel_kind kind, const char **why,
                                     struct accel_probe *chosen)
{
    struct accel_probe probe = { 0 };
    const struct accel_ops *ops = NULL;

    switch (kind) {
    case ACCEL_EMU:
        snprintf(why_buf, sizeof why_buf, "emu: brume's x86-64 engine (--accel emu)");
        ops = &accel_emu_ops;
        break;
    case ACCEL_KVM:
        accel_kvm_ops.probe(&probe);
        if (!probe.usable) {
            err_set(-ENODEV, "--accel kvm: /dev/kvm is not usable: %s", probe.reason);
            why_buf[0] = '\0';
            break;
        }
        snprintf(why_buf, sizeof why_buf, "kvm: %s", probe.reason);
        ops = &accel_kvm_ops;
        break;
    case ACCEL_AUTO:
        accel_kvm_ops.probe(&probe);
        ops = kvm_auto_verdict(&probe, why_buf, sizeof why_buf) ? &accel_kvm_ops : &accel_emu_ops;
        break;
    default:
        err_set(-EINVAL, "unknown engine kind %d", (int)kind);
        why_buf[0] = '\0';
        break;
    }
    if (why)
        *why = why_buf;
    if (chosen && ops) {
        /* The kvm probe already ran; emu's costs nothing. */
        if (ops == &accel_emu_ops)
            ops->probe(&probe);
        *chosen = probe;
    }
    return ops;
}

static const struct {
    const char *name;
    enum accel_kind kind;
} accel_names[] = {
    {"auto", ACCEL_AUTO},
    {"kvm", ACCEL_KVM},
    {"emu", ACCEL_EMU},
};

int accel_parse(const char *text, enum accel_kind *out)
{
    for (size_t i = 0; text && i < sizeof accel_names / sizeof accel_names[0]; i++) {
        if (strcmp(text, accel_names[i].name) == 0) {
            *out = accel_names[i].kind;
            return 0;
        }
    }
    return err_set(-EINVAL, "--accel: '%s' is not an engine (kvm, emu or auto)", text ? text : "");
}
