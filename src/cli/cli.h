/* Subcommands of the brume executable. Each returns the process exit
 * status; only code under src/cli prints errors and exits. */
#ifndef BRUME_CLI_CLI_H
#define BRUME_CLI_CLI_H

int cli_run_main(int argc, char **argv);  /* brume run ... */
int cli_img_main(int argc, char **argv);  /* brume img ... */
int cli_accel_main(int argc, char **argv);  /* brume accel */

#endif
