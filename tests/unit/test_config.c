/* The option table: file, flags, exact error strings, secrets, reload, help, garbage. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/config.h"
#include "test.h"

static const char *const levels[] = {"debug", "info", "warning", NULL};

static const struct config_def defs[] = {
	{"db", CONFIG_STRING, "dbname=citylink", 0, 0, NULL, 0, "PostgreSQL conninfo"},
	{"client_id", CONFIG_STRING, NULL, 0, 0, NULL, 0, "MQTT client id"},
	{"workers", CONFIG_INT, "4", 1, 64, NULL, 0, "normalizer threads"},
	{"offset", CONFIG_INT, "0", 0, 0, NULL, 1, "an unbounded integer"},
	{"flush_interval", CONFIG_DURATION, "2s", 10, 3600000, NULL, 1, "how often to commit"},
	{"spool_max", CONFIG_BYTES, "1GiB", 1 << 20, 1LL << 40, NULL, 0, "disk spool limit"},
	{"debug", CONFIG_BOOL, "false", 0, 0, NULL, 1, "log debug lines"},
	{"log_level", CONFIG_ENUM, "info", 0, 0, levels, 1, "least severe level logged"},
	{"db_password_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0, "database password"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* Unbounded, to test the forms alone. */
static const struct config_def unit_defs[] = {
	{"n", CONFIG_INT, NULL, 0, 0, NULL, 0, "a number"},
	{"size", CONFIG_BYTES, NULL, 0, 0, NULL, 0, "a size"},
	{"wait", CONFIG_DURATION, NULL, 0, 0, NULL, 0, "a duration"},
};

/* ---- helpers ---- */

static char joined[16384];

/* d's lines joined with '\n' into a static buffer ("" when none); clears d. */
static const char *join(struct norm_diags *d)
{
	size_t off = 0;

	joined[0] = '\0';
	for (size_t i = 0; i < d->n && off < sizeof(joined); i++) {
		int n = snprintf(joined + off, sizeof(joined) - off, "%s%s", i > 0 ? "\n" : "",
				 d->lines[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	diags_clear(d);
	return joined;
}

/* Loads len bytes as "t.conf" into a fresh config; returns every error ("" if none). */
static const char *file_errors_n(const char *text, size_t len)
{
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);
	int rc;

	if (c == NULL)
		return "config_create failed";
	rc = config_load_buffer(c, "t.conf", text, len, &d);
	config_free(c);
	if ((rc == 0) != (d.n == 0))
		return "return code does not match the errors";
	return join(&d);
}

static const char *file_errors(const char *text)
{
	return file_errors_n(text, strlen(text));
}

/* Parses the NULL-terminated args (a program name is put first); returns every error. */
static const char *flag_errors_in(const struct config_def *table, size_t n, const char **args)
{
	char *argv[32] = {"prog"};
	struct norm_diags d = {0};
	struct config_flags fl;
	struct config *c = config_create(table, n);
	int argc = 1, rc;

	while (args[argc - 1] != NULL && argc < 31) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	if (c == NULL)
		return "config_create failed";
	rc = config_parse_args(c, argc, argv, &fl, &d);
	config_free(c);
	if ((rc == 0) != (d.n == 0))
		return "return code does not match the errors";
	return join(&d);
}

#define FLAG_ERRORS(...) flag_errors_in(defs, NDEFS, (const char *[]){__VA_ARGS__, NULL})

/* Parses args into c (program name put first); returns the errors joined. */
static const char *parse_into(struct config *c, struct config_flags *fl, const char **args)
{
	char *argv[32] = {"prog"};
	struct norm_diags d = {0};
	int argc = 1;

	while (args[argc - 1] != NULL && argc < 31) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	config_parse_args(c, argc, argv, fl, &d);
	return join(&d);
}

#define PARSE(c, fl, ...) parse_into(c, fl, (const char *[]){__VA_ARGS__, NULL})

static char tmpdir[64];

static const char *make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/citylink-config-XXXXXX");
	return mkdtemp(tmpdir);
}

/* Writes text to dir/name with exactly mode; path gets the full name. 0 or -1. */
static int write_file(const char *name, const char *text, mode_t mode, char *path, size_t size)
{
	int fd, ok;

	snprintf(path, size, "%s/%s", tmpdir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text) && fchmod(fd, mode) == 0;
	close(fd);
	return ok ? 0 : -1;
}

static void remove_tmpdir(const char *const *names)
{
	char path[256];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, *names);
		unlink(path);
	}
	rmdir(tmpdir);
}

/* ---- defaults and values ---- */

