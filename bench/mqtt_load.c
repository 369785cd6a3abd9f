/*
 * mqtt-load: an MQTT 5 load generator and message counter on Paho's asynchronous client,
 * for the ingest benchmark (bench/ingest_bench.sh) and the integration tests.
 *
 *   mqtt-load publish --broker URI --topic TEMPLATE (--payload T | --payload-file F) --count N
 *   mqtt-load count   --broker URI --topic FILTER --count N
 *
 * publish renders each message from templates ({seq}, {device}, {time_ms}, {time_s},
 * {time_iso}), keeps up to --inflight of them unacknowledged, and exits 0 only once every
 * one was acknowledged (PUBACK at QoS 1; handed to the socket at QoS 0). count subscribes
 * and exits 0 once N messages arrived. Each prints one result line on stdout; errors go to
 * stderr and exit 1, usage errors exit 2. Run without arguments for the options.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "bench/wire_publish.h"

#define PROG "mqtt-load"
#define EXIT_USAGE 2
#define SESSION_EXPIRY_S 3600
#define CONNECT_TIMEOUT_S 10
#define STALL_TIMEOUT_S 60.0    /* publish: no acknowledgement for this long is an error */
#define PROGRESS_EVERY_S 5.0    /* count: progress line on stderr unless --quiet */
#define MAX_TIME_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z, what {time_iso} can print */

static void usage(void)
{
	fputs("usage:\n"
	      "  " PROG " publish --broker URI --topic TEMPLATE (--payload TEMPLATE | --payload-file FILE)\n"
	      "          --count N [--devices D (100)] [--start-seq S (0)] [--qos 0|1 (1)]\n"
	      "          [--inflight K (256)] [--client-id ID] [--rate MSGS_PER_S (unlimited)]\n"
	      "          [--time-base-ms T (1795252200000)] [--time-step-ms MS (1000)] [--batch B]\n"
	      "  " PROG " count --broker URI --topic FILTER --count N [--qos 0|1 (1)] [--client-id ID]\n"
	      "          [--session] [--timeout SECONDS (60)] [--quiet]\n"
	      "placeholders in publish templates: {seq} {device} {time_ms} {time_s} {time_iso}\n"
	      "--payload-file: one template per line, blank lines ignored, used round-robin by seq\n"
	      "--batch: up to B messages per send() on a bare socket instead of Paho (tcp:// only,\n"
	      "         no login): load that costs the machine under test as little as possible\n"
	      "--session: clean start false, session expiry 3600 s (--count 0 creates it and exits)\n",
	      stderr);
}

/* ---- options ---------------------------------------------------------------------- */

enum mode { MODE_PUBLISH = 1, MODE_COUNT = 2 };
enum opt_kind { OPT_STR, OPT_INT, OPT_FLAG };

struct opts {
	enum mode mode;
	const char *broker, *topic, *payload, *payload_file, *client_id;
	long long count, devices, start_seq, qos, inflight, rate, time_base_ms, time_step_ms, batch;
	long long timeout_s, session, quiet;
	char client_id_buf[64];
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t off;
	long long min, max;
	int modes; /* MODE_* bits the option is valid in */
};

#define O(f) offsetof(struct opts, f)
#define BOTH (MODE_PUBLISH | MODE_COUNT)
static const struct opt_def opt_table[] = {
	{"broker", OPT_STR, O(broker), 0, 0, BOTH},
	{"topic", OPT_STR, O(topic), 0, 0, BOTH},
	{"count", OPT_INT, O(count), 0, LLONG_MAX / 4, BOTH},
	{"qos", OPT_INT, O(qos), 0, 1, BOTH},
	{"client-id", OPT_STR, O(client_id), 0, 0, BOTH},
	{"payload", OPT_STR, O(payload), 0, 0, MODE_PUBLISH},
	{"payload-file", OPT_STR, O(payload_file), 0, 0, MODE_PUBLISH},
	{"devices", OPT_INT, O(devices), 1, 1000000000, MODE_PUBLISH},
	{"start-seq", OPT_INT, O(start_seq), 0, LLONG_MAX / 4, MODE_PUBLISH},
	{"inflight", OPT_INT, O(inflight), 1, 65535, MODE_PUBLISH},
	{"rate", OPT_INT, O(rate), 1, 100000000, MODE_PUBLISH},
	{"time-base-ms", OPT_INT, O(time_base_ms), 0, MAX_TIME_MS, MODE_PUBLISH},
	{"time-step-ms", OPT_INT, O(time_step_ms), 0, 1000000000, MODE_PUBLISH},
	{"batch", OPT_INT, O(batch), 1, 100000, MODE_PUBLISH},
	{"session", OPT_FLAG, O(session), 0, 1, MODE_COUNT},
	{"timeout", OPT_INT, O(timeout_s), 1, 1000000, MODE_COUNT},
	{"quiet", OPT_FLAG, O(quiet), 0, 1, MODE_COUNT},
};
#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static void opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->count = -1; /* required */
	o->devices = 100;
	o->qos = 1;
	o->inflight = 256;
	o->time_base_ms = 1795252200000LL;
	o->time_step_ms = 1000;
	o->timeout_s = 60;
}

