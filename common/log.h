/*
 * Daemon logging, one line per event with key=value fields, to stderr (journald keeps it).
 * log_warn adds strerror(errno); fatal and fatalx log and exit(1). Not thread-safe to
 * initialise; safe to call from any thread afterwards (one fprintf per line).
 */
#ifndef CITYLINK_LOG_H
#define CITYLINK_LOG_H

#include <stdarg.h>

/* Names the program in every line; debug enables log_debug. */
void log_init(const char *progname, int debug);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