static void defaults(void)
{
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT_STR_EQ(config_string(c, "db"), "dbname=citylink");
	ASSERT(config_string(c, "client_id") == NULL);
	ASSERT(!config_has(c, "client_id"));
	ASSERT(config_has(c, "db"));
	ASSERT_INT_EQ(config_int(c, "workers"), 4);
	ASSERT_INT_EQ(config_int(c, "flush_interval"), 2000);
	ASSERT_INT_EQ(config_int(c, "spool_max"), 1LL << 30);
	ASSERT_INT_EQ(config_bool(c, "debug"), 0);
	ASSERT_INT_EQ(config_enum(c, "log_level"), 1);
	ASSERT(config_string(c, "db_password_file") == NULL);
	for (size_t i = 0; i < NDEFS; i++) {
		ASSERT(!config_is_set(c, defs[i].name));
		ASSERT_STR_EQ(config_origin(c, defs[i].name), "default");
	}
	config_free(c);
	config_free(NULL);
}

static void file_values(void)
{
	const char *text = "# citylink-ingest\n"
			   "\n"
			   "db = \"host=/run/postgresql dbname=citylink\"   # the socket\n"
			   "  client_id\t=\t\"ingest#1\"\n"
			   "workers=16\n"
			   "flush_interval = 1.5s # a comment\n"
			   "spool_max = 256MiB   \r\n"
			   "debug = true\n"
			   "log_level = warning\n"
			   "offset = -12";
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT_INT_EQ(config_load_buffer(c, "t.conf", text, strlen(text), &d), 0);
	ASSERT_STR_EQ(join(&d), "");
	ASSERT_STR_EQ(config_string(c, "db"), "host=/run/postgresql dbname=citylink");
	ASSERT_STR_EQ(config_string(c, "client_id"), "ingest#1");
	ASSERT_INT_EQ(config_int(c, "workers"), 16);
	ASSERT_INT_EQ(config_int(c, "flush_interval"), 1500);
	ASSERT_INT_EQ(config_int(c, "spool_max"), 256LL << 20);
	ASSERT_INT_EQ(config_bool(c, "debug"), 1);
	ASSERT_INT_EQ(config_enum(c, "log_level"), 2);
	ASSERT_INT_EQ(config_int(c, "offset"), -12);
	ASSERT(config_is_set(c, "workers"));
	ASSERT_STR_EQ(config_origin(c, "db"), "t.conf:3");
	ASSERT_STR_EQ(config_origin(c, "spool_max"), "t.conf:7");
	ASSERT(!config_is_set(c, "db_password_file"));
	config_free(c);
}

static void quoting(void)
{
	const char *text = "db = \"a \\\"b\\\" c\\\\d\"\n"
			   "client_id = \"  padded # not a comment  \"  # a comment\n";
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT_INT_EQ(config_load_buffer(c, "t.conf", text, strlen(text), &d), 0);
	ASSERT_STR_EQ(join(&d), "");
	ASSERT_STR_EQ(config_string(c, "db"), "a \"b\" c\\d");
	ASSERT_STR_EQ(config_string(c, "client_id"), "  padded # not a comment  ");
	/* An empty string must be asked for: "" is a value, nothing is not. */
	ASSERT_INT_EQ(config_load_buffer(c, "u.conf", "db = \"\"", 7, &d), 0);
	ASSERT_STR_EQ(config_string(c, "db"), "");
	/* Unquoted: to the comment, trailing blanks off, inner quotes kept. */
	ASSERT_INT_EQ(config_load_buffer(c, "v.conf", "db = a \"b\" c  # x", 17, &d), 0);
	ASSERT_STR_EQ(config_string(c, "db"), "a \"b\" c");
	ASSERT_STR_EQ(join(&d), "");
	config_free(c);
}

/* Parses text as a flag for option name of unit_defs; returns its value, or -999. */
static long long unit_value(const char *name, const char *text)
{
	char arg[128];
	struct norm_diags d = {0};
	struct config_flags fl;
	struct config *c = config_create(unit_defs, 3);
	char *argv[] = {"prog", arg};
	long long v = -999;

	snprintf(arg, sizeof(arg), "--%s=%s", name, text);
	if (c != NULL && config_parse_args(c, 2, argv, &fl, &d) == 0)
		v = config_int(c, name);
	diags_clear(&d);
	config_free(c);
	return v;
}

static void sizes(void)
{
	ASSERT_INT_EQ(unit_value("size", "0"), 0);
	ASSERT_INT_EQ(unit_value("size", "512"), 512);
	ASSERT_INT_EQ(unit_value("size", "512B"), 512);
	ASSERT_INT_EQ(unit_value("size", "64k"), 65536);
	ASSERT_INT_EQ(unit_value("size", "64K"), 65536);
	ASSERT_INT_EQ(unit_value("size", "64KiB"), 65536);
	ASSERT_INT_EQ(unit_value("size", "256MiB"), 256LL << 20);
	ASSERT_INT_EQ(unit_value("size", "256M"), 256LL << 20);
	ASSERT_INT_EQ(unit_value("size", "1G"), 1LL << 30);
	ASSERT_INT_EQ(unit_value("size", "1 GiB"), 1LL << 30);
	ASSERT_INT_EQ(unit_value("size", "2T"), 2LL << 40);
	ASSERT_INT_EQ(unit_value("size", "8388607T"), 8388607LL << 40);
	const char *bad[] = {"", "G", "1.5G", "1GB", "1g", "1kb", "-1", "+1", "1 ", "1  G",
			     "1G ", " 1", "8388608T", "99999999999999999999", "1e3", NULL};
	for (size_t i = 0; bad[i] != NULL; i++)
		if (unit_value("size", bad[i]) != -999)
			TEST_FAIL_AT("size \"%s\" was accepted", bad[i]);
}

