/*
 * The systemd notification protocol spoken directly on $NOTIFY_SOCKET (a Unix datagram
 * socket; a leading '@' names the abstract namespace), so the daemons need no libsystemd.
 * Without $NOTIFY_SOCKET (not under systemd) every call is a successful no-op.
 */
#ifndef CITYLINK_SD_NOTIFY_H
#define CITYLINK_SD_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1", "WATCHDOG=1", "STATUS=...", "STOPPING=1"; several may be joined
 * with newlines). Returns 0, or -1 with errno set. */
int sd_notify_send(const char *state);

/* The watchdog period systemd asks for ($WATCHDOG_USEC, for this process per
 * $WATCHDOG_PID), in microseconds; 0 when there is none. */
uint64_t sd_watchdog_usec(void);

#endif
