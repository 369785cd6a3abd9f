/* The broker's passwd file, passwords, the edit lock and reload (see identity_broker.h). */
#include "cli/identity_broker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BROKER_GROUP "mosquitto"

/* Root makes the broker's files: give them to the broker's group (no-op otherwise). */
static int give_to_broker(int fd, const char *path, char *err, size_t len)
{
	struct group *g;

	if (geteuid() != 0 || (g = getgrnam(BROKER_GROUP)) == NULL)
		return 0;
	if (fchown(fd, 0, g->gr_gid) != 0) {
		snprintf(err, len, "%s: chown to group %s: %s", path, BROKER_GROUP,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int broker_file_create(const char *path, int truncate, char *err, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);

	if (fd < 0) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* The umask may have narrowed it; group read is what the broker needs. */
	if (fchmod(fd, 0640) != 0) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (give_to_broker(fd, path, err, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int broker_lock(const char *dir, char *err, size_t len)
{
	char path[4096];
	int fd;

	if (mkdir(dir, 0750) == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && give_to_broker(fd, dir, err, len) != 0) {
			close(fd);
			return -1;
		}
		if (fd >= 0)
			close(fd);
	} else if (errno != EEXIST) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/.lock", dir) >= (int)sizeof(path)) {
		snprintf(err, len, "%s: path too long", dir);
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) != 0) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Runs mosquitto_passwd with args (argv[0] filled here), feeding input on its stdin; its
 * prompts go to /dev/null, its errors to our stderr. */
static int run_passwd_tool(char **args, const char *input, char *err, size_t len)
{
	const char *tool = getenv("MOSQUITTO_PASSWD") ? getenv("MOSQUITTO_PASSWD") : "mosquitto_passwd";
	int p[2], status;
	pid_t pid;

	args[0] = (char *)tool;
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		snprintf(err, len, "%s: %s", tool, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(p[0], 0);
		dup2(null, 1);
		close(p[0]);
		close(p[1]);
		execvp(tool, args);
		fprintf(stderr, "citylink: cannot run %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	close(p[0]);
	/* A broken pipe (the tool died early) must not kill us: its exit status says why. */
	signal(SIGPIPE, SIG_IGN);
	/* A short write shows as the tool failing on its missing input: its status says so. */
	if (input != NULL && write(p[1], input, strlen(input)) < 0)
		fprintf(stderr, "citylink: writing to %s: %s\n", tool, strerror(errno));
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, len, "%s %s failed (exit %d)", tool, args[1],
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

int broker_passwd_set(const char *passwd, const char *user, const char *password, char *err,
		      size_t len)
{
	char *args[] = {NULL, (char *)passwd, (char *)user, NULL};
	size_t n = strlen(password);
	char *input;
	int fd, rc;

	if (n == 0 || n > 512 || strpbrk(password, "\r\n") != NULL) {
		snprintf(err, len, "the password must be 1 to 512 bytes on one line");
		return -1;
	}
	/* Created here so its mode and group are ours; the tool rewrites it in place. */
	if ((fd = broker_file_create(passwd, 0, err, len)) < 0)
		return -1;
	close(fd);
	input = malloc(2 * n + 3);
	if (input == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	/* The tool asks twice ("Password:", "Reenter password:"). */
	snprintf(input, 2 * n + 3, "%s\n%s\n", password, password);
	rc = run_passwd_tool(args, input, err, len);
	explicit_bzero(input, 2 * n + 3);
	free(input);
	return rc;
}

int broker_passwd_delete(const char *passwd, const char *user, char *err, size_t len)
{
	char *args[] = {NULL, "-D", (char *)passwd, (char *)user, NULL};

	if (access(passwd, F_OK) != 0 && errno == ENOENT)
		return 0;
	return run_passwd_tool(args, NULL, err, len);
}

int broker_password_generate(char *buf, size_t buflen, char *err, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const size_t want = 32;
	size_t i = 0;
	FILE *f;

	if (buflen < want + 1) {
		snprintf(err, len, "password buffer too small");
		return -1;
	}
	if ((f = fopen("/dev/urandom", "r")) == NULL) {
		snprintf(err, len, "/dev/urandom: %s", strerror(errno));
		return -1;
	}
	while (i < want) {
		unsigned char c;
		if (fread(&c, 1, 1, f) != 1) {
			fclose(f);
			snprintf(err, len, "/dev/urandom: short read");
			return -1;
		}
		/* 248 = 4 * 62: rejecting the rest keeps every character equally likely. */
		if (c < 248)
			buf[i++] = alphabet[c % 62];
	}
	fclose(f);
	buf[i] = '\0';
	return 0;
}

int broker_reload(const char *pidfile, char *err, size_t len)
{
	FILE *f = fopen(pidfile, "r");
	long pid = 0;

	if (f == NULL) {
		snprintf(err, len, "%s: %s", pidfile, strerror(errno));
		return -1;
	}
	if (fscanf(f, "%9ld", &pid) != 1 || pid <= 1) {
		fclose(f);
		snprintf(err, len, "%s: no process id in it", pidfile);
		return -1;
	}
	fclose(f);
	if (kill((pid_t)pid, SIGHUP) != 0) {
		snprintf(err, len, "%s: kill -HUP %ld: %s", pidfile, pid, strerror(errno));
		return -1;
	}
	return 0;
}