static void durations(void)
{
	ASSERT_INT_EQ(unit_value("wait", "5ms"), 5);
	ASSERT_INT_EQ(unit_value("wait", "2s"), 2000);
	ASSERT_INT_EQ(unit_value("wait", "10m"), 600000);
	ASSERT_INT_EQ(unit_value("wait", "1h"), 3600000);
	ASSERT_INT_EQ(unit_value("wait", "1d"), 86400000);
	ASSERT_INT_EQ(unit_value("wait", "1w"), 7 * 86400000LL);
	ASSERT_INT_EQ(unit_value("wait", "1.5h"), 5400000);
	ASSERT_INT_EQ(unit_value("wait", "0"), 0);
	ASSERT_INT_EQ(unit_value("wait", "0s"), 0);
	ASSERT_INT_EQ(unit_value("wait", "00.0ms"), 0);
	const char *bad[] = {"", "5", "5x", "-5s", "0x", "0.", "0.5ms", "s", "5 ms ", "1.h",
			     "0 q", "0.1", "0.0q", "9999999999999999999d", NULL};
	for (size_t i = 0; bad[i] != NULL; i++)
		if (unit_value("wait", bad[i]) != -999)
			TEST_FAIL_AT("duration \"%s\" was accepted", bad[i]);
}

static void integers(void)
{
	ASSERT_INT_EQ(unit_value("n", "42"), 42);
	ASSERT_INT_EQ(unit_value("n", "-7"), -7);
	ASSERT_INT_EQ(unit_value("n", "+7"), 7);
	ASSERT_INT_EQ(unit_value("n", "007"), 7);
	ASSERT_INT_EQ(unit_value("n", "9223372036854775807"), 9223372036854775807LL);
	ASSERT(unit_value("n", "-9223372036854775808") == -9223372036854775807LL - 1);
	const char *bad[] = {"", "-", "4.0", "0x10", " 4", "4 ", "1e3", "9223372036854775808",
			     "--4", "four", NULL};
	for (size_t i = 0; bad[i] != NULL; i++)
		if (unit_value("n", bad[i]) != -999)
			TEST_FAIL_AT("integer \"%s\" was accepted", bad[i]);
}

/* ---- flags ---- */

static void flags_override_file(void)
{
	char path[256];
	struct config_flags fl;
	struct config *c = NULL;

	ASSERT(make_tmpdir() != NULL);
	ASSERT_INT_EQ(write_file("c.conf", "workers = 8\ndebug = true\nlog_level = debug\n", 0600,
				 path, sizeof(path)),
		      0);
	/* --config last: it is still read first, the flags before it still win. */
	ASSERT((c = config_create(defs, NDEFS)) != NULL);
	ASSERT_STR_EQ(PARSE(c, &fl, "--workers", "16", "--no-debug", "--config", path), "");
	ASSERT_INT_EQ(config_int(c, "workers"), 16);
	ASSERT_INT_EQ(config_bool(c, "debug"), 0);
	ASSERT_INT_EQ(config_enum(c, "log_level"), 0);
	ASSERT_STR_EQ(config_origin(c, "workers"), "command line");
	ASSERT(strstr(config_origin(c, "log_level"), "c.conf:3") != NULL);
	ASSERT_STR_EQ(fl.config_path, path);
	ASSERT(!fl.check && !fl.help && !fl.version);
	config_free(c);
	/* --config first, = forms, and later flags win over earlier ones. */
	ASSERT((c = config_create(defs, NDEFS)) != NULL);
	ASSERT_STR_EQ(PARSE(c, &fl, "--config=", "--config", path, "--workers=2", "--workers=3",
			    "--debug=false", "--check"),
		      "--config: missing value");
	ASSERT_INT_EQ(config_int(c, "workers"), 3);
	ASSERT_INT_EQ(config_bool(c, "debug"), 0);
	ASSERT(fl.check);
	config_free(c);
	remove_tmpdir((const char *const[]){"c.conf", NULL});
}

static void flag_forms(void)
{
	struct config_flags fl;
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT_STR_EQ(PARSE(c, &fl, "--debug", "--spool-max", "64MiB", "--flush-interval=250ms",
			    "--log-level", "warning", "--db", "-x", "--help", "--version"),
		      "");
	ASSERT_INT_EQ(config_bool(c, "debug"), 1);
	ASSERT_INT_EQ(config_int(c, "spool_max"), 64LL << 20);
	ASSERT_INT_EQ(config_int(c, "flush_interval"), 250);
	ASSERT_INT_EQ(config_enum(c, "log_level"), 2);
	ASSERT_STR_EQ(config_string(c, "db"), "-x");
	ASSERT(fl.help && fl.version && !fl.check && fl.config_path == NULL);
	ASSERT_STR_EQ(PARSE(c, &fl, "--no-debug", "--db=--weird"), "");
	ASSERT_INT_EQ(config_bool(c, "debug"), 0);
	ASSERT_STR_EQ(config_string(c, "db"), "--weird");
	ASSERT(!fl.help);
	config_free(c);
}

