/* The citylink tool's subcommands: each takes the arguments after its name and returns
 * the process exit status (0 ok, 1 the input was refused, 2 usage or I/O error). */
#ifndef CITYLINK_COMMANDS_H
#define CITYLINK_COMMANDS_H

#include <stdio.h>

#include "normalizer/schema.h"

int cmd_schema(int argc, char **argv);
int cmd_normalize(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_rejects(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_rules(int argc, char **argv);

/* Loads a schema directory, printing every problem to stderr; NULL if it is refused. */
struct norm_schema *cli_load_schemas(const char *dir);

/* The vendor guide ("linkage standard guideline") in Markdown or HTML. 0 or -1 on a write
 * error or a generated example that does not normalize (a bug: reported on stderr). */
enum guide_format { GUIDE_MD, GUIDE_HTML };
int guide_write(FILE *out, const struct norm_schema *s, enum guide_format fmt);

#endif
