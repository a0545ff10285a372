/* brume: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fputs("usage: brume <command> [options]\n"
          "\n"
          "commands:\n"
          "  run    boot a virtual machine (brume run --help)\n"
          "  img    create, inspect and convert disk images (brume img --help)\n"
          "  accel  probe the engines and say which one --accel auto takes\n"
          "\n"
          "  --help     show this help\n"
          "  --version  show the version\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cli_run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "img") == 0)
        return cli_img_main(argc - 1, argv + 1);
    if (strcmp(cmd, "accel") == 0)
        return cli_accel_main(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("brume %s\n", BRUME_VERSION);
        return 0;
    }
    fprintf(stderr, "brume: unknown command '%s' (try brume --help)\n", cmd);
    return 2;
}
