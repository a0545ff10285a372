#include <stdio.h>
#include "cli/cli.h"
int cli_img_main(int argc, char **argv) { (void)argc; (void)argv; fputs("brume: img: not yet implemented\n", stderr); return 1; }
