/* sd_notify against a socket of our own, as systemd would hold it. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sd_notify.h"
#include "test.h"

static int listen_at(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	return fd;
}

static void sends_states(void)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/tmp/citylink-notify-%d", (int)getpid());
	int fd = listen_at(path);
	ASSERT(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	ASSERT_INT_EQ(sd_notify_send("READY=1\nSTATUS=stored=5"), 0);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	ASSERT(n > 0);
	buf[n] = '\0';
	ASSERT_STR_EQ(buf, "READY=1\nSTATUS=stored=5");
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void abstract_namespace(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char name[64], buf[64];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(name, sizeof(name), "@citylink-test-%d", (int)getpid());
	memcpy(addr.sun_path + 1, name + 1, strlen(name) - 1);
	ASSERT(fd >= 0);
	ASSERT_INT_EQ(bind(fd, (struct sockaddr *)&addr,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	ASSERT_INT_EQ(sd_notify_send("WATCHDOG=1"), 0);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	ASSERT(n == 10);
	buf[n] = '\0';
	ASSERT_STR_EQ(buf, "WATCHDOG=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void absent_socket_is_a_no_op(void)
{
	unsetenv("NOTIFY_SOCKET");
	ASSERT_INT_EQ(sd_notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ASSERT_INT_EQ(sd_notify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void watchdog_period(void)
{
	char pid[32];
	unsetenv("WATCHDOG_USEC");
	ASSERT_INT_EQ(sd_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ASSERT_INT_EQ(sd_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", "1", 1);
	ASSERT_INT_EQ(sd_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static const struct test_case cases[] = {
	{"sends_states", sends_states},
	{"abstract_namespace", abstract_namespace},
	{"absent_socket_is_a_no_op", absent_socket_is_a_no_op},
	{"watchdog_period", watchdog_period},
	{NULL, NULL},
};

TEST_MAIN(cases)
