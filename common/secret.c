/* Secrets from files (see secret.h). */
#include "common/secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"

#define SECRET_MAX 4096

char *secret_read(const char *path, char *err, size_t errlen)
{
	char buf[SECRET_MAX + 1];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > SECRET_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", path, SECRET_MAX);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	return xstrndup(buf, n);
}
