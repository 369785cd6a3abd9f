/*
 * Configuration from a table of options (see config.h): the file parser, the flag
 * parser, generated help and sample, and the reload check. Every problem is reported
 * and parsing goes on, so that one run shows them all.
 */
#include "common/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "normalizer/json_strict.h"
#include "normalizer/timefmt.h"

#define CONF_LINE_MAX 4096      /* bytes in one line, end of line excluded */
#define CONF_FILE_MAX (1 << 20) /* a config is a page of text: refuse anything far bigger */
#define NAME_MAX_LEN 64         /* option names; also bounds the edit-distance work */
#define QUOTE_MAX 128           /* bytes of a value a message shows */
#define QUOTED_SIZE (4 * (QUOTE_MAX + 4) + 8) /* every byte may become \xNN */
#define MSG_MAX 768             /* messages are cut here: harmless, they stay one line */

enum origin { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_FLAG };

struct value {
	int present;   /* a value is held (default or given) */
	long long num; /* INT, DURATION, BYTES, BOOL, ENUM index */
	char *str;     /* STRING, SECRET_FILE: owned */
	enum origin origin;
	char *where;   /* ORIGIN_FILE: "FILE:LINE", owned */
};

struct config {
	const struct config_def *defs; /* borrowed */
	size_t n;
	char *path; /* the file last read, owned: names it in reload messages */
	struct value v[];
};

/* Where a message points: a file position, or a flag (file is then the flag, line 0). */
struct loc {
	const char *file;
	int line, col;
	const char *subject; /* "spool_max": put before the message, or NULL */
};

/* One parse: the config being filled, where problems go, how many there were. */
struct ctx {
	struct config *c;
	struct norm_diags *d;
	int errors;
};

static const char *const special_flags[] = {"config", "check", "help", "version", NULL};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void report(struct ctx *x, const struct loc *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A misuse of this module by its caller: not something to recover from. */
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("config: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void report(struct ctx *x, const struct loc *at, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->errors++;
	if (at->subject != NULL)
		diags_add(x->d, at->file, at->line, at->col, "%s: %s", at->subject, msg);
	else
		diags_add(x->d, at->file, at->line, at->col, "%s", msg);
}

/* ---- small helpers ---- */

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char *skip_ws(char *p)
{
	while (is_ws(*p))
		p++;
	return p;
}

static int is_string_type(enum config_type t)
{
	return t == CONFIG_STRING || t == CONFIG_SECRET_FILE;
}

/* The length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq_len(const char *s, size_t n)
{
	unsigned char lead = (unsigned char)s[0];
	size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

	if (len > n || utf8_invalid_at(s, len) >= 0)
		return 0;
	return len;
}

/*
 * s[0..len) as a message shows it, in double quotes if quoted: '"', '\\', control
 * characters and bytes that are not UTF-8 are escaped (a value must not forge a second
 * log line or drive a terminal), and it is cut after QUOTE_MAX bytes with "...".
 * buf holds QUOTED_SIZE bytes; returns buf.
 */
static const char *show(const char *s, size_t len, int quoted, char *buf)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, o = 0, seq;

	if (quoted)
		buf[o++] = '"';
	while (i < len && i < QUOTE_MAX) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
			i++;
		} else if (ch >= 0x20 && ch < 0x7f) {
			buf[o++] = s[i++];
		} else if (ch >= 0x80 && (seq = utf8_seq_len(s + i, len - i)) > 0) {
			memcpy(buf + o, s + i, seq);
			o += seq;
			i += seq;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
			i++;
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (quoted)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static const char *show_str(const char *s, char *buf)
{
	return show(s, strlen(s), 1, buf);
}

/* name with '_' as '-' ("spool_max" -> "spool-max"), the way flags spell it. */
static void dashed(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < size; i++)
		buf[i] = name[i] == '_' ? '-' : name[i];
	buf[i] = '\0';
}

/* ---- suggestions ---- */

/* '-' and '_' count as the same letter, so that "--spool_max" finds "spool_max". */
static int same_letter(char a, char b)
{
	return a == b || ((a == '-' || a == '_') && (b == '-' || b == '_'));
}

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

/*
 * Edit distance with transpositions (optimal string alignment): a typo is usually one
 * letter missing, extra, wrong or swapped. Returns 3 ("too far") early for long words.
 */
