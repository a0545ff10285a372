/* VM lifecycle: build the machine from a config, run its vCPUs, tear down. */
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "boot/boot.h"
#include "hw/devices.h"
#include "util/log.h"
#include "virtio/options.h"
#include "vm/loop.h"
#include "vm/vcpu.h"

/* Refuses --mem sizes the host could never back. Guest RAM is mapped with
 * MAP_NORESERVE, so this is the one place that says "too large" clearly,
 * before the guest runs out of host memory half-way through its boot. */
static int check_host_memory(uint64_t mem_size)
{
    struct sysinfo si;
    if (sysinfo(&si) < 0)
        return 0;
    uint64_t host = ((uint64_t)si.totalram + (uint64_t)si.totalswap) * si.mem_unit;
    if (mem_size > host)
        return err_set(-ENOMEM, "--mem: %llu MiB is more than this host has (%llu MiB of RAM and swap)",
                       (unsigned long long)(mem_size >> 20), (unsigned long long)(host >> 20));
    return 0;
}

static int open_console(const struct vm_config *c)
{
    switch (c->console) {
    case CONSOLE_STDIO:
        return STDOUT_FILENO;
    case CONSOLE_FILE: {
        int fd = open(c->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return err_set(-errno, "--console file:%s: %s", c->console_path, strerror(errno));
        return fd;
    }
    case CONSOLE_NONE:
    default:
        return -1;
    }
}

int vm_create(struct vm *vm, const struct vm_config *config)
{
    memset(vm, 0, sizeof(*vm));
    vm->config = *config;
    vm->console_fd = -1;
    pthread_mutex_init(&vm->stop_lock, NULL);
    pthread_cond_init(&vm->stopped, NULL);

    const char *why = NULL;
    struct accel_probe probe = { 0 };
    vm->accel = accel_select(config->accel, &why, &probe);
    if (!vm->accel)
        return -ENODEV;
    snprintf(vm->accel_choice, sizeof(vm->accel_choice), "%s", why ? why : vm->accel->name);

    int max_cpus = probe.max_cpus > 0 && probe.max_cpus < MACHINE_MAX_CPUS ? probe.max_cpus
                                                                           : MACHINE_MAX_CPUS;
    if (config->ncpus < 1 || config->ncpus > max_cpus)
        return err_set(-EINVAL, "--cpus: %d is out of range (1 to %d on the %s engine)",
                       config->ncpus, max_cpus, vm->accel->name);

    int rc = check_host_memory(config->mem_size);
    if (rc < 0)
        return rc;
    rc = guest_memory_init(&vm->mem, config->mem_size);
    if (rc < 0)
        goto fail;
    rc = vm->accel->vm_init(vm);
    if (rc < 0)
        goto fail;
    vm->accel_ready = true;
    rc = loop_create(&vm->loop);
    if (rc < 0)
        goto fail;

    vm->vcpus = calloc((size_t)config->ncpus, sizeof(*vm->vcpus));
    if (!vm->vcpus) {
        rc = err_set(-ENOMEM, "out of memory for %d vCPUs", config->ncpus);
        goto fail;
    }
    for (int i = 0; i < config->ncpus; i++) {
        vm->vcpus[i].vm = vm;
        vm->vcpus[i].index = i;
    }

    rc = open_console(config);
    if (rc < 0 && config->console != CONSOLE_NONE)
        goto fail;
    vm->console_fd = rc;
    /* Devices before vCPUs: the emu engine's local APICs look up the PIC. */
    rc = hw_create(vm, vm->console_fd);
    if (rc < 0)
        goto fail;
    /* Before boot_linux(): the DSDT describes the virtio devices it finds. */
    if (config->virtio) {
        rc = virtio_devices_create(vm, config->virtio, &vm->virtio, NULL, 0);
        if (rc < 0)
            goto fail;
    }

    for (int i = 0; i < config->ncpus; i++) {
        rc = vm->accel->vcpu_init(&vm->vcpus[i]);
        if (rc < 0)
            goto fail;
        vm->ncpus = i + 1;
    }

    /* Start from each engine's own state: it carries the local APIC page
     * (with the APIC ID) that neither the boot code nor the AP reset
     * state sets. */
    struct cpu_state state;
    for (int i = 0; i < vm->ncpus; i++) {
        rc = vm->accel->vcpu_get_state(&vm->vcpus[i], &state);
        if (rc < 0)
            goto fail;
        if (i == 0)
            rc = boot_linux(vm, &state);
        else
            cpu_state_init_ap(&state, i);
        if (rc < 0)
            goto fail;
        rc = vm->accel->vcpu_set_state(&vm->vcpus[i], &state);
        if (rc < 0)
            goto fail;
    }
    return 0;

fail:
    vm_destroy(vm);
    return rc < 0 ? rc : -EINVAL;
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *cpu = arg;
    struct vm *vm = cpu->vm;
    int exit = vm->accel->vcpu_run(cpu);
    if (exit == VCPU_EXIT_ERROR)
        vm_request_stop(vm, VM_STOP_ERROR, "%s engine, vCPU %d: %s", vm->accel->name,
                        cpu->index, err_get()[0] ? err_get() : "failed");
    return NULL;
}

enum vm_stop_reason vm_run(struct vm *vm)
{
    int rc = loop_start(vm->loop);
    if (rc < 0) {
        vm_request_stop(vm, VM_STOP_ERROR, "%s", err_get());
        return VM_STOP_ERROR;
    }
    int started = 0;
    for (; started < vm->ncpus; started++) {
        rc = pthread_create(&vm->vcpus[started].thread, NULL, vcpu_thread, &vm->vcpus[started]);
        if (rc) {
            vm_request_stop(vm, VM_STOP_ERROR, "cannot start vCPU thread: %s", strerror(rc));
            break;
        }
    }
    pthread_mutex_lock(&vm->stop_lock);
    while (!vm_stopping(vm))
        pthread_cond_wait(&vm->stopped, &vm->stop_lock);
    pthread_mutex_unlock(&vm->stop_lock);
    for (int i = 0; i < started; i++)
        pthread_join(vm->vcpus[i].thread, NULL);
    loop_stop(vm->loop);
    return (enum vm_stop_reason)atomic_load(&vm->stop_reason);
}

void vm_destroy(struct vm *vm)
{
    if (vm->loop)
        loop_stop(vm->loop);
    for (int i = 0; i < vm->ncpus; i++)
        if (vm->accel->vcpu_destroy)
            vm->accel->vcpu_destroy(&vm->vcpus[i]);
    vm->ncpus = 0;
    virtio_devices_destroy(vm->virtio);  /* needs the loop and guest memory */
    vm->virtio = NULL;
    hw_destroy(vm);
    if (vm->loop) {
        loop_destroy(vm->loop);
        vm->loop = NULL;
    }
    if (vm->accel_ready && vm->accel->vm_destroy)
        vm->accel->vm_destroy(vm);
    vm->accel_ready = false;
    free(vm->vcpus);
    vm->vcpus = NULL;
    guest_memory_destroy(&vm->mem);
    bus_destroy(&vm->pio);
    bus_destroy(&vm->mmio);
    if (vm->console_fd > STDERR_FILENO)
        close(vm->console_fd);
    vm->console_fd = -1;
}
