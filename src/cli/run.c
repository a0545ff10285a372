/* brume run: boot a virtual machine. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/console.h"
#include "util/log.h"
#include "util/size.h"
#include "virtio/options.h"
#include "vm/vm.h"

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1"
#define DEFAULT_MEM (512ull << 20)

static const char run_usage[] =
    "usage: brume run --kernel PATH [options]\n"
    "\n"
    "Boots a Linux kernel (bzImage or ELF64) in a new virtual machine.\n"
    "\n"
    "  --kernel PATH        kernel to boot (required)\n"
    "  --initrd PATH        initial ramdisk\n"
    "  --append CMDLINE     kernel command line (default: \"" DEFAULT_CMDLINE "\")\n"
    "  --mem SIZE           guest memory: 512M, 2G or bytes (default: 512M)\n"
    "  --cpus N             number of vCPUs (default: 1)\n"
    "  --accel ENGINE       kvm, emu or auto (default: auto)\n"
    "  --console KIND       stdio, none or file:PATH (default: stdio)\n"
    "  --disk PATH[,format=raw|qcow2|vmdk|vdi][,readonly=on][,iops=N][,bps=SIZE]\n"
    "                       a virtio-blk disk (repeatable; see docs/virtio.md)\n"
    "  --net user[,hostfwd=tcp:127.0.0.1:2222-:22][,mac=..][,bps=SIZE]\n"
    "  --net tap,ifname=NAME[,mac=..][,bps=SIZE]\n"
    "                       a virtio-net interface (repeatable; see docs/network.md)\n"
    "  --balloon SIZE       memory the host asks the guest to give back (virtio-balloon)\n"
    "  --virtio-console file:PATH|none   a second console (hvc0)\n"
    "  --virtio-rng on|off  virtio entropy source (default: on)\n"
    "  --help               show this help\n"
    "  --version            show the version\n"
    "\n"
    "On the console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
    "Exit status: 0 when the guest powers off or resets, 1 on a triple fault,\n"
    "an engine failure or a host error, 2 on bad options.\n";

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_MEM, OPT_CPUS, OPT_ACCEL,
       OPT_CONSOLE, OPT_DISK, OPT_NET, OPT_BALLOON, OPT_VCONSOLE, OPT_VRNG,
       OPT_HELP, OPT_VERSION };

static const struct option run_options[] = {
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "append", required_argument, NULL, OPT_APPEND },
    { "mem", required_argument, NULL, OPT_MEM },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "console", required_argument, NULL, OPT_CONSOLE },
    { "disk", required_argument, NULL, OPT_DISK },
    { "net", required_argument, NULL, OPT_NET },
    { "balloon", required_argument, NULL, OPT_BALLOON },
    { "virtio-console", required_argument, NULL, OPT_VCONSOLE },
    { "virtio-rng", required_argument, NULL, OPT_VRNG },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static int bad_option(const char *fmt, const char *arg)
{
    fputs("brume: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (try brume run --help)\n", stderr);
    return 2;
}

static int parse_console(const char *arg, struct vm_config *c)
{
    if (strcmp(arg, "stdio") == 0)
        c->console = CONSOLE_STDIO;
    else if (strcmp(arg, "none") == 0)
        c->console = CONSOLE_NONE;
    else if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
        c->console = CONSOLE_FILE;
        c->console_path = arg + 5;
    } else
        return -1;
    return 0;
}

static int parse_cpus(const char *arg, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (errno || *end || end == arg || n < 0 || n > INT_MAX)
        return -1;
    *out = (int)n;
    return 0;
}

/* A virtio option's parser left its one-line reason in err_get(). */
static int bad_virtio_option(void)
{
    fprintf(stderr, "brume: %s (try brume run --help)\n", err_get());
    return 2;
}

/* Parses argv into c (and its devices into v). Returns -1 to go on, or an
 * exit status. */