static void flag_error_messages(void)
{
	ASSERT_STR_EQ(FLAG_ERRORS("--spool-max", "12q"),
		      "--spool-max: \"12q\" is not a size (e.g. 512MiB)");
	ASSERT_STR_EQ(FLAG_ERRORS("--spool-max=1k"), "--spool-max: 1k is below the minimum 1MiB");
	ASSERT_STR_EQ(FLAG_ERRORS("--spool-max=2T"), "--spool-max: 2T is above the maximum 1TiB");
	ASSERT_STR_EQ(FLAG_ERRORS("--spool-mx=1G"),
		      "--spool-mx: unknown option (did you mean \"--spool-max\"?)");
	ASSERT_STR_EQ(FLAG_ERRORS("--spool_max", "1G"),
		      "--spool_max: unknown option (did you mean \"--spool-max\"?)");
	ASSERT_STR_EQ(FLAG_ERRORS("--no-debgu"),
		      "--no-debgu: unknown option (did you mean \"--no-debug\"?)");
	ASSERT_STR_EQ(FLAG_ERRORS("--verison"),
		      "--verison: unknown option (did you mean \"--version\"?)");
	ASSERT_STR_EQ(FLAG_ERRORS("--no-workers"), "--no-workers: unknown option");
	ASSERT_STR_EQ(FLAG_ERRORS("--workers"), "--workers: missing value");
	ASSERT_STR_EQ(FLAG_ERRORS("--workers", "--debug"), "--workers: missing value");
	ASSERT_STR_EQ(FLAG_ERRORS("--workers", "0"), "--workers: 0 is below the minimum 1");
	ASSERT_STR_EQ(FLAG_ERRORS("--debug", "true"),
		      "true: unexpected argument (options start with --)");
	ASSERT_STR_EQ(FLAG_ERRORS("--debug=yes"), "--debug: \"yes\" is not true or false");
	ASSERT_STR_EQ(FLAG_ERRORS("--log-level=loud"),
		      "--log-level: \"loud\" is not one of: debug, info, warning");
	ASSERT_STR_EQ(FLAG_ERRORS("--no-debug=true"), "--no-debug: takes no value");
	ASSERT_STR_EQ(FLAG_ERRORS("--help=yes"), "--help: takes no value");
	ASSERT_STR_EQ(FLAG_ERRORS("--config"), "--config: missing value");
	ASSERT_STR_EQ(FLAG_ERRORS("-v"), "-v: unexpected argument (options start with --)");
	ASSERT_STR_EQ(FLAG_ERRORS("--"), "--: unexpected argument (options start with --)");
	ASSERT_STR_EQ(FLAG_ERRORS("--db=a\nb"), "--db: control character 0x0A in the value");
	ASSERT_STR_EQ(FLAG_ERRORS("--db=caf\xe9"), "--db: invalid UTF-8 in the value");
	ASSERT_STR_EQ(FLAG_ERRORS("--\x1b[2J=1"),
		      "--\\x1B[2J: unknown option");
	ASSERT_STR_EQ(FLAG_ERRORS("--config", "/nonexistent/citylink.conf"),
		      "/nonexistent/citylink.conf: No such file or directory");
	/* Everything at once, in order. */
	ASSERT_STR_EQ(FLAG_ERRORS("--workers=99", "--colour", "red", "stray", "--debug=1"),
		      "--workers: 99 is above the maximum 64\n"
		      "--colour: unknown option\n"
		      "stray: unexpected argument (options start with --)\n"
		      "--debug: \"1\" is not true or false");
}

static void config_given_twice(void)
{
	char path[256];

	ASSERT(make_tmpdir() != NULL);
	ASSERT_INT_EQ(write_file("a.conf", "workers = 5\n", 0600, path, sizeof(path)), 0);
	ASSERT_STR_EQ(FLAG_ERRORS("--config", path, "--config", path),
		      "--config: given more than once");
	remove_tmpdir((const char *const[]){"a.conf", NULL});
}

/* ---- file errors, each exactly ---- */