static const struct opt_def *opt_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strlen(opt_table[i].name) == len && strncmp(opt_table[i].name, name, len) == 0)
			return &opt_table[i];
	return NULL;
}

static int parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int opt_store(struct opts *o, const struct opt_def *d, const char *val)
{
	char *base = (char *)o;
	long long v;

	switch (d->kind) {
	case OPT_STR:
		if (val[0] == '\0') {
			fprintf(stderr, PROG ": --%s: must not be empty\n", d->name);
			return -1;
		}
		*(const char **)(void *)(base + d->off) = val;
		return 0;
	case OPT_INT:
		if (parse_int(val, &v) != 0 || v < d->min || v > d->max) {
			fprintf(stderr, PROG ": --%s: expected an integer in %lld..%lld, got '%s'\n",
				d->name, d->min, d->max, val);
			return -1;
		}
		*(long long *)(void *)(base + d->off) = v;
		return 0;
	case OPT_FLAG:
		*(long long *)(void *)(base + d->off) = 1;
		return 0;
	}
	return -1;
}

/* Parses one "--name value", "--name=value" or "--flag" at argv[*i]; advances *i. */
static int opt_parse_one(struct opts *o, int argc, char **argv, int *i, unsigned char *seen)
{
	const char *arg = argv[*i], *eq, *val;
	const struct opt_def *d;

	if (strncmp(arg, "--", 2) != 0) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", arg);
		return -1;
	}
	eq = strchr(arg + 2, '=');
	d = opt_find(arg + 2, eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2));
	if (d == NULL || !(d->modes & (int)o->mode)) {
		fprintf(stderr, PROG ": unknown option '%s' for %s\n", arg,
			o->mode == MODE_PUBLISH ? "publish" : "count");
		return -1;
	}
	if (seen[d - opt_table]++) {
		fprintf(stderr, PROG ": --%s is given twice\n", d->name);
		return -1;
	}
	if (d->kind == OPT_FLAG) {
		if (eq != NULL) {
			fprintf(stderr, PROG ": --%s takes no value\n", d->name);
			return -1;
		}
		return opt_store(o, d, "");
	}
	if (eq != NULL) {
		val = eq + 1;
	} else if (*i + 1 < argc) {
		val = argv[++*i];
	} else {
		fprintf(stderr, PROG ": --%s needs a value\n", d->name);
		return -1;
	}
	return opt_store(o, d, val);
}

static int opts_check(struct opts *o)
{
	if (o->broker == NULL || o->topic == NULL || o->count < 0) {
		fputs(PROG ": --broker, --topic and --count are required\n", stderr);
		return -1;
	}
	if (o->mode == MODE_PUBLISH && (o->payload == NULL) == (o->payload_file == NULL)) {
		fputs(PROG ": publish needs exactly one of --payload and --payload-file\n", stderr);
		return -1;
	}
	if (o->mode == MODE_PUBLISH && strpbrk(o->topic, "+#") != NULL) {
		fputs(PROG ": a publish topic must not hold the wildcards + or #\n", stderr);
		return -1;
	}
	/* The largest {time_ms} must stay printable: T + (S + N) * step <= MAX_TIME_MS. */
	if (o->mode == MODE_PUBLISH && o->time_step_ms > 0 &&
	    (o->start_seq + o->count) > (MAX_TIME_MS - o->time_base_ms) / o->time_step_ms) {
		fputs(PROG ": --time-base-ms + (--start-seq + --count) * --time-step-ms passes year 9999\n",
		      stderr);
		return -1;
	}
	if (o->mode == MODE_COUNT && o->session && o->client_id == NULL) {
		fputs(PROG ": --session needs --client-id (the session is found by it)\n", stderr);
		return -1;
	}
	if (o->client_id == NULL) {
		snprintf(o->client_id_buf, sizeof(o->client_id_buf), PROG "-%s-%ld",
			 o->mode == MODE_PUBLISH ? "pub" : "count", (long)getpid());
		o->client_id = o->client_id_buf;
	}
	return 0;
}

/* Fills o from argv (argv[1] is the mode). Returns 0, or -1 after a message on stderr.
 * The strings in o borrow argv. */
static int opts_parse(struct opts *o, int argc, char **argv)
{
	unsigned char seen[N_OPTS] = {0};

	opts_defaults(o);
	if (argc < 2) {
		usage();
		return -1;
	}
	if (strcmp(argv[1], "publish") == 0) {
		o->mode = MODE_PUBLISH;
	} else if (strcmp(argv[1], "count") == 0) {
		o->mode = MODE_COUNT;
	} else {
		fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
		usage();
		return -1;
	}
	for (int i = 2; i < argc; i++)
		if (opt_parse_one(o, argc, argv, &i, seen) != 0)
			return -1;
	return opts_check(o);
}