static int parse_args(int argc, char **argv, struct vm_config *c, struct virtio_config *v)
{
    *c = (struct vm_config){ .mem_size = DEFAULT_MEM, .ncpus = 1, .accel = ACCEL_AUTO,
                             .console = CONSOLE_STDIO, .cmdline = DEFAULT_CMDLINE };
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", run_options, NULL)) != -1) {
        switch (opt) {
        case OPT_KERNEL: c->kernel_path = optarg; break;
        case OPT_INITRD: c->initrd_path = optarg; break;
        case OPT_APPEND: c->cmdline = optarg; break;
        case OPT_MEM:
            if (size_parse(optarg, &c->mem_size) < 0)
                return bad_option("--mem: '%s' is not a size (use e.g. 512M, 2G or bytes)", optarg);
            break;
        case OPT_CPUS:
            if (parse_cpus(optarg, &c->ncpus) < 0)
                return bad_option("--cpus: '%s' is not a number", optarg);
            break;
        case OPT_ACCEL:
            if (accel_parse(optarg, &c->accel) < 0)
                return bad_option("--accel: unknown engine '%s' (kvm, emu or auto)", optarg);
            break;
        case OPT_CONSOLE:
            if (parse_console(optarg, c) < 0)
                return bad_option("--console: '%s' is not stdio, none or file:PATH", optarg);
            break;
        case OPT_DISK:
            if (virtio_parse_disk(v, optarg) < 0)
                return bad_virtio_option();
            break;
        case OPT_NET:
            if (virtio_parse_net(v, optarg) < 0)
                return bad_virtio_option();
            break;
        case OPT_BALLOON:
            if (virtio_parse_balloon(v, optarg) < 0)
                return bad_virtio_option();
            break;
        case OPT_VCONSOLE:
            if (virtio_parse_console(v, optarg) < 0)
                return bad_virtio_option();
            break;
        case OPT_VRNG:
            if (virtio_parse_rng(v, optarg) < 0)
                return bad_virtio_option();
            break;
        case OPT_HELP:
            fputs(run_usage, stdout);
            return 0;
        case OPT_VERSION:
            printf("brume %s\n", BRUME_VERSION);
            return 0;
        case ':':
            return bad_option("%s needs a value", argv[optind - 1]);
        default:
            return bad_option("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_option("unexpected argument '%s'", argv[optind]);
    if (!c->kernel_path)
        return bad_option("%s", "--kernel PATH is required");
    return -1;
}

int cli_run_main(int argc, char **argv)
{
    struct vm_config config;
    struct virtio_config devices;
    virtio_config_init(&devices);
    int status = parse_args(argc, argv, &config, &devices);
    if (status >= 0) {
        virtio_config_free(&devices);
        return status;
    }
    config.virtio = &devices;

    static struct vm vm; /* large: keep it off the stack */
    if (vm_create(&vm, &config) < 0) {
        fprintf(stderr, "brume: %s\n", err_get()[0] ? err_get() : "cannot create the VM");
        virtio_config_free(&devices);
        return 1;
    }
    if (config.accel == ACCEL_AUTO)
        fprintf(stderr, "brume: %s\n", vm.accel_choice);
    if (console_attach(&vm) < 0) {
        fprintf(stderr, "brume: console: %s\n", err_get());
        vm_destroy(&vm);
        virtio_config_free(&devices);
        return 1;
    }

    enum vm_stop_reason reason = vm_run(&vm);
    console_restore();
    switch (reason) {
    case VM_STOP_POWEROFF:
    case VM_STOP_RESET:
    case VM_STOP_USER:
        status = 0;
        break;
    case VM_STOP_TRIPLE_FAULT:
        fprintf(stderr, "brume: guest triple fault: %s\n", vm.stop_message);
        status = 1;
        break;
    default:
        fprintf(stderr, "brume: %s\n", vm.stop_message[0] ? vm.stop_message : "the VM failed");
        status = 1;
        break;
    }
    vm_destroy(&vm);
    virtio_config_free(&devices);
    return status;
}