static void file_error_messages(void)
{
	ASSERT_STR_EQ(file_errors("spool_mx = 1G"),
		      "t.conf:1:1: unknown key \"spool_mx\" (did you mean \"spool_max\"?)");
	ASSERT_STR_EQ(file_errors("  wrokers = 1"),
		      "t.conf:1:3: unknown key \"wrokers\" (did you mean \"workers\"?)");
	ASSERT_STR_EQ(file_errors("colour = red"), "t.conf:1:1: unknown key \"colour\"");
	ASSERT_STR_EQ(file_errors("# x\n\ndb = a\n\ndb = b\n"),
		      "t.conf:5:1: duplicate key \"db\" (first set at line 3)");
	ASSERT_STR_EQ(file_errors("workers 4"), "t.conf:1:1: missing '=' after key \"workers\"");
	ASSERT_STR_EQ(file_errors("workers # = 4"),
		      "t.conf:1:1: missing '=' after key \"workers\"");
	ASSERT_STR_EQ(file_errors("  = 4"), "t.conf:1:3: empty key");
	ASSERT_STR_EQ(file_errors("db ="), "t.conf:1:1: missing value for \"db\"");
	ASSERT_STR_EQ(file_errors("db =   # nothing"), "t.conf:1:1: missing value for \"db\"");
	ASSERT_STR_EQ(file_errors("workers = four"),
		      "t.conf:1:11: workers: \"four\" is not an integer (e.g. 42)");
	ASSERT_STR_EQ(file_errors("offset = 99999999999999999999"),
		      "t.conf:1:10: offset: \"99999999999999999999\" is too large");
	ASSERT_STR_EQ(file_errors("flush_interval = 5x"),
		      "t.conf:1:18: flush_interval: \"5x\" is not a duration "
		      "(e.g. 500ms, 30s, 5m, 1h, 1d)");
	ASSERT_STR_EQ(file_errors("spool_max = 12q"),
		      "t.conf:1:13: spool_max: \"12q\" is not a size (e.g. 512MiB)");
	ASSERT_STR_EQ(file_errors("debug = yes"),
		      "t.conf:1:9: debug: \"yes\" is not true or false");
	ASSERT_STR_EQ(file_errors("log_level = \"loud\""),
		      "t.conf:1:13: log_level: \"loud\" is not one of: debug, info, warning");
	ASSERT_STR_EQ(file_errors("spool_max = 1k"),
		      "t.conf:1:13: spool_max: 1k is below the minimum 1MiB");
	ASSERT_STR_EQ(file_errors("workers = 65"),
		      "t.conf:1:11: workers: 65 is above the maximum 64");
	ASSERT_STR_EQ(file_errors("flush_interval = 5ms"),
		      "t.conf:1:18: flush_interval: 5ms is below the minimum 10ms");
	ASSERT_STR_EQ(file_errors("flush_interval = 2h"),
		      "t.conf:1:18: flush_interval: 2h is above the maximum 1h");
	ASSERT_STR_EQ(file_errors("db = \"abc"), "t.conf:1:6: unterminated quote");
	ASSERT_STR_EQ(file_errors("db = \"abc\\"), "t.conf:1:6: unterminated quote");
	ASSERT_STR_EQ(file_errors("db = \"a\\nb\""),
		      "t.conf:1:8: unknown escape in a quoted value (only \\\" and \\\\)");
	ASSERT_STR_EQ(file_errors("db = \"a\" b"),
		      "t.conf:1:10: unexpected text after the closing quote");
	ASSERT_STR_EQ(file_errors_n("db = a\0b", 8), "t.conf:1:7: NUL byte");
	ASSERT_STR_EQ(file_errors("# caf\xe9\n"), "t.conf:1:6: invalid UTF-8");
	ASSERT_STR_EQ(file_errors("db = \xed\xa0\x80"), "t.conf:1:6: invalid UTF-8");
	ASSERT_STR_EQ(file_errors("db = a\x1b[31m"), "t.conf:1:7: control character 0x1B");
	ASSERT_STR_EQ(file_errors("db = a\rb"), "t.conf:1:7: control character 0x0D");
	/* What a message quotes is escaped and cut: no terminal control through it. */
	ASSERT_STR_EQ(file_errors("log_level = \"a\\\"\tb\""),
		      "t.conf:1:13: log_level: \"a\\\"\\x09b\" is not one of: debug, info, warning");
}

static void line_length(void)
{
	static char text[4100];

	memset(text, 'x', sizeof(text));
	text[0] = '#';
	ASSERT_STR_EQ(file_errors_n(text, 4096), "");
	memcpy(text + 4096, "\r\n", 2); /* the CR is the line end, not part of the line */
	ASSERT_STR_EQ(file_errors_n(text, 4098), "");
	text[4096] = 'x';
	ASSERT_STR_EQ(file_errors_n(text, 4097), "t.conf:1:1: line is longer than 4096 bytes");
	ASSERT_STR_EQ(file_errors("\xef\xbb\xbf" "db = x\n"), ""); /* a BOM is skipped */
}

static void many_errors_together(void)
{
	const char *text = "db = fine\n"
			   "spool_mx = 1G\n"
			   "workers = 0\n"
			   "debug = on\n"
			   "db = again\n"
			   "log_level = \"info\n"
			   "= 5\n"
			   "flush_interval = 30s\n"
			   "spool_max = 12q\n";

	ASSERT_STR_EQ(file_errors(text),
		      "t.conf:2:1: unknown key \"spool_mx\" (did you mean \"spool_max\"?)\n"
		      "t.conf:3:11: workers: 0 is below the minimum 1\n"
		      "t.conf:4:9: debug: \"on\" is not true or false\n"
		      "t.conf:5:1: duplicate key \"db\" (first set at line 1)\n"
		      "t.conf:6:13: unterminated quote\n"
		      "t.conf:7:1: empty key\n"
		      "t.conf:9:13: spool_max: \"12q\" is not a size (e.g. 512MiB)");
}

