/* Log lines: one per event, program and level named, errno text added by log_warn. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "test.h"

/* Runs fn with stderr sent to a file and returns what it wrote (static buffer). */
static const char *capture(void (*fn)(void))
{
	static char out[1024];
	char path[64];
	snprintf(path, sizeof(path), "/tmp/citylink-log-%d", (int)getpid());
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	if (saved < 0 || f == NULL)
		return "";
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	return out;
}

static void write_info(void)
{
	log_info("stored rows=%d table=%s", 42, "std_air_quality");
}

static void write_warn(void)
{
	errno = ENOENT;
	log_warn("cannot open spool=%s", "/var/lib/x");
}

static void write_forged(void)
{
	log_warnx("topic=%s", "a\nfake: info: forged");
}

static void write_debug(void)
{
	log_debug("hidden");
}

static void lines(void)
{
	log_init("citylink-test", 0);
	ASSERT_STR_EQ(capture(write_info), "citylink-test: info: stored rows=42 table=std_air_quality\n");
	ASSERT_STR_EQ(capture(write_warn),
		      "citylink-test: warning: cannot open spool=/var/lib/x error=\"No such file or directory\"\n");
	ASSERT_STR_EQ(capture(write_forged), "citylink-test: warning: topic=a fake: info: forged\n");
	ASSERT_STR_EQ(capture(write_debug), "");
	log_init("citylink-test", 1);
	ASSERT_STR_EQ(capture(write_debug), "citylink-test: debug: hidden\n");
}

static const struct test_case cases[] = {
	{"lines", lines},
	{NULL, NULL},
};

TEST_MAIN(cases)
