/* Daemon logging (see log.h). */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_name = "citylink";
static int log_debug_on;

void log_init(const char *progname, int debug)
{
	log_name = progname;
	log_debug_on = debug;
}

/* Formats the whole line first so that concurrent threads never interleave within it. */
static void vlog(const char *level, const char *err, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A message must stay one line: a newline inside would forge a second log entry. */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (err != NULL)
		fprintf(stderr, "%s: %s: %s error=\"%s\"\n", log_name, level, msg, err);
	else
		fprintf(stderr, "%s: %s: %s\n", log_name, level, msg);
}

#define LOG_BODY(level, err)                                                                \
	do {                                                                                \
		va_list ap;                                                                 \
		va_start(ap, fmt);                                                          \
		vlog(level, err, fmt, ap);                                                  \
		va_end(ap);                                                                 \
	} while (0)

void log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	LOG_BODY("warning", err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY("warning", NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY("info", NULL);
}

void log_debug(const char *fmt, ...)
{
	if (!log_debug_on)
		return;
	LOG_BODY("debug", NULL);
}

void fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);
	LOG_BODY("fatal", err);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", NULL);
	exit(1);
}