static void unreadable_files(void)
{
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT_INT_EQ(config_load_file(c, "/nonexistent/citylink.conf", &d), -1);
	ASSERT_STR_EQ(join(&d), "/nonexistent/citylink.conf: No such file or directory");
	ASSERT_INT_EQ(config_load_file(c, "/", &d), -1);
	ASSERT_STR_EQ(join(&d), "/: Is a directory");
	config_free(c);
}

static void reads_a_file(void)
{
	char path[256], want[400];
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT(make_tmpdir() != NULL);
	ASSERT_INT_EQ(write_file("f.conf", "workers = 9\nworkers = 10\n", 0644, path, sizeof(path)),
		      0);
	ASSERT_INT_EQ(config_load_file(c, path, &d), -1);
	snprintf(want, sizeof(want), "%s:2:1: duplicate key \"workers\" (first set at line 1)",
		 path);
	ASSERT_STR_EQ(join(&d), want);
	ASSERT_INT_EQ(config_int(c, "workers"), 9);
	config_free(c);
	remove_tmpdir((const char *const[]){"f.conf", NULL});
}

/* ---- secrets ---- */

static void secret_files(void)
{
	char ok[256], loose[256], text[600], want[600];
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT(make_tmpdir() != NULL);
	ASSERT_INT_EQ(write_file("ok", "s3cret\n", 0600, ok, sizeof(ok)), 0);
	ASSERT_INT_EQ(write_file("loose", "s3cret\n", 0640, loose, sizeof(loose)), 0);

	snprintf(text, sizeof(text), "db_password_file = %s\n", ok);
	ASSERT_INT_EQ(config_load_buffer(c, "t.conf", text, strlen(text), &d), 0);
	ASSERT_STR_EQ(config_string(c, "db_password_file"), ok);

	snprintf(text, sizeof(text), "db_password_file = %s\n", loose);
	snprintf(want, sizeof(want),
		 "t.conf:1:20: db_password_file: %s: readable by group or others; chmod 600 it",
		 loose);
	ASSERT_STR_EQ(file_errors(text), want);

	snprintf(text, sizeof(text), "db_password_file = %s\n", tmpdir);
	snprintf(want, sizeof(want), "t.conf:1:20: db_password_file: %s: not a regular file",
		 tmpdir);
	ASSERT_STR_EQ(file_errors(text), want);

	snprintf(text, sizeof(text), "db_password_file = %s/none\n", tmpdir);
	snprintf(want, sizeof(want),
		 "t.conf:1:20: db_password_file: %s/none: No such file or directory", tmpdir);
	ASSERT_STR_EQ(file_errors(text), want);

	snprintf(text, sizeof(text), "--db-password-file=%s", loose);
	snprintf(want, sizeof(want),
		 "--db-password-file: %s: readable by group or others; chmod 600 it", loose);
	ASSERT_STR_EQ(FLAG_ERRORS(text), want);
	ASSERT_STR_EQ(file_errors("db_password_file = \"\""),
		      "t.conf:1:20: db_password_file: \"\" is not a file name");
	config_free(c);
	remove_tmpdir((const char *const[]){"ok", "loose", NULL});
}

/* A default secret is checked once parsing is done, unless something replaced it. */
static void secret_default(void)
{
	char loose[256], ok[256], arg[300], want[600];
	struct config_def table[] = {
		{"key_file", CONFIG_SECRET_FILE, loose, 0, 0, NULL, 0, "TLS key"},
	};

	ASSERT(make_tmpdir() != NULL);
	ASSERT_INT_EQ(write_file("loose", "k", 0604, loose, sizeof(loose)), 0);
	ASSERT_INT_EQ(write_file("ok", "k", 0400, ok, sizeof(ok)), 0);
	snprintf(want, sizeof(want),
		 "key_file: %s: readable by group or others; chmod 600 it (the default)", loose);
	ASSERT_STR_EQ(flag_errors_in(table, 1, (const char *[]){NULL}), want);
	snprintf(arg, sizeof(arg), "--key-file=%s", ok);
	ASSERT_STR_EQ(flag_errors_in(table, 1, (const char *[]){arg, NULL}), "");
	remove_tmpdir((const char *const[]){"ok", "loose", NULL});
}

/* ---- reload ---- */

static struct config *loaded(const char *name, const char *text)
{
	struct norm_diags d = {0};
	struct config *c = config_create(defs, NDEFS);

	if (c != NULL && config_load_buffer(c, name, text, strlen(text), &d) < 0) {
		config_free(c);
		c = NULL;
	}
	diags_clear(&d);
	return c;
}

