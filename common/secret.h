/* Reading a secret (a password) from a file the config named: the whole file, without
 * its trailing newline. The config already refused files readable by group or others. */
#ifndef CITYLINK_SECRET_H
#define CITYLINK_SECRET_H

#include <stddef.h>

/* Returns the secret (caller frees with free()), or NULL with the reason in err. */
char *secret_read(const char *path, char *err, size_t errlen);

#endif
