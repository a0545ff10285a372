/* A virtual machine: its configuration, memory, buses, devices and vCPUs.
 *
 * One struct vm holds all mutable state of one machine (no globals), so two
 * VMs can live in one process, as the tests do. */
#ifndef BRUME_VM_VM_H
#define BRUME_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "vm/bus.h"
#include "vm/machine.h"
#include "vm/memory.h"

struct io_loop;
struct vm_devices;
struct virtio_config;
struct virtio_devices;

enum console_kind { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE };

/* Everything `brume run` was asked for, already parsed and validated for
 * syntax. vm_create() validates the rest (files, sizes, limits). */
struct vm_config {
    const char *kernel_path;
    const char *initrd_path;    /* NULL: none */
    const char *cmdline;        /* the complete kernel command line */
    uint64_t mem_size;          /* bytes */
    int ncpus;
    enum accel_kind accel;
    enum console_kind console;
    const char *console_path;   /* for CONSOLE_FILE */
    const struct virtio_config *virtio; /* disks, NICs, ...; NULL for none */
};

/* Why the VM stopped. The first request wins. */
enum vm_stop_reason {
    VM_RUNNING = 0,
    VM_STOP_POWEROFF,      /* ACPI S5 */
    VM_STOP_RESET,         /* i8042 0xFE, ACPI reset register, ... */
    VM_STOP_TRIPLE_FAULT,
    VM_STOP_USER,          /* Ctrl-A x on the console */
    VM_STOP_ERROR,         /* engine or host failure */
};

struct vcpu {
    struct vm *vm;
    int index;                /* 0 is the bootstrap processor */
    pthread_t thread;
    void *accel_data;         /* owned by the engine */
    struct lapic *lapic;      /* emu engine only: the software local APIC */
};

struct vm {
    struct vm_config config;
    struct guest_memory mem;
    struct bus pio;
    struct bus mmio;

    const struct accel_ops *accel;
    char accel_choice[192];   /* one line: why this engine was chosen */
    bool accel_ready;         /* accel->vm_init succeeded */
    void *accel_data;         /* owned by the engine */
    int console_fd;           /* COM1 output, -1 for none */

    struct vcpu *vcpus;
    int ncpus;

    struct io_loop *loop;     /* back-end I/O thread */
    struct vm_devices *devices;
    struct virtio_devices *virtio;

    /* Stop handling: set once by vm_request_stop(). */
    _Atomic int stop_reason;  /* enum vm_stop_reason */
    char stop_message[256];
    pthread_mutex_t stop_lock;
    pthread_cond_t stopped;
};

/* Builds a VM from config: memory, engine, devices, kernel loaded, vCPUs
 * ready. Returns 0, or a negative errno with a one-line reason in err_get();
 * on failure everything built so far is released. */
int vm_create(struct vm *vm, const struct vm_config *config);

/* Starts every vCPU and the I/O loop, waits until the VM stops, joins them
 * and returns the reason. */
enum vm_stop_reason vm_run(struct vm *vm);

void vm_destroy(struct vm *vm);

/* Asks the VM to stop for reason (first caller wins) and kicks every vCPU.
 * message (printf format, may be NULL) explains errors and triple faults.
 * Called from any thread, including device callbacks on a vCPU thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline bool vm_stopping(const struct vm *vm)
{
    return atomic_load_explicit(&vm->stop_reason, memory_order_acquire) != VM_RUNNING;
}

/* Sets the level of an interrupt line (GSI). Edge-triggered sources call
 * vm_irq_pulse(). Called from any thread. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level);
void vm_irq_pulse(struct vm *vm, unsigned gsi);

/* Monotonic host time in nanoseconds: the clock behind every virtual timer
 * (PIT, local APIC timer, ACPI PM timer, the emu TSC). */
uint64_t vm_clock_ns(void);

#endif