static void reload_check(void)
{
	struct norm_diags d = {0};
	struct config *old = loaded("a.conf", "workers = 4\ndebug = false\nspool_max = 2G\n");
	struct config *same = loaded("b.conf", "debug = true\nworkers = 4\n\nspool_max = 2048M\n");
	struct config *neu = loaded("c.conf", "workers = 8\ndebug = true\nlog_level = debug\n"
					      "db = other\n");

	ASSERT(old != NULL && same != NULL && neu != NULL);
	ASSERT_INT_EQ(config_reload_check(old, same, &d), 0);
	ASSERT_STR_EQ(join(&d), "");
	ASSERT_INT_EQ(config_reload_check(old, neu, &d), -1);
	ASSERT_STR_EQ(join(&d), "c.conf:4: db cannot change on reload (restart the service)\n"
				"c.conf:1: workers cannot change on reload (restart the service)\n"
				"c.conf: spool_max cannot change on reload (restart the service)");
	config_free(old);
	config_free(same);
	config_free(neu);
}

/* ---- help and sample ---- */

static char *capture_usage(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (out == NULL)
		return NULL;
	config_usage(out, "citylink-ingest", defs, NDEFS);
	fclose(out);
	return buf;
}

static void usage(void)
{
	char *text = capture_usage(), flag[80];
	const char *want[] = {"Usage: citylink-ingest [--config FILE] [OPTION...]\n",
			      "  --config FILE ", "  --check ", "  --help ", "  --version ",
			      "  --spool-max SIZE            disk spool limit (default 1GiB)\n",
			      "  --[no-]debug                log debug lines (default false)\n",
			      "  --log-level debug|info|warning\n",
			      "  --db-password-file FILE     database password\n", NULL};

	ASSERT(text != NULL);
	for (size_t i = 0; want[i] != NULL; i++)
		if (strstr(text, want[i]) == NULL)
			TEST_FAIL_AT("usage lacks \"%s\":\n%s", want[i], text);
	for (size_t i = 0; i < NDEFS; i++) {
		size_t k;
		snprintf(flag, sizeof(flag), "--%s%s", defs[i].type == CONFIG_BOOL ? "[no-]" : "",
			 defs[i].name);
		for (k = 0; flag[k] != '\0'; k++)
			flag[k] = flag[k] == '_' ? '-' : flag[k];
		if (strstr(text, flag) == NULL || strstr(text, defs[i].help) == NULL)
			TEST_FAIL_AT("usage lacks %s:\n%s", flag, text);
	}
	free(text);
}

/* Uncomments "#key = value" lines (not "# help" lines). Changes text in place. */
static void uncomment(char *text)
{
	char *out = text;

	for (char *p = text; *p != '\0'; p++) {
		if (*p == '#' && (p == text || p[-1] == '\n') && p[1] >= 'a' && p[1] <= 'z')
			continue;
		*out++ = *p;
	}
	*out = '\0';
}

static void sample(void)
{
	static const struct config_def table[] = {
		{"motd", CONFIG_STRING, " hi # \"there\" \\ ", 0, 0, NULL, 0, "greeting"},
		{"workers", CONFIG_INT, "4", 1, 64, NULL, 0, "threads"},
		{"flush_interval", CONFIG_DURATION, "2s", 0, 0, NULL, 1, "commit period"},
		{"spool_max", CONFIG_BYTES, "1GiB", 0, 0, NULL, 0, "spool limit"},
		{"debug", CONFIG_BOOL, "true", 0, 0, NULL, 1, "debug lines"},
		{"log_level", CONFIG_ENUM, "warning", 0, 0, levels, 1, "level"},
	};
	char *buf = NULL, line[128];
	size_t len = 0;
	struct norm_diags d = {0};
	FILE *out = open_memstream(&buf, &len);
	struct config *c;

	ASSERT(out != NULL);
	ASSERT_INT_EQ(config_write_sample(out, defs, NDEFS), 0);
	fclose(out);
	for (size_t i = 0; i < NDEFS; i++) {
		snprintf(line, sizeof(line), "# %s\n#%s =", defs[i].help, defs[i].name);
		if (strstr(buf, line) == NULL)
			TEST_FAIL_AT("sample lacks \"%s\":\n%s", line, buf);
	}
	ASSERT(strstr(buf, "#spool_max = 1GiB\n") != NULL);
	ASSERT(strstr(buf, "#db_password_file =\n") != NULL);
	free(buf);
	/* Uncommented, a sample (every key with a default) reads back as the defaults. */
	ASSERT((out = open_memstream(&buf, &len)) != NULL);
	ASSERT_INT_EQ(config_write_sample(out, table, 6), 0);
	fclose(out);
	uncomment(buf);
	ASSERT((c = config_create(table, 6)) != NULL);
	ASSERT_INT_EQ(config_load_buffer(c, "sample.conf", buf, strlen(buf), &d), 0);
	ASSERT_STR_EQ(join(&d), "");
	ASSERT_STR_EQ(config_string(c, "motd"), " hi # \"there\" \\ ");
	ASSERT_INT_EQ(config_enum(c, "log_level"), 2);
	ASSERT(config_is_set(c, "motd") && config_is_set(c, "log_level"));
	config_free(c);
	free(buf);
}