/* ---- time --------------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec deadline_in(double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long ns = ts.tv_nsec + (long long)((seconds - (double)(long long)seconds) * 1e9);
	ts.tv_sec += (time_t)seconds + (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	return ts;
}

static void sleep_s(double seconds)
{
	struct timespec ts = {(time_t)seconds,
			      (long)((seconds - (double)(time_t)seconds) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- templates ---------------------------------------------------------------------- */

enum seg_kind { SEG_TEXT, SEG_SEQ, SEG_DEVICE, SEG_TIME_MS, SEG_TIME_S, SEG_TIME_ISO };

static const char *const placeholder_names[] = {
	[SEG_SEQ] = "{seq}", [SEG_DEVICE] = "{device}", [SEG_TIME_MS] = "{time_ms}",
	[SEG_TIME_S] = "{time_s}", [SEG_TIME_ISO] = "{time_iso}",
};
#define PLACEHOLDER_MAX 32 /* longest rendering of any placeholder, with room to spare */

struct seg {
	enum seg_kind kind;
	const char *text; /* SEG_TEXT: borrowed from the template string */
	size_t len;
};

struct tmpl {
	struct seg *segs;
	size_t nsegs;
	size_t max_len; /* upper bound of a rendering, without the NUL */
};

/* What the placeholders are computed from. */
struct gen {
	long long devices, time_base_ms, time_step_ms;
};

static enum seg_kind placeholder_at(const char *p, size_t *len)
{
	for (int k = SEG_SEQ; k <= SEG_TIME_ISO; k++) {
		*len = strlen(placeholder_names[k]);
		if (strncmp(p, placeholder_names[k], *len) == 0)
			return (enum seg_kind)k;
	}
	return SEG_TEXT;
}

static void tmpl_push(struct tmpl *t, enum seg_kind kind, const char *text, size_t len)
{
	if (kind == SEG_TEXT && len == 0)
		return;
	t->segs[t->nsegs++] = (struct seg){kind, text, len};
	t->max_len += kind == SEG_TEXT ? len : PLACEHOLDER_MAX;
}

/* Splits s[0..len) into text and placeholders; a brace that starts no known placeholder is
 * text (JSON payloads are full of them). The segments borrow s, which must outlive t.
 * Returns 0, or -1 when out of memory. */
static int tmpl_parse(struct tmpl *t, const char *s, size_t len)
{
	size_t start = 0, plen;

	/* At most one text segment before each placeholder, plus the tail. */
	t->segs = calloc(len + 1, sizeof(*t->segs));
	t->nsegs = 0;
	t->max_len = 0;
	if (t->segs == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '{')
			continue;
		enum seg_kind k = placeholder_at(s + i, &plen);
		if (k == SEG_TEXT || i + plen > len)
			continue;
		tmpl_push(t, SEG_TEXT, s + start, i - start);
		tmpl_push(t, k, NULL, 0);
		i += plen - 1;
		start = i + 1;
	}
	tmpl_push(t, SEG_TEXT, s + start, len - start);
	return 0;
}

static void tmpl_free(struct tmpl *t)
{
	free(t->segs);
	t->segs = NULL;
}

