/*
 * What `citylink device|staff|service` does to the broker's files besides the registry:
 * the passwd file (through mosquitto_passwd, the password on its stdin, never in argv),
 * generated passwords, a lock against concurrent edits, and the reload signal.
 * Every function returns 0 (or an fd), or -1 with the reason in err.
 */
#ifndef CITYLINK_IDENTITY_BROKER_H
#define CITYLINK_IDENTITY_BROKER_H

#include <stddef.h>

/* Opens path for writing, created with mode 0640 (truncated if truncate, else created
 * only if missing) and, when run as root, group mosquitto so the broker can read it
 * while nobody else can. Returns the fd (caller closes). */
int broker_file_create(const char *path, int truncate, char *err, size_t len);

/* Creates dir (0750, group mosquitto as above) if missing and takes an exclusive lock on
 * dir/.lock, held until the returned fd is closed. */
int broker_lock(const char *dir, char *err, size_t len);

/* Sets user's password in the passwd file (created if missing) with mosquitto_passwd
 * (PBKDF2-SHA512). */
int broker_passwd_set(const char *passwd, const char *user, const char *password, char *err,
		      size_t len);

/* Deletes user from the passwd file; a user who is not there is not an error. */
int broker_passwd_delete(const char *passwd, const char *user, char *err, size_t len);

/* A random password of 32 characters from [A-Za-z0-9] (190 bits) into buf (len >= 33). */
int broker_password_generate(char *buf, size_t buflen, char *err, size_t len);

/* Sends SIGHUP to the pid in pidfile (Mosquitto re-reads passwd and acl on it). */
int broker_reload(const char *pidfile, char *err, size_t len);

#endif