static int distance(const char *a, size_t na, const char *b, size_t nb)
{
	int rows[3][NAME_MAX_LEN + 1];

	if (na > NAME_MAX_LEN || nb > NAME_MAX_LEN || na > nb + 2 || nb > na + 2)
		return 3;
	for (size_t j = 0; j <= nb; j++)
		rows[0][j] = (int)j;
	for (size_t i = 1; i <= na; i++) {
		int *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
		cur[0] = (int)i;
		for (size_t j = 1; j <= nb; j++) {
			int cost = !same_letter(a[i - 1], b[j - 1]);
			int v = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) &&
			    same_letter(a[i - 2], b[j - 1]) && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return rows[na % 3][nb];
}

/* The best candidate so far for an unknown word: within two edits, or none. */
struct guess {
	const char *name;
	const char *prefix; /* "no-" when the guess is a negated BOOL flag */
	int dist;
};

static void consider(struct guess *g, const char *word, size_t len, const char *name,
		     const char *prefix)
{
	int dist = distance(word, len, name, strlen(name));

	if (dist < g->dist) {
		g->dist = dist;
		g->name = name;
		g->prefix = prefix;
	}
}

/* ---- values ---- */

/* Returns 0, -1 (not of the form) or -2 (too large). */
static int parse_int(const char *s, long long *out)
{
	const char *p = s + (*s == '-' || *s == '+');
	char *end;
	long long v;

	if (!is_digit(*p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = v;
	return 0;
}

static int byte_shift(const char *unit)
{
	static const struct {
		const char *name;
		int shift;
	} units[] = {
		{"", 0},    {"B", 0},    {"k", 10},   {"K", 10}, {"KiB", 10}, {"M", 20},
		{"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40}, {"TiB", 40},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i].name, unit) == 0)
			return units[i].shift;
	return -1;
}

/* Returns 0, -1 (not of the form) or -2 (too large); the form is checked first. */
static int parse_bytes(const char *s, long long *out)
{
	const char *p = s;
	long long v = 0;
	int shift, big = 0;

	if (!is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (*p - '0');
	}
	if (*p == ' ' && p[1] != '\0')
		p++;
	if ((shift = byte_shift(p)) < 0)
		return -1;
	if (big || v > (LLONG_MAX >> shift))
		return -2;
	*out = v << shift;
	return 0;
}

/* duration_parse refuses zero, which a config needs ("0" turns a timeout off): zero
 * digits alone, or with a unit duration_parse accepts. */
static int is_zero_duration(const char *s)
{
	char one[16];
	int64_t ms;
	int n;

	if (*s != '0')
		return 0;
	while (*s == '0')
		s++;
	if (*s == '.') {
		if (*++s != '0')
			return 0;
		while (*s == '0')
			s++;
	}
	if (*s == '\0')
		return 1;
	n = snprintf(one, sizeof(one), "1%s", s);
	return n > 0 && (size_t)n < sizeof(one) && duration_parse(one, &ms) == 0;
}

static int parse_duration(const char *s, long long *out)
{
	int64_t ms;

	if (duration_parse(s, &ms) == 0) {
		*out = ms;
		return 0;
	}
	if (is_zero_duration(s)) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* v as the file would say it: the largest exact unit ("1MiB", "5m"). */
static void format_num(enum config_type t, long long v, char *buf, size_t size)
{
	static const char *const units[] = {"", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	if (t == CONFIG_DURATION) {
		duration_format(v, buf, size);
		return;
	}
	while (t == CONFIG_BYTES && v != 0 && u < 4 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%lld%s", v, units[u]);
}

/* text is a number that parsed, so it is shown as written (it holds no odd bytes). */
static int check_bounds(const struct config_def *def, const char *text, long long v, char *why,
			size_t size)
{
	char lim[48];

	if (def->min == 0 && def->max == 0)
		return 0;
	if (v < def->min) {
		format_num(def->type, def->min, lim, sizeof(lim));
		snprintf(why, size, "%s is below the minimum %s", text, lim);
		return -1;
	}
	if (v > def->max) {
		format_num(def->type, def->max, lim, sizeof(lim));
		snprintf(why, size, "%s is above the maximum %s", text, lim);
		return -1;
	}
	return 0;
}

/* INT, DURATION, BYTES: the form, then the bounds. */
static int parse_number(const struct config_def *def, const char *text, long long *num,
			char *why, size_t size)
{
	char q[QUOTED_SIZE];
	const char *form;
	int rc;

	if (def->type == CONFIG_INT) {
		rc = parse_int(text, num);
		form = "an integer (e.g. 42)";
	} else if (def->type == CONFIG_DURATION) {
		rc = parse_duration(text, num);
		form = "a duration (e.g. 500ms, 30s, 5m, 1h, 1d)";
	} else {
		rc = parse_bytes(text, num);
		form = "a size (e.g. 512MiB)";
	}
	if (rc == -1)
		snprintf(why, size, "%s is not %s", show_str(text, q), form);
	else if (rc == -2)
		snprintf(why, size, "%s is too large", show_str(text, q));
	return rc < 0 ? -1 : check_bounds(def, text, *num, why, size);
}

static int parse_enum(const struct config_def *def, const char *text, long long *num,
		      char *why, size_t size)
{
	char q[QUOTED_SIZE];
	size_t off;
	int n;

	for (long long i = 0; def->choices[i] != NULL; i++) {
		if (strcmp(def->choices[i], text) == 0) {
			*num = i;
			return 0;
		}
	}
	n = snprintf(why, size, "%s is not one of: ", show_str(text, q));
	off = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; def->choices[i] != NULL && off < size; i++) {
		n = snprintf(why + off, size - off, "%s%s", i > 0 ? ", " : "", def->choices[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	return -1;
}

/* A secret is refused if anyone but its owner may read it (OpenSMTPD does the same). */
static int check_secret(const char *path, char *why, size_t size)
{
	char shown[QUOTED_SIZE];
	struct stat st;

	if (path[0] == '\0') {
		snprintf(why, size, "\"\" is not a file name");
		return -1;
	}
	show(path, strlen(path), 0, shown);
	if (stat(path, &st) < 0)
		snprintf(why, size, "%s: %s", shown, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, size, "%s: not a regular file", shown);
	else if ((st.st_mode & 077) != 0)
		snprintf(why, size, "%s: readable by group or others; chmod 600 it", shown);
	else
		return 0;
	return -1;
}

/*
 * Checks text as a value of def (form, bounds and, when check_file, the secret file
 * itself). Returns 0 and *num (INT, DURATION, BYTES, BOOL, ENUM), or -1 with why.
 */
static int parse_value(const struct config_def *def, const char *text, int check_file,
		       long long *num, char *why, size_t size)
{
	char q[QUOTED_SIZE];

	switch (def->type) {
	case CONFIG_STRING:
		return 0;
	case CONFIG_INT:
	case CONFIG_DURATION:
	case CONFIG_BYTES:
		return parse_number(def, text, num, why, size);
	case CONFIG_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
			*num = text[0] == 't';
			return 0;
		}
		snprintf(why, size, "%s is not true or false", show_str(text, q));
		return -1;
	case CONFIG_ENUM:
		return parse_enum(def, text, num, why, size);
	case CONFIG_SECRET_FILE:
		return check_file ? check_secret(text, why, size) : 0;
	}
	return -1;
}

/* "FILE:LINE", allocated: caller frees. */
static char *make_where(const char *file, int line)
{
	int n = snprintf(NULL, 0, "%s:%d", file, line);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;

	if (s != NULL && snprintf(s, (size_t)n + 1, "%s:%d", file, line) != n) {
		free(s);
		return NULL;
	}
	return s;
}

/* Parses text for option i and, if good, stores it with its origin. 0 or -1 (reported). */
static int set_value(struct ctx *x, size_t i, const char *text, const struct loc *at,
		     enum origin origin)
{
	const struct config_def *def = &x->c->defs[i];
	struct value *v = &x->c->v[i];
	char why[MSG_MAX], *str = NULL, *where = NULL;
	long long num = 0;

	if (parse_value(def, text, 1, &num, why, sizeof(why)) < 0) {
		report(x, at, "%s", why);
		return -1;
	}
	if (is_string_type(def->type) && (str = strdup(text)) == NULL)
		goto oom;
	if (origin == ORIGIN_FILE && (where = make_where(at->file, at->line)) == NULL)
		goto oom;
	free(v->str);
	free(v->where);
	v->str = str;
	v->where = where;
	v->num = num;
	v->present = 1;
	v->origin = origin;
	return 0;
oom:
	free(str);
	report(x, at, "out of memory");
	return -1;
}

/* A default that names a secret file is checked like a given one, once parsing is done
 * (a file or a flag may still replace it). */
static void check_default_secrets(struct ctx *x)
{
	char why[MSG_MAX];

	for (size_t i = 0; i < x->c->n; i++) {
		const struct value *v = &x->c->v[i];
		struct loc at = {x->c->defs[i].name, 0, 0, NULL};
		if (x->c->defs[i].type != CONFIG_SECRET_FILE || !v->present ||
		    v->origin != ORIGIN_DEFAULT)
			continue;
		if (check_secret(v->str, why, sizeof(why)) < 0)
			report(x, &at, "%s (the default)", why);
	}
}

/* ---- the table ---- */

static int valid_name(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || is_digit(name[i]) || name[i] == '_'))
			return 0;
	/* "no_x" would make "--no-x" ambiguous; the special flags are taken. */
	if (i == 0 || i > NAME_MAX_LEN || strncmp(name, "no_", 3) == 0)
		return 0;
	for (size_t k = 0; special_flags[k] != NULL; k++)
		if (strcmp(name, special_flags[k]) == 0)
			return 0;
	return 1;
}

static void check_def(const struct config_def *defs, size_t i)
{
	const struct config_def *def = &defs[i];

	if (def->name == NULL || !valid_name(def->name))
		die("option %zu: bad name \"%s\"", i, def->name ? def->name : "(null)");
	for (size_t k = 0; k < i; k++)
		if (strcmp(defs[k].name, def->name) == 0)
			die("option \"%s\" is in the table twice", def->name);
	if ((unsigned)def->type > CONFIG_SECRET_FILE)
		die("option \"%s\": bad type %d", def->name, (int)def->type);
	if (def->type == CONFIG_ENUM && (def->choices == NULL || def->choices[0] == NULL))
		die("option \"%s\": an enum needs choices", def->name);
	if (!(def->min == 0 && def->max == 0) && def->min > def->max)
		die("option \"%s\": min is above max", def->name);
}

/* Defaults are parsed like file values; one that does not parse is a bug in the table. */
static int set_default(struct config *c, size_t i)
{
	const struct config_def *def = &c->defs[i];
	struct value *v = &c->v[i];
	char why[MSG_MAX];

	if (def->def == NULL)
		return 0;
	if (parse_value(def, def->def, 0, &v->num, why, sizeof(why)) < 0)
		die("option \"%s\": bad default: %s", def->name, why);
	if (is_string_type(def->type) && (v->str = strdup(def->def)) == NULL)
		return -1;
	v->present = 1;
	return 0;
}

struct config *config_create(const struct config_def *defs, size_t n)
{
	struct config *c;

	for (size_t i = 0; i < n; i++)
		check_def(defs, i);
	if (n > (SIZE_MAX - sizeof(*c)) / sizeof(c->v[0]))
		return NULL;
	if ((c = calloc(1, sizeof(*c) + n * sizeof(c->v[0]))) == NULL)
		return NULL;
	c->defs = defs;
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		if (set_default(c, i) < 0) {
			config_free(c);
			return NULL;
		}
	}
	return c;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].str);
		free(c->v[i].where);
	}
	free(c->path);
	free(c);
}

/* ---- the file ---- */

/* One file being read. */
struct file_ctx {
	struct ctx *x;
	const char *name;
	int *seen; /* per option, the line that first set it in this file; 0 = not yet */
	int line;
};

static void file_error(struct file_ctx *f, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void file_error(struct file_ctx *f, int col, const char *fmt, ...)
{
	char msg[MSG_MAX];
	struct loc at = {f->name, f->line, col, NULL};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(f->x, &at, "%s", msg);
}

/* Refuses NUL, control characters other than tab and invalid UTF-8: a config is text. */
static int check_bytes(struct file_ctx *f, const char *s, size_t n)
{
	long bad = utf8_invalid_at(s, n);

	for (size_t i = 0; i < n && (bad < 0 || i < (size_t)bad); i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\0') {
			file_error(f, (int)i + 1, "NUL byte");
			return -1;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			file_error(f, (int)i + 1, "control character 0x%02X", ch);
			return -1;
		}
	}
	if (bad >= 0) {
		file_error(f, (int)bad + 1, "invalid UTF-8");
		return -1;
	}
	return 0;
}

static long find_def(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->defs[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void unknown_key(struct file_ctx *f, const char *key, int col)
{
	struct guess g = {NULL, "", 3};
	char q[QUOTED_SIZE];

	for (size_t i = 0; i < f->x->c->n; i++)
		consider(&g, key, strlen(key), f->x->c->defs[i].name, "");
	if (g.name != NULL)
		file_error(f, col, "unknown key %s (did you mean \"%s\"?)", show_str(key, q),
			   g.name);
	else
		file_error(f, col, "unknown key %s", show_str(key, q));
}

/* Unquotes the value at p in place (p at the opening quote). 0, or -1 (reported). */
static int unquote(struct file_ctx *f, char *line, char *p)
{
	char *in = p + 1, *out = p;

	for (;;) {
		if (*in == '\0' || (*in == '\\' && in[1] == '\0')) {
			file_error(f, (int)(p - line) + 1, "unterminated quote");
			return -1;
		}
		if (*in == '"')
			break;
		if (*in == '\\' && in[1] != '"' && in[1] != '\\') {
			file_error(f, (int)(in - line) + 1,
				   "unknown escape in a quoted value (only \\\" and \\\\)");
			return -1;
		}
		in += *in == '\\';
		*out++ = *in++;
	}
	*out = '\0';
	in = skip_ws(in + 1);
	if (*in != '\0' && *in != '#') {
		file_error(f, (int)(in - line) + 1, "unexpected text after the closing quote");
		return -1;
	}
	return 0;
}

/* The value at p (after '=' and blanks), made NUL-terminated in place. 0 or -1. */
static int read_value(struct file_ctx *f, char *line, char *p, const char *key, int keycol)
{
	char q[QUOTED_SIZE], *end;

	if (*p == '"')
		return unquote(f, line, p);
	end = strchr(p, '#');
	if (end == NULL)
		end = p + strlen(p);
	while (end > p && is_ws(end[-1]))
		end--;
	if (end == p) {
		file_error(f, keycol, "missing value for %s", show_str(key, q));
		return -1;
	}
	*end = '\0';
	return 0;
}

/* The option named at the start of the line (key NUL-terminated), checked against the
 * table and the lines before. Returns its index, or -1 (reported). */
static long claim_key(struct file_ctx *f, const char *key, int col)
{
	char q[QUOTED_SIZE];
	long i = find_def(f->x->c, key);

	if (i < 0) {
		unknown_key(f, key, col);
		return -1;
	}
	if (f->seen[i] != 0) {
		file_error(f, col, "duplicate key %s (first set at line %d)", show_str(key, q),
			   f->seen[i]);
		return -1;
	}
	f->seen[i] = f->line;
	return i;
}

/* One line, NUL-terminated at n (it may hold other NULs: check_bytes refuses those). */
static void parse_line(struct file_ctx *f, char *line, size_t n)
{
	char q[QUOTED_SIZE], *p, *key;
	size_t keylen;
	int keycol;
	long i;

	if (check_bytes(f, line, n) < 0)
		return;
	p = skip_ws(line);
	if (*p == '\0' || *p == '#')
		return;
	key = p;
	while (*p != '\0' && *p != '=' && *p != '#' && !is_ws(*p))
		p++;
	keylen = (size_t)(p - key);
	keycol = (int)(key - line) + 1;
	if (keylen == 0) {
		file_error(f, keycol, "empty key");
		return;
	}
	p = skip_ws(p);
	if (*p != '=') {
		file_error(f, keycol, "missing '=' after key %s", show(key, keylen, 1, q));
		return;
	}
	key[keylen] = '\0'; /* may be the '=' itself: only what follows it is read now */
	p = skip_ws(p + 1);
	if ((i = claim_key(f, key, keycol)) < 0 || read_value(f, line, p, key, keycol) < 0)
		return;
	struct loc at = {f->name, f->line, (int)(p - line) + 1, key};
	set_value(f->x, (size_t)i, p, &at, ORIGIN_FILE);
}

/* One physical line s[0..n) without its '\n'. */
static void do_line(struct file_ctx *f, const char *s, size_t n)
{
	char buf[CONF_LINE_MAX + 1];

	if (n > 0 && s[n - 1] == '\r') /* a file saved with CRLF line ends */
		n--;
	if (n > CONF_LINE_MAX) {
		file_error(f, 1, "line is longer than %d bytes", CONF_LINE_MAX);
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	parse_line(f, buf, n);
}

static void remember_path(struct ctx *x, const char *name)
{
	char *copy = strdup(name);
	struct loc at = {name, 0, 0, NULL};

	if (copy == NULL) {
		report(x, &at, "out of memory");
		return;
	}
	free(x->c->path);
	x->c->path = copy;
}

static void load_buffer(struct ctx *x, const char *name, const char *data, size_t len)
{
	struct file_ctx f = {x, name, NULL, 0};
	const char *p = data != NULL ? data : "", *end = p + (data != NULL ? len : 0);
	struct loc at = {name, 0, 0, NULL};

	if ((f.seen = calloc(x->c->n + 1, sizeof(*f.seen))) == NULL) {
		report(x, &at, "out of memory");
		return;
	}
	remember_path(x, name);
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* the BOM some editors write */
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		f.line++;
		do_line(&f, p, n);
		p = nl != NULL ? nl + 1 : end;
	}
	free(f.seen);
}

/* Reads the whole file into *data (caller frees). 0, or -1 with why. */
static int read_all(const char *path, char **data, size_t *len, char *why, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 0;
	char *buf = NULL, *grown;
	ssize_t r;

	if (fd < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap) { /* bounded: n never passes CONF_FILE_MAX by much */
			cap = cap != 0 ? cap * 2 : 4096;
			if ((grown = realloc(buf, cap)) == NULL) {
				snprintf(why, size, "out of memory");
				goto fail;
			}
			buf = grown;
		}
		if ((r = read(fd, buf + n, cap - n)) < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, size, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if ((n += (size_t)r) > CONF_FILE_MAX) {
			snprintf(why, size, "larger than %d bytes", CONF_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	*data = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

static void load_path(struct ctx *x, const char *path)
{
	char why[MSG_MAX], *data = NULL;
	size_t len = 0;
	struct loc at = {path, 0, 0, NULL};

	if (read_all(path, &data, &len, why, sizeof(why)) < 0) {
		report(x, &at, "%s", why);
		return;
	}
	load_buffer(x, path, data, len);
	free(data);
}

int config_load_buffer(struct config *c, const char *name, const char *data, size_t len,
		       struct norm_diags *d)
{
	struct ctx x = {c, d, 0};

	load_buffer(&x, name, data, len);
	check_default_secrets(&x);
	return x.errors > 0 ? -1 : 0;
}

int config_load_file(struct config *c, const char *path, struct norm_diags *d)
{
	struct ctx x = {c, d, 0};

	load_path(&x, path);
	check_default_secrets(&x);
	return x.errors > 0 ? -1 : 0;
}

/* ---- the command line ---- */

enum flag_kind {
	FLAG_OPTION,
	FLAG_CONFIG,
	FLAG_CHECK,
	FLAG_HELP,
	FLAG_VERSION,
	FLAG_UNKNOWN,
	FLAG_ARGUMENT, /* not an option at all */
};

/* One command-line option and its value. Pointers borrow from argv. */
struct flag {
	enum flag_kind kind;
	const char *arg;   /* the argv element */
	const char *name;  /* after "--", up to '=' (not NUL-terminated) */
	size_t len;
	const char *value; /* NULL when none was given */
	int inline_value;  /* given as --name=VALUE */
	int negated;       /* --no-NAME of a BOOL */
	size_t i;          /* FLAG_OPTION: the option's index */
};

/* name[0..len) is the flag spelling of key: '_' written '-', nothing else differs. */
static int flag_matches(const char *name, size_t len, const char *key)
{
	size_t i;

	for (i = 0; i < len && key[i] != '\0'; i++)
		if (name[i] != (key[i] == '_' ? '-' : key[i]))
			return 0;
	return i == len && key[i] == '\0';
}

static void classify(const struct config *c, struct flag *f)
{
	static const enum flag_kind kinds[] = {FLAG_CONFIG, FLAG_CHECK, FLAG_HELP, FLAG_VERSION};

	for (size_t k = 0; special_flags[k] != NULL; k++) {
		if (flag_matches(f->name, f->len, special_flags[k])) {
			f->kind = kinds[k];
			return;
		}
	}
	f->kind = FLAG_UNKNOWN;
	for (size_t i = 0; i < c->n; i++) {
		const struct config_def *def = &c->defs[i];
		int neg = def->type == CONFIG_BOOL && f->len > 3 &&
			  strncmp(f->name, "no-", 3) == 0 &&
			  flag_matches(f->name + 3, f->len - 3, def->name);
		if (neg || flag_matches(f->name, f->len, def->name)) {
			f->kind = FLAG_OPTION;
			f->i = i;
			f->negated = neg;
			return;
		}
	}
}

/*
 * Reads the flag at argv[*k] and advances *k past it and the value it takes. A value
 * never starts with "--" (that is the next option, the value is missing). An unknown
 * option takes the next word too: it is most likely its value, not a second mistake.
 */
static void next_flag(const struct config *c, int argc, char **argv, int *k, struct flag *f)
{
	const char *arg = argv[(*k)++], *eq;
	int wants;

	memset(f, 0, sizeof(*f));
	f->arg = arg;
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		f->kind = FLAG_ARGUMENT;
		return;
	}
	f->name = arg + 2;
	eq = strchr(f->name, '=');
	f->len = eq != NULL ? (size_t)(eq - f->name) : strlen(f->name);
	if (eq != NULL) {
		f->value = eq + 1;
		f->inline_value = 1;
	}
	classify(c, f);
	wants = f->kind == FLAG_CONFIG || f->kind == FLAG_UNKNOWN ||
		(f->kind == FLAG_OPTION && c->defs[f->i].type != CONFIG_BOOL);
	if (wants && !f->inline_value && *k < argc && strncmp(argv[*k], "--", 2) != 0)
		f->value = argv[(*k)++];
}

/* The first --config with a value: the file is read before any flag is applied. */
static const char *find_config(const struct config *c, int argc, char **argv)
{
	struct flag f;

	for (int k = 1; k < argc;) {
		next_flag(c, argc, argv, &k, &f);
		if (f.kind == FLAG_CONFIG && f.value != NULL && f.value[0] != '\0')
			return f.value;
	}
	return NULL;
}

/* argv is not checked by the file reader: the same rules for text apply here. */
static int check_flag_text(struct ctx *x, const struct loc *at, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			report(x, at, "control character 0x%02X in the value", ch);
			return -1;
		}
	}
	if (utf8_invalid_at(s, strlen(s)) >= 0) {
		report(x, at, "invalid UTF-8 in the value");
		return -1;
	}
	return 0;
}

static void apply_option(struct ctx *x, const struct flag *f, const struct loc *at)
{
	const struct config_def *def = &x->c->defs[f->i];
	const char *text = f->value;

	if (f->negated && f->inline_value) {
		report(x, at, "takes no value");
		return;
	}
	if (def->type == CONFIG_BOOL && text == NULL)
		text = f->negated ? "false" : "true";
	if (text == NULL) {
		report(x, at, "missing value");
		return;
	}
	if (check_flag_text(x, at, text) == 0)
		set_value(x, f->i, text, at, ORIGIN_FLAG);
}

static void unknown_flag(struct ctx *x, const struct flag *f, const struct loc *at)
{
	struct guess g = {NULL, "", 3};
	char dashes[NAME_MAX_LEN + 1];

	for (size_t k = 0; special_flags[k] != NULL; k++)
		consider(&g, f->name, f->len, special_flags[k], "");
	for (size_t i = 0; i < x->c->n; i++) {
		consider(&g, f->name, f->len, x->c->defs[i].name, "");
		if (x->c->defs[i].type == CONFIG_BOOL && f->len > 3 &&
		    strncmp(f->name, "no-", 3) == 0)
			consider(&g, f->name + 3, f->len - 3, x->c->defs[i].name, "no-");
	}
	if (g.name == NULL) {
		report(x, at, "unknown option");
		return;
	}
	dashed(g.name, dashes, sizeof(dashes));
	report(x, at, "unknown option (did you mean \"--%s%s\"?)", g.prefix, dashes);
}

static void apply_flag(struct ctx *x, const struct flag *f, struct config_flags *out,
		       int *configs)
{
	char shown[QUOTED_SIZE + 2] = "--";
	struct loc at = {shown, 0, 0, NULL};

	if (f->kind == FLAG_ARGUMENT)
		show(f->arg, strlen(f->arg), 0, shown);
	else
		show(f->name, f->len, 0, shown + 2);
	switch (f->kind) {
	case FLAG_ARGUMENT:
		report(x, &at, "unexpected argument (options start with --)");
		break;
	case FLAG_UNKNOWN:
		unknown_flag(x, f, &at);
		break;
	case FLAG_CONFIG:
		if (f->value == NULL || f->value[0] == '\0')
			report(x, &at, "missing value");
		else if ((*configs)++ > 0)
			report(x, &at, "given more than once");
		break;
	case FLAG_CHECK:
	case FLAG_HELP:
	case FLAG_VERSION:
		if (f->inline_value)
			report(x, &at, "takes no value");
		out->check |= f->kind == FLAG_CHECK;
		out->help |= f->kind == FLAG_HELP;
		out->version |= f->kind == FLAG_VERSION;
		break;
	case FLAG_OPTION:
		apply_option(x, f, &at);
		break;
	}
}

int config_parse_args(struct config *c, int argc, char **argv, struct config_flags *flags,
		      struct norm_diags *d)
{
	struct ctx x = {c, d, 0};
	struct flag f;
	int configs = 0;

	memset(flags, 0, sizeof(*flags));
	flags->config_path = find_config(c, argc, argv);
	if (flags->config_path != NULL)
		load_path(&x, flags->config_path);
	for (int k = 1; k < argc;) {
		next_flag(c, argc, argv, &k, &f);
		apply_flag(&x, &f, flags, &configs);
	}
	check_default_secrets(&x);
	return x.errors > 0 ? -1 : 0;
}

/* ---- getters ---- */

static const char *type_name(enum config_type t)
{
	static const char *const names[] = {
		[CONFIG_STRING] = "string",     [CONFIG_INT] = "integer",
		[CONFIG_DURATION] = "duration", [CONFIG_BYTES] = "size",
		[CONFIG_BOOL] = "boolean",      [CONFIG_ENUM] = "enum",
		[CONFIG_SECRET_FILE] = "secret file",
	};
	return names[t];
}

/* The value of name, which must be one of the types in mask (1 << type). */
static const struct value *get(const struct config *c, const char *name, unsigned mask)
{
	long i = find_def(c, name);

	if (i < 0)
		die("no option \"%s\" in the table", name);
	if ((mask & (1u << c->defs[i].type)) == 0)
		die("option \"%s\" is a %s, not read that way", name, type_name(c->defs[i].type));
	return &c->v[i];
}

#define ANY_TYPE 0xffffu
#define BIT(t) (1u << (t))

const char *config_string(const struct config *c, const char *name)
{
	return get(c, name, BIT(CONFIG_STRING) | BIT(CONFIG_SECRET_FILE))->str;
}

const char *config_client_id(const struct config *c, const char *role, char *buf, size_t len)
{
	char host[128] = "localhost";

	if (config_string(c, "client_id") != NULL) {
		snprintf(buf, len, "%s", config_string(c, "client_id"));
	} else {
		gethostname(host, sizeof(host) - 1);
		snprintf(buf, len, "%s-%s", role, host);
	}
	return buf;
}

long long config_int(const struct config *c, const char *name)
{
	const struct value *v =
		get(c, name, BIT(CONFIG_INT) | BIT(CONFIG_DURATION) | BIT(CONFIG_BYTES));
	return v->present ? v->num : 0;
}

int config_bool(const struct config *c, const char *name)
{
	const struct value *v = get(c, name, BIT(CONFIG_BOOL));
	return v->present && v->num != 0;
}

int config_enum(const struct config *c, const char *name)
{
	const struct value *v = get(c, name, BIT(CONFIG_ENUM));
	return v->present ? (int)v->num : -1;
}

int config_has(const struct config *c, const char *name)
{
	return get(c, name, ANY_TYPE)->present;
}

int config_is_set(const struct config *c, const char *name)
{
	const struct value *v = get(c, name, ANY_TYPE);
	return v->present && v->origin != ORIGIN_DEFAULT;
}

const char *config_origin(const struct config *c, const char *name)
{
	const struct value *v = get(c, name, ANY_TYPE);

	if (!v->present || v->origin == ORIGIN_DEFAULT)
		return "default";
	return v->origin == ORIGIN_FILE ? v->where : "command line";
}

/* ---- help and sample ---- */

#define USAGE_COL 30 /* where the help text starts */

static void usage_line(FILE *out, const char *left, const char *help, const char *def)
{
	if (strlen(left) + 4 > USAGE_COL)
		fprintf(out, "  %s\n%*s", left, USAGE_COL, "");
	else
		fprintf(out, "  %-*s", USAGE_COL - 2, left);
	fputs(help != NULL ? help : "", out);
	if (def != NULL)
		fprintf(out, " (default %s)", def);
	fputc('\n', out);
}

/* "--spool-max SIZE", "--[no-]debug", "--log-level debug|info": cut if very long. */
static void synopsis(const struct config_def *def, char *buf, size_t size)
{
	static const char *const words[] = {
		[CONFIG_STRING] = "TEXT", [CONFIG_INT] = "N",         [CONFIG_DURATION] = "DURATION",
		[CONFIG_BYTES] = "SIZE",  [CONFIG_BOOL] = "",         [CONFIG_ENUM] = "",
		[CONFIG_SECRET_FILE] = "FILE",
	};
	char dashes[NAME_MAX_LEN + 1];
	size_t off;
	int n;

	dashed(def->name, dashes, sizeof(dashes));
	n = snprintf(buf, size, "--%s%s %s", def->type == CONFIG_BOOL ? "[no-]" : "", dashes,
		     words[def->type]);
	off = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; def->type == CONFIG_ENUM && def->choices[i] != NULL && off < size; i++) {
		n = snprintf(buf + off, size - off, "%s%s", i > 0 ? "|" : "", def->choices[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	if (def->type == CONFIG_BOOL && off > 0 && off < size)
		buf[off - 1] = '\0'; /* no placeholder: drop the space before it */
}

void config_usage(FILE *out, const char *prog, const struct config_def *defs, size_t n)
{
	char left[256];

	fprintf(out, "Usage: %s [--config FILE] [OPTION...]\n\nOptions:\n", prog);
	usage_line(out, "--config FILE", "read settings from FILE; options here override it",
		   NULL);
	usage_line(out, "--check", "check the configuration and exit", NULL);
	usage_line(out, "--help", "print this help and exit", NULL);
	usage_line(out, "--version", "print the version and exit", NULL);
	for (size_t i = 0; i < n; i++) {
		synopsis(&defs[i], left, sizeof(left));
		usage_line(out, left, defs[i].help, defs[i].def);
	}
}

/* A value the parser would read back as it is: quoted when it must be. */
static void write_value(FILE *out, const char *s)
{
	size_t len = strlen(s);
	int quote = len == 0 || is_ws(s[0]) || is_ws(s[len - 1]) || s[0] == '"' ||
		    strchr(s, '#') != NULL;

	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int config_write_sample(FILE *out, const struct config_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "# %s\n#%s =", defs[i].help != NULL ? defs[i].help : "", defs[i].name);
		if (defs[i].def != NULL) {
			fputc(' ', out);
			write_value(out, defs[i].def);
		}
		fputs("\n\n", out);
	}
	return ferror(out) ? -1 : 0;
}

/* ---- reload ---- */

static int same_value(const struct value *a, const struct value *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	if (a->str != NULL || b->str != NULL)
		return a->str != NULL && b->str != NULL && strcmp(a->str, b->str) == 0;
	return a->num == b->num;
}

int config_reload_check(const struct config *old, const struct config *neu,
			struct norm_diags *d)
{
	struct ctx x = {NULL, d, 0};

	if (old->defs != neu->defs || old->n != neu->n)
		die("config_reload_check: the two configs come from different tables");
	for (size_t i = 0; i < neu->n; i++) {
		const struct value *v = &neu->v[i];
		struct loc at = {neu->path != NULL ? neu->path : "reload", 0, 0, NULL};
		if (neu->defs[i].reloadable || same_value(&old->v[i], v))
			continue;
		if (v->present && v->origin == ORIGIN_FILE)
			at.file = v->where;
		else if (v->present && v->origin == ORIGIN_FLAG)
			at.file = "command line";
		report(&x, &at, "%s cannot change on reload (restart the service)",
		       neu->defs[i].name);
	}
	return x.errors > 0 ? -1 : 0;
}