/* Writes one placeholder's value for seq into out (PLACEHOLDER_MAX bytes); returns its length. */
static int placeholder_render(enum seg_kind k, const struct gen *g, long long seq, char *out)
{
	long long ms = g->time_base_ms + seq * g->time_step_ms;
	struct tm tm;
	time_t secs = (time_t)(ms / 1000);
	size_t n;

	switch (k) {
	case SEG_SEQ:
		return snprintf(out, PLACEHOLDER_MAX, "%lld", seq);
	case SEG_DEVICE:
		return snprintf(out, PLACEHOLDER_MAX, "dev-%05lld", seq % g->devices);
	case SEG_TIME_MS:
		return snprintf(out, PLACEHOLDER_MAX, "%lld", ms);
	case SEG_TIME_S:
		return snprintf(out, PLACEHOLDER_MAX, "%lld", ms / 1000);
	case SEG_TIME_ISO:
		if (gmtime_r(&secs, &tm) == NULL ||
		    (n = strftime(out, PLACEHOLDER_MAX, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
			return -1;
		return (int)n + snprintf(out + n, PLACEHOLDER_MAX - n, ".%03lldZ", ms % 1000);
	case SEG_TEXT:
		break;
	}
	return -1;
}

/* Renders t for seq into buf (at least t->max_len + 1 bytes), NUL-terminated. Returns the
 * length, or -1 if a time cannot be printed (the range is checked up front, so never). */
static int tmpl_render(const struct tmpl *t, const struct gen *g, long long seq, char *buf)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nsegs; i++) {
		const struct seg *s = &t->segs[i];
		if (s->kind == SEG_TEXT) {
			memcpy(buf + n, s->text, s->len);
			n += s->len;
			continue;
		}
		int w = placeholder_render(s->kind, g, seq, buf + n);
		if (w < 0 || w >= PLACEHOLDER_MAX)
			return -1;
		n += (size_t)w;
	}
	buf[n] = '\0';
	return n > INT_MAX ? -1 : (int)n;
}

/* ---- payload templates -------------------------------------------------------------- */

struct payloads {
	char *file;        /* the --payload-file contents, which the templates borrow; or NULL */
	struct tmpl *tmpl; /* one per non-blank line (or the one --payload) */
	size_t n;
	size_t max_len;
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *grown;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 65536;
			if ((grown = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static int payloads_add(struct payloads *p, const char *s, size_t len)
{
	struct tmpl *t = &p->tmpl[p->n];

	if (tmpl_parse(t, s, len) != 0)
		return -1;
	p->n++;
	if (t->max_len > p->max_len)
		p->max_len = t->max_len;
	return 0;
}

/* Splits the file into lines (a trailing CR is dropped) and parses each non-blank one. */
static int payloads_split(struct payloads *p, size_t len)
{
	char *line = p->file, *end = p->file + len;
	size_t lines = 1;

	for (char *c = p->file; c < end; c++)
		lines += *c == '\n';
	if ((p->tmpl = calloc(lines, sizeof(*p->tmpl))) == NULL)
		return -1;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *eol = nl != NULL ? nl : end;
		size_t n = (size_t)(eol - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (!is_blank(line, n) && payloads_add(p, line, n) != 0)
			return -1;
		line = eol + 1;
	}
	return 0;
}

static void payloads_free(struct payloads *p)
{
	for (size_t i = 0; i < p->n; i++)
		tmpl_free(&p->tmpl[i]);
	free(p->tmpl);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

/* Loads --payload or --payload-file into p. Returns 0, or -1 after a message on stderr;
 * free p with payloads_free either way. */
static int payloads_load(struct payloads *p, const struct opts *o)
{
	size_t len;

	memset(p, 0, sizeof(*p));
	if (o->payload != NULL) {
		if ((p->tmpl = calloc(1, sizeof(*p->tmpl))) == NULL ||
		    payloads_add(p, o->payload, strlen(o->payload)) != 0)
			goto nomem;
		return 0;
	}
	if ((p->file = read_file(o->payload_file, &len)) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", o->payload_file, strerror(errno));
		return -1;
	}
	if (payloads_split(p, len) != 0)
		goto nomem;
	if (p->n == 0) {
		fprintf(stderr, PROG ": %s: no payload template (only blank lines)\n", o->payload_file);
		return -1;
	}
	return 0;
nomem:
	fputs(PROG ": out of memory\n", stderr);
	return -1;
}

/* ---- the MQTT link ------------------------------------------------------------------ */

/* What the main thread shares with Paho's threads (callbacks); every field under mu. */
struct link {
	MQTTAsync client;
	const char *uri;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	char what[256];    /* the request under way ("connect to URI", ...), for messages */
	int req;           /* that request: 0 pending, 1 done, -1 failed */
	int broken;        /* set once with err: connection lost, refused, publish failed */
	char err[512];
	int receive_max;   /* the broker's Receive Maximum from CONNACK (65535 if absent) */
	/* publish */
	long long inflight, acked, low_water; /* the main thread is woken at low_water */
	double last_ack;
	/* count */
	long long received, want;
	double first, nth; /* arrival of the first and of the want-th message */
};

/* Records the first error; later ones are consequences. Call with mu held. */
__attribute__((format(printf, 2, 3))) static void link_fail(struct link *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->broken) {
		va_start(ap, fmt);
		vsnprintf(l->err, sizeof(l->err), fmt, ap);
		va_end(ap);
		l->broken = 1;
	}
	pthread_cond_broadcast(&l->cv);
}

/* What a failure callback got, as "reason 0x87 Not authorized; <message>; code -1 (Failure)",
 * leaving out the parts Paho did not fill in. */
static void describe_failure(const MQTTAsync_failureData5 *r, char *buf, size_t n)
{
	const char *lib = r->code != 0 ? MQTTAsync_strerror(r->code) : NULL;
	const char *reason = MQTTReasonCode_toString(r->reasonCode);
	size_t w = 0;

	buf[0] = '\0';
	if (r->reasonCode != MQTTREASONCODE_SUCCESS)
		w += (size_t)snprintf(buf + w, n - w, "reason 0x%02x %s; ", (unsigned)r->reasonCode,
				      reason != NULL ? reason : "(unknown)");
	if (w < n && r->message != NULL)
		w += (size_t)snprintf(buf + w, n - w, "%s; ", r->message);
	if (w < n && r->code != 0)
		w += (size_t)snprintf(buf + w, n - w, "code %d (%s); ", r->code,
				      lib != NULL ? lib : "unknown");
	if (w >= 2 && w < n)
		buf[w - 2] = '\0'; /* the last "; " */
	else if (w == 0)
		snprintf(buf, n, "no detail from the client library");
}

static void on_request_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct link *l = ctx;

	pthread_mutex_lock(&l->mu);
	/* A SUBACK carries the granted QoS, or a refusal (0x80 and up) in the reason code. */
	if (r != NULL && r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		link_fail(l, "%s refused: reason 0x%02x %s", l->what, (unsigned)r->reasonCode,
			  MQTTReasonCode_toString(r->reasonCode));
		l->req = -1;
	} else {
		l->req = 1;
	}
	if (r != NULL &&
	    MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
		l->receive_max =
			MQTTProperties_getNumericValue(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void on_request_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct link *l = ctx;
	char why[384];

	describe_failure(r, why, sizeof(why));
	pthread_mutex_lock(&l->mu);
	link_fail(l, "%s failed: %s", l->what, why);
	l->req = -1;
	pthread_mutex_unlock(&l->mu);
}

static void on_lost(void *ctx, char *cause)
{
	struct link *l = ctx;

	pthread_mutex_lock(&l->mu);
	link_fail(l, "connection to %s lost: %s", l->uri, cause != NULL ? cause : "no cause given");
	pthread_mutex_unlock(&l->mu);
}

/* The broker sent DISCONNECT (MQTT 5), with its reason: more telling than on_lost's. */
static void on_disconnected(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc)
{
	struct link *l = ctx;

	(void)props;
	pthread_mutex_lock(&l->mu);
	link_fail(l, "broker %s disconnected us: reason 0x%02x %s", l->uri, (unsigned)rc,
		  MQTTReasonCode_toString(rc));
	pthread_mutex_unlock(&l->mu);
}

static void on_publish_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct link *l = ctx;

	(void)r; /* 0x10 "no matching subscribers" is a success too */
	pthread_mutex_lock(&l->mu);
	l->inflight--;
	l->acked++;
	l->last_ack = now_s();
	if (l->inflight <= l->low_water)
		pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void on_publish_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct link *l = ctx;
	char why[384];

	describe_failure(r, why, sizeof(why));
	pthread_mutex_lock(&l->mu);
	l->inflight--;
	link_fail(l, "publish failed after %lld acknowledged: %s", l->acked, why);
	pthread_mutex_unlock(&l->mu);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct link *l = ctx;
	double t = now_s();

	(void)topic_len;
	pthread_mutex_lock(&l->mu);
	if (l->received++ == 0)
		l->first = t;
	if (l->received == l->want) {
		l->nth = t;
		pthread_cond_signal(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1; /* handled: Paho acknowledges it */
}

static int link_init(struct link *l, const char *uri)
{
	pthread_condattr_t ca;

	memset(l, 0, sizeof(*l));
	l->uri = uri;
	l->receive_max = 65535;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
		 pthread_cond_init(&l->cv, &ca) != 0;
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		return -1;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		pthread_cond_destroy(&l->cv);
		return -1;
	}
	return 0;
}

/* Creates the Paho client (MQTT 5, in-memory persistence) with our callbacks. Paho
 * refuses a publish while more than max_buffered commands wait in its queue, connected or
 * not, so a publisher passes its window (plus room for its own requests). */
static int link_create(struct link *l, const char *client_id, int max_buffered)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	int rc;

	co.maxBufferedMessages = max_buffered;

	rc = MQTTAsync_createWithOptions(&l->client, l->uri, client_id, MQTTCLIENT_PERSISTENCE_NONE,
					 NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		l->client = NULL;
		fprintf(stderr, PROG ": cannot create a client for %s: %s\n", l->uri,
			MQTTAsync_strerror(rc));
		return -1;
	}
	if ((rc = MQTTAsync_setCallbacks(l->client, l, on_lost, on_message, NULL)) !=
		    MQTTASYNC_SUCCESS ||
	    (rc = MQTTAsync_setDisconnected(l->client, l, on_disconnected)) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, PROG ": cannot set callbacks: %s\n", MQTTAsync_strerror(rc));
		return -1;
	}
	return 0;
}

/* Paho calls back into l until MQTTAsync_destroy returns, so destroy before freeing l. */
static void link_close(struct link *l)
{
	if (l->client != NULL)
		MQTTAsync_destroy(&l->client);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
}

static void link_begin(struct link *l, const char *what, const char *arg)
{
	pthread_mutex_lock(&l->mu);
	snprintf(l->what, sizeof(l->what), "%s %s", what, arg);
	l->req = 0;
	pthread_mutex_unlock(&l->mu);
}

/* Waits for the request begun with link_begin and issued with Paho's return code call_rc. */
static int link_end(struct link *l, int call_rc, double timeout_s)
{
	struct timespec dl = deadline_in(timeout_s);
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	if (call_rc != MQTTASYNC_SUCCESS)
		link_fail(l, "%s failed: %s", l->what, MQTTAsync_strerror(call_rc));
	while (l->req == 0 && !l->broken && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&l->cv, &l->mu, &dl);
	if (l->req == 0 && !l->broken)
		link_fail(l, "%s: no answer in %.0f s", l->what, timeout_s);
	rc = l->req == 1 && !l->broken ? 0 : -1;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* Connects; with session, resumes (or creates) a session that outlives us by an hour. */
static int link_connect(struct link *l, int session, int max_inflight)
{
	MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer5;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
			       .value.integer4 = SESSION_EXPIRY_S};
	int rc;

	c.keepAliveInterval = 60;
	c.cleanstart = !session;
	c.maxInflight = max_inflight;
	c.connectTimeout = CONNECT_TIMEOUT_S;
	c.onSuccess5 = on_request_ok;
	c.onFailure5 = on_request_fail;
	c.context = l;
	if (session) {
		if (MQTTProperties_add(&props, &expiry) != 0) {
			fputs(PROG ": cannot add the session expiry property\n", stderr);
			return -1;
		}
		c.connectProperties = &props;
	}
	link_begin(l, "connect to", l->uri);
	rc = link_end(l, MQTTAsync_connect(l->client, &c), CONNECT_TIMEOUT_S + 5);
	MQTTProperties_free(&props);
	return rc;
}

static int link_subscribe(struct link *l, const char *filter, int qos)
{
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;

	r.onSuccess5 = on_request_ok;
	r.onFailure5 = on_request_fail;
	r.context = l;
	link_begin(l, "subscribe to", filter);
	return link_end(l, MQTTAsync_subscribe(l->client, filter, qos, &r), 30);
}

/* A clean DISCONNECT (the session, if any, is kept); nothing to do if the link is down. */
static void link_disconnect(struct link *l)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;

	if (l->client == NULL || !MQTTAsync_isConnected(l->client))
		return;
	d.timeout = 1000;
	d.onSuccess5 = on_request_ok;
	d.onFailure5 = on_request_fail;
	d.context = l;
	link_begin(l, "disconnect from", l->uri);
	(void)link_end(l, MQTTAsync_disconnect(l->client, &d), 5);
}

/* Prints the link's error, if any. When the connection drops, Paho fails what is in flight
 * (often before on_lost runs), so a failed publish says whether the link is down. */
static void link_report(struct link *l)
{
	int down = l->client != NULL && !MQTTAsync_isConnected(l->client);

	pthread_mutex_lock(&l->mu);
	if (l->broken)
		fprintf(stderr, PROG ": %s%s%s\n", l->err,
			down && strstr(l->err, "lost") == NULL ? "; not connected to " : "",
			down && strstr(l->err, "lost") == NULL ? l->uri : "");
	pthread_mutex_unlock(&l->mu);
}

/* ---- publish ------------------------------------------------------------------------ */

struct publisher {
	struct link *l;
	const struct opts *o;
	struct gen gen;
	struct tmpl topic;
	struct payloads payloads;
	char *topic_buf, *payload_buf;
};

static int publisher_init(struct publisher *p, struct link *l, const struct opts *o)
{
	memset(p, 0, sizeof(*p));
	p->l = l;
	p->o = o;
	p->gen = (struct gen){o->devices, o->time_base_ms, o->time_step_ms};
	if (payloads_load(&p->payloads, o) != 0)
		return -1;
	if (tmpl_parse(&p->topic, o->topic, strlen(o->topic)) != 0 ||
	    (p->topic_buf = malloc(p->topic.max_len + 1)) == NULL ||
	    (p->payload_buf = malloc(p->payloads.max_len + 1)) == NULL) {
		fputs(PROG ": out of memory\n", stderr);
		return -1;
	}
	return 0;
}

static void publisher_free(struct publisher *p)
{
	free(p->payload_buf);
	free(p->topic_buf);
	tmpl_free(&p->topic);
	payloads_free(&p->payloads);
}

/* Waits (mu held) until at most low messages are in flight or the link broke; a broker
 * that acknowledges nothing for STALL_TIMEOUT_S breaks it. */
static void window_wait_locked(struct link *l, long long low)
{
	l->low_water = low;
	while (!l->broken && l->inflight > low) {
		struct timespec dl = deadline_in(1.0);
		pthread_cond_timedwait(&l->cv, &l->mu, &dl);
		if (l->inflight > low && now_s() - l->last_ack > STALL_TIMEOUT_S)
			link_fail(l, "no acknowledgement for %.0f s with %lld in flight",
				  STALL_TIMEOUT_S, l->inflight);
	}
}

/* Takes a slot in the window of k unacknowledged messages. When the window is full it
 * waits until a quarter of it drained: one wake-up per k/4 acknowledgements instead of
 * one per acknowledgement. */
static int window_take(struct link *l, long long k)
{
	pthread_mutex_lock(&l->mu);
	if (l->inflight >= k)
		window_wait_locked(l, k - 1 - k / 4);
	l->inflight++;
	int rc = l->broken ? -1 : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* Waits until every message sent is acknowledged (or the link broke). */
static int window_drain(struct link *l)
{
	pthread_mutex_lock(&l->mu);
	window_wait_locked(l, 0);
	int rc = l->broken ? -1 : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* Renders and sends message seq; its acknowledgement frees the window slot. */
static int publish_one(struct publisher *p, long long seq)
{
	const struct tmpl *t = &p->payloads.tmpl[(size_t)(seq % (long long)p->payloads.n)];
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
	int tlen = tmpl_render(&p->topic, &p->gen, seq, p->topic_buf);
	int plen = tmpl_render(t, &p->gen, seq, p->payload_buf);
	int rc;

	if (tlen < 0 || plen < 0) {
		fprintf(stderr, PROG ": cannot render message %lld\n", seq);
		return -1;
	}
	m.payload = p->payload_buf; /* Paho copies topic and payload */
	m.payloadlen = plen;
	m.qos = (int)p->o->qos;
	r.onSuccess5 = on_publish_ok;
	r.onFailure5 = on_publish_fail;
	r.context = p->l;
	rc = MQTTAsync_sendMessage(p->l->client, p->topic_buf, &m, &r);
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&p->l->mu);
		p->l->inflight--;
		link_fail(p->l, "publish of message %lld to %s failed: %s", seq, p->topic_buf,
			  MQTTAsync_strerror(rc));
		pthread_mutex_unlock(&p->l->mu);
		return -1;
	}
	return 0;
}

/* --rate: message i is not sent before t0 + i / rate (sleeping only when 1 ms ahead). */
static void pace(double t0, long long i, long long rate)
{
	if (rate > 0) {
		double ahead = t0 + (double)i / (double)rate - now_s();
		if (ahead > 0.001)
			sleep_s(ahead);
	}
}

/* The window: --inflight, but no more than the broker's Receive Maximum. Paho holds back
 * publishes beyond it and only looks at them again after a timeout, so a wider window
 * would crawl (Mosquitto's default max_inflight_messages 20 is sent as Receive Maximum). */
static long long window_size(struct link *l, const struct opts *o)
{
	pthread_mutex_lock(&l->mu);
	long long k = o->inflight, max = l->receive_max;
	pthread_mutex_unlock(&l->mu);
	if (o->qos > 0 && k > max) {
		fprintf(stderr, PROG ": the broker takes at most %lld unacknowledged messages "
				"(Receive Maximum): --inflight %lld lowered to %lld\n", max, k, max);
		k = max;
	}
	return k;
}

/* Publishes --count messages from the main thread and waits for every acknowledgement.
 * (Publishing from the acknowledgement callback instead would save the hand-over, but
 * Paho 1.3 calls it with its own lock held and MQTTAsync_sendMessage there deadlocks.) */
static int publish_run(struct publisher *p)
{
	const struct opts *o = p->o;
	long long k = window_size(p->l, o);
	double t0 = now_s(), secs;

	pthread_mutex_lock(&p->l->mu);
	p->l->last_ack = t0;
	pthread_mutex_unlock(&p->l->mu);
	for (long long i = 0; i < o->count; i++) {
		pace(t0, i, o->rate);
		if (window_take(p->l, k) != 0 || publish_one(p, o->start_seq + i) != 0)
			return -1;
	}
	if (window_drain(p->l) != 0)
		return -1;
	secs = now_s() - t0;
	printf("published %lld messages in %.3f s (%.0f msg/s)\n", o->count, secs,
	       secs > 0 ? (double)o->count / secs : 0.0);
	return 0;
}

/* ---- publish --batch: many messages per send() ---- */

/* Renders messages [i, i + n) into w's buffer. */
static int batch_render(struct publisher *p, struct wire *w, long long i, long long n)
{
	for (long long k = i; k < i + n; k++) {
		long long seq = p->o->start_seq + k;
		const struct tmpl *t = &p->payloads.tmpl[(size_t)(seq % (long long)p->payloads.n)];
		int tlen = tmpl_render(&p->topic, &p->gen, seq, p->topic_buf);
		int plen = tmpl_render(t, &p->gen, seq, p->payload_buf);
		if (tlen < 0 || plen < 0 ||
		    wire_queue(w, p->topic_buf, (size_t)tlen, p->payload_buf, (size_t)plen,
			       (int)p->o->qos) != 0) {
			fprintf(stderr, PROG ": cannot render message %lld\n", seq);
			return -1;
		}
	}
	return 0;
}

/* Waits until at most low messages are in flight. */
static int batch_wait(struct wire *w, long long low, char *err, size_t errlen)
{
	double last = now_s();
	long long before = wire_inflight(w);

	while (wire_inflight(w) > low) {
		if (wire_read_acks(w, 100, err, errlen) != 0)
			return -1;
		if (wire_inflight(w) < before) {
			before = wire_inflight(w);
			last = now_s();
		} else if (now_s() - last > STALL_TIMEOUT_S) {
			snprintf(err, errlen, "no acknowledgement for %.0f s with %lld in flight",
				 STALL_TIMEOUT_S, wire_inflight(w));
			return -1;
		}
	}
	return 0;
}

/* Sends --count messages in batches of at most --batch, paced by --rate, within a window
 * of --inflight (or the broker's Receive Maximum) unacknowledged QoS 1 messages. */
static int batch_run(struct publisher *p, struct wire *w, char *err, size_t errlen)
{
	const struct opts *o = p->o;
	long long k = o->inflight < wire_receive_max(w) ? o->inflight : wire_receive_max(w);
	long long b = o->batch < k ? o->batch : k;
	double t0 = now_s(), secs;

	for (long long i = 0; i < o->count; i += b) {
		long long n = o->count - i < b ? o->count - i : b;
		pace(t0, i, o->rate);
		if (o->qos > 0 && batch_wait(w, k - n, err, errlen) != 0)
			return -1;
		if (batch_render(p, w, i, n) != 0 || wire_send(w, err, errlen) != 0 ||
		    wire_read_acks(w, 0, err, errlen) != 0)
			return -1;
	}
	if (batch_wait(w, 0, err, errlen) != 0)
		return -1;
	secs = now_s() - t0;
	printf("published %lld messages in %.3f s (%.0f msg/s)\n", o->count, secs,
	       secs > 0 ? (double)o->count / secs : 0.0);
	return 0;
}

static int publish_batched(const struct opts *o)
{
	struct publisher p;
	struct wire *w = NULL;
	char err[256];
	int rc = -1;

	if (publisher_init(&p, NULL, o) != 0)
		goto out;
	if ((w = wire_connect(o->broker, o->client_id, err, sizeof(err))) == NULL ||
	    batch_run(&p, w, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	rc = 0;
out:
	wire_close(w);
	publisher_free(&p);
	return rc;
}

static int publish_paho(const struct opts *o)
{
	struct publisher p;
	struct link l;
	int rc = -1;

	if (link_init(&l, o->broker) != 0) {
		fputs(PROG ": cannot initialise a mutex\n", stderr);
		return -1;
	}
	if (publisher_init(&p, &l, o) != 0 || link_create(&l, o->client_id, (int)o->inflight + 16) != 0)
		goto out;
	if (link_connect(&l, 0, (int)o->inflight) != 0 || publish_run(&p) != 0) {
		link_report(&l);
		goto out;
	}
	link_disconnect(&l);
	rc = 0;
out:
	link_close(&l);
	publisher_free(&p);
	return rc;
}

static int publish_main(const struct opts *o)
{
	return o->batch > 0 ? publish_batched(o) : publish_paho(o);
}

/* ---- count -------------------------------------------------------------------------- */

static void count_progress(struct link *l, const struct opts *o, double *next)
{
	if (!o->quiet && now_s() >= *next) {
		fprintf(stderr, PROG ": %lld of %lld messages so far\n", l->received, l->want);
		*next += PROGRESS_EVERY_S;
	}
}

/* Waits until want messages arrived, the link broke or the timeout passed. */
static int count_wait(struct link *l, const struct opts *o)
{
	double end = now_s() + (double)o->timeout_s, next = now_s() + PROGRESS_EVERY_S, left;
	int rc;

	pthread_mutex_lock(&l->mu);
	while (l->received < l->want && !l->broken && (left = end - now_s()) > 0) {
		struct timespec dl = deadline_in(left < 1.0 ? left : 1.0);
		pthread_cond_timedwait(&l->cv, &l->mu, &dl);
		count_progress(l, o, &next);
	}
	rc = l->received >= l->want ? 0 : -1;
	if (rc != 0 && !l->broken)
		link_fail(l, "timed out after %lld s", o->timeout_s);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* The process's CPU seconds so far: what the MQTT client library alone costs a consumer
 * that does nothing with its messages (the benchmarks' floor for any Paho ingestor). */
static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0.0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void count_print(struct link *l)
{
	pthread_mutex_lock(&l->mu);
	double secs = l->want > 0 ? l->nth - l->first : 0.0;
	printf("received %lld messages in %.3f s (%.0f msg/s) first-to-last, cpu %.2f s\n",
	       l->want, secs, secs > 0 ? (double)l->want / secs : 0.0, cpu_seconds());
	pthread_mutex_unlock(&l->mu);
}

static int count_main(const struct opts *o)
{
	struct link l;
	int rc = -1;

	if (link_init(&l, o->broker) != 0) {
		fputs(PROG ": cannot initialise a mutex\n", stderr);
		return -1;
	}
	l.want = o->count;
	if (link_create(&l, o->client_id, 100) != 0)
		goto out;
	if (link_connect(&l, (int)o->session, 65535) != 0 ||
	    link_subscribe(&l, o->topic, (int)o->qos) != 0) {
		link_report(&l);
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, PROG ": subscribed to %s as %s%s\n", o->topic, o->client_id,
			o->session ? " (session kept 3600 s after disconnect)" : "");
	if (count_wait(&l, o) != 0) {
		link_report(&l);
		pthread_mutex_lock(&l.mu);
		fprintf(stderr, PROG ": %lld of %lld messages arrived\n", l.received, l.want);
		pthread_mutex_unlock(&l.mu);
		goto out;
	}
	count_print(&l);
	link_disconnect(&l);
	rc = 0;
out:
	link_close(&l);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (opts_parse(&o, argc, argv) != 0)
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN); /* a broken connection is reported, not fatal */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return (o.mode == MODE_PUBLISH ? publish_main(&o) : count_main(&o)) == 0 ? 0 : 1;
}
