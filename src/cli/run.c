#include <stdio.h>
#include "cli/cli.h"
int cli_run_main(int argc, char **argv) { (void)argc; (void)argv; fputs("brume: run: not yet implemented\n", stderr); return 1; }