/* ---- misuse ---- */

/* Runs fn in a child; true if it died of abort(). */
static int aborts(void (*fn)(struct config *), struct config *c)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		fn(c);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGABRT;
}

static void get_unknown(struct config *c)
{
	(void)config_int(c, "nope");
}

static void get_wrong_type(struct config *c)
{
	(void)config_int(c, "db");
}

static void get_wrong_bool(struct config *c)
{
	(void)config_bool(c, "workers");
}

static void bad_table(struct config *c)
{
	static const struct config_def table[] = {
		{"n", CONFIG_INT, "many", 0, 0, NULL, 0, "n"},
	};
	(void)c;
	config_free(config_create(table, 1));
}

static void misuse_aborts(void)
{
	struct config *c = config_create(defs, NDEFS);

	ASSERT(c != NULL);
	ASSERT(aborts(get_unknown, c));
	ASSERT(aborts(get_wrong_type, c));
	ASSERT(aborts(get_wrong_bool, c));
	ASSERT(aborts(bad_table, c));
	config_free(c);
}

/* ---- garbage in ---- */

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

/* Pieces a config is made of, and pieces that break one. */
static const char *const pieces[] = {
	"spool_max", "workers", "db", "debug", "log_level", "flush_interval", "db_password_file",
	"offset", "=", " = ", "\"", "\\", "\\\"", "#", " ", "\t", "\n", "\r\n", "\r", "1k", "12q",
	"256MiB", "1.5h", "0", "-", "true", "false", "info", "\xc3\xa9", "\xe2\x82", "\xff",
	"\xed\xa0\x80", "\xef\xbb\xbf", "/", "/tmp", "99999999999999999999", "spool_mx", "x",
};

static size_t fill_random(char *buf, size_t cap, int mode)
{
	size_t n = next_rand() % cap, len = 0;

	if (mode == 0) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)next_rand();
		return n;
	}
	while (len < n) {
		const char *p = pieces[next_rand() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t plen = strlen(p);
		if (next_rand() % 50 == 0) { /* a NUL now and then */
			p = "";
			plen = 1;
		}
		if (len + plen > cap)
			break;
		memcpy(buf + len, p, plen);
		len += plen;
	}
	return len;
}

static void fuzz_file_parser(void)
{
	static char buf[6000];

	for (int iter = 0; iter < 6000; iter++) {
		struct norm_diags d = {0};
		struct config *c = config_create(defs, NDEFS);
		size_t len = fill_random(buf, iter % 10 == 0 ? sizeof(buf) : 400, iter % 3 == 0);
		ASSERT(c != NULL);
		int rc = config_load_buffer(c, "fuzz.conf", buf, len, &d);
		ASSERT((rc == 0) == (d.n == 0 && d.dropped == 0));
		for (size_t i = 0; i < d.n; i++)
			ASSERT(strncmp(d.lines[i], "fuzz.conf:", 10) == 0 &&
			       strchr(d.lines[i], '\n') == NULL);
		diags_clear(&d);
		config_free(c);
	}
}

static void fuzz_flags(void)
{
	static char words[8][64];
	char *argv[9] = {"prog"};

	for (int iter = 0; iter < 3000; iter++) {
		struct norm_diags d = {0};
		struct config_flags fl;
		struct config *c = config_create(defs, NDEFS);
		int argc = 1 + (int)(next_rand() % 8);
		ASSERT(c != NULL);
		for (int i = 1; i < argc; i++) {
			size_t len = next_rand() % 2 ? 2 : 0;
			memcpy(words[i - 1], "--", len);
			len += fill_random(words[i - 1] + len, sizeof(words[0]) - len - 1, 1);
			words[i - 1][len] = '\0';
			argv[i] = words[i - 1];
		}
		config_parse_args(c, argc, argv, &fl, &d);
		for (size_t i = 0; i < d.n; i++)
			ASSERT(strchr(d.lines[i], '\n') == NULL);
		diags_clear(&d);
		config_free(c);
	}
}

static const struct test_case cases[] = {
	{"defaults", defaults},
	{"file_values", file_values},
	{"quoting", quoting},
	{"sizes", sizes},
	{"durations", durations},
	{"integers", integers},
	{"flags_override_file", flags_override_file},
	{"flag_forms", flag_forms},
	{"flag_error_messages", flag_error_messages},
	{"config_given_twice", config_given_twice},
	{"file_error_messages", file_error_messages},
	{"line_length", line_length},
	{"many_errors_together", many_errors_together},
	{"unreadable_files", unreadable_files},
	{"reads_a_file", reads_a_file},
	{"secret_files", secret_files},
	{"secret_default", secret_default},
	{"reload_check", reload_check},
	{"usage", usage},
	{"sample", sample},
	{"misuse_aborts", misuse_aborts},
	{"fuzz_file_parser", fuzz_file_parser},
	{"fuzz_flags", fuzz_flags},
	{NULL, NULL},
};

TEST_MAIN(cases)
