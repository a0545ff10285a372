/* VM-wide events that devices and engines raise from any thread: stop
 * requests and interrupt lines. Kept apart from the VM lifecycle (vm.c) so
 * device unit tests can link them without the whole machine. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "vm/vm.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *fmt, ...)
{
    pthread_mutex_lock(&vm->stop_lock);
    if (atomic_load(&vm->stop_reason) == VM_RUNNING) {
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(vm->stop_message, sizeof(vm->stop_message), fmt, ap);
            va_end(ap);
        } else {
            vm->stop_message[0] = '\0';
        }
        atomic_store(&vm->stop_reason, (int)reason);
        pthread_cond_broadcast(&vm->stopped);
    }
    pthread_mutex_unlock(&vm->stop_lock);
    /* Kick outside the lock: an engine's kick may take its own locks. */
    if (vm->accel && vm->accel->vcpu_kick)
        for (int i = 0; i < vm->ncpus; i++)
            vm->accel->vcpu_kick(&vm->vcpus[i]);
}

void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
    vm->accel->irq_line(vm, gsi, level);
}

void vm_irq_pulse(struct vm *vm, unsigned gsi)
{
    vm->accel->irq_line(vm, gsi, 1);
    vm->accel->irq_line(vm, gsi, 0);
}

uint64_t vm_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
