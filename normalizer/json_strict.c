/*
 * Strict JSON (RFC 8259): a one-pass validator over the bytes that allocates nothing, then
 * cJSON to build the tree. What only the tree shows (duplicate keys, numbers beyond double
 * range) the validator rules out on the way for nearly all text: it keeps the keys of each
 * open object and flags numbers with many digits. Only when it cannot rule them out (a key
 * may repeat, has an escape, a number is long) does one walk over the tree decide exactly.
 * The tree walk has no byte offsets, so on its rare errors a second, simpler scan of the
 * (by then known valid) text finds the offset.
 */
#include "normalizer/json_strict.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Word-at-a-time string scanning needs a little-endian GCC or clang, sixteen at a time also
 * SSE2 (every x86-64); the byte loops that remain without them are complete on their own
 * (build with -DJSON_STRICT_PORTABLE to test them). */
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                         \
	!defined(JSON_STRICT_PORTABLE)
#define FAST_STRINGS 1
#ifdef __SSE2__
#include <emmintrin.h>
#define WIDE 16
#endif
#endif

/* cJSON refuses nesting beyond this itself; past it the validator must refuse first. */
#define DEPTH_LIMIT CJSON_NESTING_LIMIT
/* Objects up to this many keys are checked for duplicates without allocating. */
#define SMALL_OBJECT 64
/* How much of a duplicate key an error message shows. */
#define KEY_SHOWN 40

struct scan {
	const unsigned char *buf;
	const unsigned char *end;
	char *err;
	size_t errlen;
	int suspect; /* the tree must be checked: a key may repeat, a number overflow */
};

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen,
							   const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* A reason cut short by a small buffer is still a reason; nothing else to do. */
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

static size_t offset(const struct scan *s, const unsigned char *p)
{
	return (size_t)(p - s->buf);
}

/* "character 'x'" for printable ASCII, "byte 0x0c" for anything else. */
static void describe(char *out, size_t outlen, unsigned char c)
{
	int n;

	if (c >= 0x20 && c < 0x7f)
		n = snprintf(out, outlen, "character '%c'", c);
	else
		n = snprintf(out, outlen, "byte 0x%02x", c);
	if (n < 0)
		out[0] = '\0';
}

static int fail_at(struct scan *s, const unsigned char *p)
{
	char what[24];

	if (p >= s->end) {
		seterr(s->err, s->errlen, "unexpected end of input at byte %zu",
		       offset(s, s->end));
		return -1;
	}
	describe(what, sizeof(what), *p);
	seterr(s->err, s->errlen, "unexpected %s at byte %zu", what, offset(s, p));
	return -1;
}

/* ---- UTF-8 ---- */

static int is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * Length of the well-formed UTF-8 sequence starting at p (RFC 3629 / Unicode table 3-7:
 * no overlongs, no surrogates, nothing past U+10FFFF), or 0 if it is ill-formed.
 */
static inline size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return avail >= 2 && is_cont(p[1]) ? 2 : 0;
	if (c < 0xf0) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		return avail >= 3 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) ? 3 : 0;
	}
	if (c < 0xf5) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		return avail >= 4 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) &&
			       is_cont(p[3])
			   ? 4
			   : 0;
	}
	return 0;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t load8(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

long utf8_invalid_at(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;

	while (p < end) {
		/* Text is mostly ASCII: skip it eight bytes at a time. */
		while (end - p >= 8 && (load8(p) & HIGHS) == 0)
			p += 8;
		if (p == end)
			break;
		size_t n = utf8_seq(p, end);
		if (n == 0)
			return (long)(p - (const unsigned char *)buf);
		p += n;
	}
	return -1;
}

/* ---- strings ---- */

/* A byte a string may hold as it is (non-ASCII goes the slow way, through UTF-8 checks). */
static int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The code unit of the \u escape (four hex digits) at p (p at the backslash), or -1 (reported). */
static long unit16(struct scan *s, const unsigned char *p)
{
	long v = 0;

	for (int i = 2; i < 6; i++) {
		if (p + i >= s->end)
			return fail_at(s, s->end);
		int h = hexval(p[i]);
		if (h < 0) {
			seterr(s->err, s->errlen, "invalid \\u escape at byte %zu", offset(s, p));
			return -1;
		}
		v = v << 4 | h;
	}
	return v;
}

/* A \u escape at p; returns where it ends, or NULL (reported). */
static const unsigned char *scan_unicode(struct scan *s, const unsigned char *p)
{
	long u = unit16(s, p), lo;

	if (u < 0)
		return NULL;
	if (u == 0) {
		/* cJSON would cut the string there: refuse rather than truncate silently. */
		seterr(s->err, s->errlen, "\\u0000 in string at byte %zu", offset(s, p));
		return NULL;
	}
	if (u < 0xd800 || u > 0xdfff)
		return p + 6;
	if (u <= 0xdbff && p + 7 < s->end && p[6] == '\\' && p[7] == 'u') {
		lo = unit16(s, p + 6);
		if (lo < 0)
			return NULL;
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return p + 12;
	}
	seterr(s->err, s->errlen, "unpaired surrogate \\u%04lx at byte %zu", u, offset(s, p));
	return NULL;
}

/* An escape at p (the backslash); returns where it ends, or NULL (reported). */
static const unsigned char *scan_escape(struct scan *s, const unsigned char *p)
{
	char what[24];

	if (p + 1 >= s->end) {
		fail_at(s, s->end);
		return NULL;
	}
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return p + 2;
	case 'u':
		return scan_unicode(s, p);
	default:
		describe(what, sizeof(what), p[1]);
		seterr(s->err, s->errlen, "invalid escape %s at byte %zu", what,
		       offset(s, p + 1));
		return NULL;
	}
}

#ifdef FAST_STRINGS
/*
 * A flag (high bit) in each byte of v that is '"', '\\', control or non-ASCII, and in
 * *quotes each that is '"'. The flags are the has-zero-byte trick: a flag may be false,
 * but only above (later than) a true one, since a borrow runs upwards from a true hit; so
 * the lowest flag, the only one used, is always true.
 */
static inline uint64_t specials(uint64_t v, uint64_t *quotes)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');

	*quotes = (q - ONES) & ~q & HIGHS;
	return (*quotes | ((b - ONES) & ~b) | (v - ONES * 0x20) | v) & HIGHS;
}
#endif

#ifdef WIDE
static inline __m128i load16(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* Bit i set when p[i] is '"', '\\', control or non-ASCII (a signed compare catches both). */
static inline unsigned wide_specials(const unsigned char *p)
{
	__m128i v = load16(p);
	__m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
	__m128i c = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

/*
 * Past the plain bytes at p, many at a time: to the first '"', '\\', control or non-ASCII
 * byte, or to the end. *quote is set when that byte is the closing quote.
 */
static inline const unsigned char *skip_plain(const unsigned char *p,
					      const unsigned char *end, int *quote)
{
#ifdef WIDE
	for (; end - p >= WIDE; p += WIDE) {
		unsigned m = wide_specials(p);
		if (m != 0) {
			p += __builtin_ctz(m);
			*quote = *p == '"';
			return p;
		}
	}
#endif
#ifdef FAST_STRINGS
	uint64_t m, qm;

	for (; end - p >= 8; p += 8) {
		if ((m = specials(load8(p), &qm)) != 0) {
			*quote = (qm & m & (~m + 1)) != 0;
			return p + (__builtin_ctzll(m) >> 3);
		}
	}
#endif
	while (p < end && plain(*p))
		p++;
	*quote = p < end && *p == '"';
	return p;
}

/* A run of non-ASCII characters at p; returns what follows, or NULL (reported). */
static const unsigned char *skip_utf8(struct scan *s, const unsigned char *p)
{
	do {
#ifdef FAST_STRINGS
		/* Most text past ASCII is 3-byte characters (CJK): two at a time, no branches
		 * but the loop's, when neither lead byte is E0 or ED (which need more checks). */
		while (s->end - p >= 8) {
			uint64_t v = load8(p), lead = v & 0x0f00000fULL;
			if ((v & 0xc0c0f0c0c0f0ULL) != 0x8080e08080e0ULL ||
			    (lead & 0xff) == 0 || (lead & 0xff) == 0x0d || (lead >> 24) == 0 ||
			    (lead >> 24) == 0x0d)
				break;
			p += 6;
		}
		if (p == s->end || *p < 0x80)
			break;
#endif
		size_t n = utf8_seq(p, s->end);
		if (n == 0) {
			seterr(s->err, s->errlen, "invalid UTF-8 at byte %zu", offset(s, p));
			return NULL;
		}
		p += n;
	} while (p < s->end && *p >= 0x80);
	return p;
}

/* A byte in a string that is not plain and not the closing quote; returns what follows. */
static const unsigned char *scan_special(struct scan *s, const unsigned char *p)
{
	char what[24];

	if (*p >= 0x80)
		return skip_utf8(s, p);
	if (*p == '\\')
		return scan_escape(s, p);
	describe(what, sizeof(what), *p);
	seterr(s->err, s->errlen, "unescaped %s in string at byte %zu", what, offset(s, p));
	return NULL;
}

/* The rest of a string from p, a byte that is not plain; returns what follows it. */
static const unsigned char *string_rest(struct scan *s, const unsigned char *p)
{
	int quote;

	for (;;) {
		if (p == s->end) {
			fail_at(s, p);
			return NULL;
		}
		if ((p = scan_special(s, p)) == NULL)
			return NULL;
		p = skip_plain(p, s->end, &quote);
		if (quote)
			return p + 1;
	}
}

/*
 * The string whose opening quote is at p; returns what follows the closing quote. Inline
 * for the common case, a string of plain bytes only.
 */
static inline const unsigned char *scan_string(struct scan *s, const unsigned char *p)
{
	int quote;

	p = skip_plain(p + 1, s->end, &quote);
	return quote ? p + 1 : string_rest(s, p);
}

/* ---- numbers and literals ---- */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* At least one digit at p, then any more; returns the end, or NULL (reported). */
static const unsigned char *scan_digits(struct scan *s, const unsigned char *p)
{
	if (p >= s->end || !is_digit(*p)) {
		fail_at(s, p);
		return NULL;
	}
	while (p < s->end && is_digit(*p))
		p++;
	return p;
}

/*
 * Integer digits and exponent digits up to which a number is surely below 1e299, so within
 * double range: anything bigger may be (1e999 is not) and is left to the tree check.
 * Underflow is not an error, so small numbers need no check.
 */
#define SAFE_INT_DIGITS 200
#define SAFE_EXP_DIGITS 2

/*
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? at p; returns its end or NULL.
 * Sets s->suspect when the number might be beyond double range.
 */
static const unsigned char *scan_number(struct scan *s, const unsigned char *p)
{
	const unsigned char *end = s->end, *digits;

	if (*p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		/* "01": say so here; left to the caller it would read as trailing data. */
		if (p < end && is_digit(*p)) {
			fail_at(s, p);
			return NULL;
		}
	} else {
		digits = p;
		if ((p = scan_digits(s, p)) == NULL)
			return NULL;
		if (p - digits > SAFE_INT_DIGITS)
			s->suspect = 1;
	}
	if (p < end && *p == '.' && (p = scan_digits(s, p + 1)) == NULL)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		digits = p;
		if ((p = scan_digits(s, p)) != NULL && p - digits > SAFE_EXP_DIGITS)
			s->suspect = 1;
	}
	return p;
}

static const unsigned char *scan_literal(struct scan *s, const unsigned char *p,
					 const char *word, size_t n)
{
	if ((size_t)(s->end - p) >= n && memcmp(p, word, n) == 0)
		return p + n;
	for (size_t i = 1; i < n; i++) {
		if (p + i >= s->end || p[i] != (unsigned char)word[i]) {
			fail_at(s, p + i);
			return NULL;
		}
	}
	return NULL; /* not reached: the first test matched */
}

/* A number or literal at p (or else an error); returns its end, or NULL (reported). */
static const unsigned char *scan_scalar(struct scan *s, const unsigned char *p)
{
	switch (*p) {
	case 't':
		return scan_literal(s, p, "true", 4);
	case 'f':
		return scan_literal(s, p, "false", 5);
	case 'n':
		return scan_literal(s, p, "null", 4);
	default:
		if (*p == '-' || is_digit(*p))
			return scan_number(s, p);
		fail_at(s, p);
		return NULL;
	}
}

/* ---- keys ---- */

/*
 * The keys of the open objects, as ids of their raw bytes (see key_id), so the validator
 * can show that no object repeats a key without the tree. Each object's ids sit on one
 * stack above a frame of two entries (the enclosing object's filter and base); a 64-bit
 * filter of the innermost object's ids spares most lookups. A repeated id, a key with an
 * escape (whose raw bytes are not what cJSON compares) or a full stack sets s->suspect,
 * and tracking stops: the exact check on the tree then decides. Raw bytes of unescaped
 * keys are exactly cJSON's strings, since the validator refuses raw NUL bytes.
 */
#define KEY_STACK 256

struct keys {
	uint64_t filter; /* a bit for each key of the innermost object (see keys_add) */
	size_t base;     /* where the innermost object's ids start in id[] */
	size_t top;
	uint64_t id[KEY_STACK];
};

#define KEY_MUL 0x9e3779b97f4a7c15ULL

#ifdef FAST_STRINGS
/* The low n bytes of v, for n < 8. */
static uint64_t low_bytes(uint64_t v, unsigned n)
{
	return v & ~(~(uint64_t)0 << (n * 8));
}
#endif

/*
 * What stands for the key whose raw bytes are p[0..n): under 8 bytes, the bytes themselves
 * (a key holds no NUL, so zero padding is unambiguous); longer, a hash of its 8-byte words
 * and the rest, with the top bit set so it never equals a short key's. plain_key computes
 * the same as it scans. The hash need not be strong, only cheap: two keys with one id just
 * cost the exact check on the tree.
 */
static uint64_t key_id(const unsigned char *p, size_t n)
{
	size_t full = n & ~(size_t)7;
	uint64_t h = 0, rest = 0;

	for (size_t i = 0; i < full; i += 8)
		h = (h ^ load8(p + i)) * KEY_MUL;
	/* Little-endian, this is low_bytes(load8(p + full), n - full) without reading past. */
	memcpy(&rest, p + full, n - full);
	return n < 8 ? rest : ((h ^ rest) * KEY_MUL) | (uint64_t)1 << 63;
}

/*
 * The key at p (past its opening quote) if it is plain ASCII and not near the end: sets
 * *id (see key_id) and returns its closing quote. Otherwise NULL, for the general path.
 */
static inline const unsigned char *plain_key(const unsigned char *p, const unsigned char *end,
					     uint64_t *id)
{
#ifdef WIDE
	/* Most keys are shorter than 16 bytes: one test, then the id from two words. */
	if (end - p >= WIDE) {
		unsigned m = wide_specials(p), n;
		if (m != 0) {
			n = (unsigned)__builtin_ctz(m);
			if (p[n] != '"')
				return NULL;
			if (n < 8)
				*id = low_bytes(load8(p), n);
			else
				*id = ((load8(p) * KEY_MUL ^ low_bytes(load8(p + 8), n - 8)) *
				       KEY_MUL) | (uint64_t)1 << 63;
			return p + n;
		}
	}
#endif
#ifdef FAST_STRINGS
	const unsigned char *start = p;
	uint64_t h = 0, v, m, qm;

	for (; end - p >= 8; p += 8) {
		v = load8(p);
		if ((m = specials(v, &qm)) != 0) {
			if ((qm & m & (~m + 1)) == 0)
				return NULL;
			unsigned n = (unsigned)__builtin_ctzll(m) >> 3;
			v = low_bytes(v, n);
			*id = p == start ? v : ((h ^ v) * KEY_MUL) | (uint64_t)1 << 63;
			return p + n;
		}
		h = (h ^ v) * KEY_MUL;
	}
#else
	(void)p, (void)end, (void)id;
#endif
	return NULL;
}

static void keys_open(struct scan *s, struct keys *k)
{
	if (KEY_STACK - k->top < 2) {
		s->suspect = 1;
		return;
	}
	k->id[k->top] = k->filter;
	k->id[k->top + 1] = k->base;
	k->top += 2;
	k->base = k->top;
	k->filter = 0;
}

static void keys_close(struct keys *k)
{
	k->top = k->base - 2;
	k->filter = k->id[k->top];
	k->base = (size_t)k->id[k->top + 1];
}

/* A key of the innermost object, by its id; sets s->suspect if it may repeat one. */
static void keys_add(struct scan *s, struct keys *k, uint64_t id)
{
	uint64_t bit = (uint64_t)1 << ((id * KEY_MUL) >> 58);

	if (k->filter & bit) {
		for (size_t i = k->base; i < k->top; i++) {
			if (k->id[i] == id) {
				s->suspect = 1;
				return;
			}
		}
	}
	if (k->top == KEY_STACK) {
		s->suspect = 1;
		return;
	}
	k->id[k->top++] = id;
	k->filter |= bit;
}

/* ---- structure ---- */

/* The JSON white space bytes, as bits of a word indexed by byte. */
#define WS_BITS                                                                             \
	((uint64_t)1 << ' ' | (uint64_t)1 << '\n' | (uint64_t)1 << '\r' | (uint64_t)1 << '\t')

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p <= ' ' && (WS_BITS >> *p & 1)) {
#ifdef WIDE
		/* Pretty-printed text: the indentation after a line feed, in one step. */
		if (*p == '\n' && end - p > WIDE) {
			__m128i sp = _mm_cmpeq_epi8(load16(p + 1), _mm_set1_epi8(' '));
			p += __builtin_ctz(~(unsigned)_mm_movemask_epi8(sp));
		}
#endif
		p++;
	}
	return p;
}

/*
 * A key and its colon at p (white space skipped); returns what follows, or NULL. Unless
 * s->suspect is already set, the key goes into k.
 */
static const unsigned char *scan_key(struct scan *s, struct keys *k, const unsigned char *p)
{
	const unsigned char *q;
	uint64_t id;

	p = skip_ws(p, s->end);
	if (p == s->end || *p != '"') {
		fail_at(s, p);
		return NULL;
	}
	if ((q = plain_key(p + 1, s->end, &id)) == NULL) {
		/* The general scan; the raw bytes stand for the key only if it has no escape. */
		if ((q = scan_string(s, p)) == NULL)
			return NULL;
		q--;
		id = key_id(p + 1, (size_t)(q - p - 1));
		if (memchr(p + 1, '\\', (size_t)(q - p - 1)) != NULL)
			s->suspect = 1;
	}
	if (!s->suspect)
		keys_add(s, k, id);
	/* Nearly always the colon comes next, white space after it if anywhere. */
	if (s->end - q > 1 && q[1] == ':')
		return q + 2;
	p = skip_ws(q + 1, s->end);
	if (p == s->end || *p != ':') {
		fail_at(s, p);
		return NULL;
	}
	return p + 1;
}

static int too_deep(struct scan *s, const unsigned char *p, int max_depth)
{
	seterr(s->err, s->errlen, "nesting deeper than %d at byte %zu", max_depth, offset(s, p));
	return -1;
}

/*
 * The grammar as a state machine on gotos, in one function so the position stays in a
 * register: this loop runs over every byte of every payload. Bit i of kind is 1 when the
 * container at depth i+1 is an object; obj is that bit for the innermost one.
 * Returns 0 if valid, -1 if not (reported); s->suspect says whether the text may hold
 * what only the tree can tell (a repeated key, a number out of range).
 */
static int validate(struct scan *s, int max_depth)
{
	const unsigned char *p, *end = s->end;
	uint64_t kind[(DEPTH_LIMIT + 63) / 64], bit;
	struct keys k;
	int depth = 0, obj = 0;

	k.filter = 0;
	k.base = k.top = 0;
	p = skip_ws(s->buf, end);
	if (p == end) {
		seterr(s->err, s->errlen, "empty input");
		return -1;
	}
value:
	p = skip_ws(p, end);
	if (p == end)
		return fail_at(s, p);
	if (*p == '"') {
		if ((p = scan_string(s, p)) == NULL)
			return -1;
		goto after;
	}
	if (*p == '{' || *p == '[') {
		if (depth >= max_depth)
			return too_deep(s, p, max_depth);
		obj = *p == '{';
		bit = (uint64_t)1 << (depth % 64);
		kind[depth / 64] = obj ? kind[depth / 64] | bit : kind[depth / 64] & ~bit;
		depth++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (obj ? '}' : ']')) {
			p++;
			goto pop;
		}
		if (!obj)
			goto value;
		if (!s->suspect)
			keys_open(s, &k);
		goto key;
	}
	if ((p = scan_scalar(s, p)) == NULL)
		return -1;
after:
	if (depth == 0) {
		p = skip_ws(p, end);
		if (p == end)
			return 0;
		seterr(s->err, s->errlen, "trailing data at byte %zu", offset(s, p));
		return -1;
	}
	p = skip_ws(p, end);
	if (p < end && *p == ',') {
		p++;
		if (obj)
			goto key;
		goto value;
	}
	if (p == end || *p != (obj ? '}' : ']'))
		return fail_at(s, p);
	p++;
	if (obj && !s->suspect)
		keys_close(&k);
pop:
	depth--;
	obj = depth > 0 && (kind[(depth - 1) / 64] >> ((depth - 1) % 64) & 1);
	goto after;
key:
	if ((p = scan_key(s, &k, p)) == NULL)
		return -1;
	goto value;
}

/* ---- the tree walk: only for text validate could not clear ---- */

/* A key's hash, eight bytes at a time. */
static uint32_t key_hash(const char *k)
{
	const uint64_t prime = 0x100000001b3ULL;
	size_t len = strlen(k), i = 0;
	uint64_t h = len * 0x9e3779b97f4a7c15ULL, w = 0;

	if (len < 8) {
		for (; i < len; i++)
			w = w << 8 | (unsigned char)k[i];
		h = (h ^ w) * prime;
	} else {
		for (; i + 8 < len; i += 8)
			h = (h ^ load8((const unsigned char *)k + i)) * prime;
		/* The last eight bytes, overlapping what came before if need be. */
		h = (h ^ load8((const unsigned char *)k + len - 8)) * prime;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h >> 32);
}

struct keyref {
	const char *key;
	int index;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/* By sorting (key, position) pairs: the least later position of a repeated key. */
static int first_dup_sorted(const cJSON *obj, int n)
{
	struct keyref *refs = malloc((size_t)n * sizeof(*refs));
	int i = 0, dup = -1;

	if (refs == NULL)
		return -2;
	for (const cJSON *c = obj->child; c != NULL; c = c->next, i++)
		refs[i] = (struct keyref){c->string, i};
	qsort(refs, (size_t)n, sizeof(*refs), keyref_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(refs[i].key, refs[i - 1].key) == 0 && (dup < 0 || refs[i].index < dup))
			dup = refs[i].index;
	free(refs);
	return dup;
}

struct slot {
	const char *key;
	uint32_t hash;
};

/*
 * Large objects: a hash set of the keys seen so far. Keys come from the untrusted payload
 * and can be chosen to collide, so past a probe budget it falls back to sorting, whose
 * worst case is n log n.
 */
static int first_dup_large(const cJSON *obj, int n)
{
	size_t cap = 64, mask, probes = 0, budget = 8 * (size_t)n;
	struct slot *set;
	int i = 0;

	while (cap < 2 * (size_t)n)
		cap *= 2;
	mask = cap - 1;
	if ((set = calloc(cap, sizeof(*set))) == NULL)
		return -2;
	for (const cJSON *c = obj->child; c != NULL; c = c->next, i++) {
		uint32_t h = key_hash(c->string);
		size_t j = h >> 8 & mask;
		for (; set[j].key != NULL; j = (j + 1) & mask) {
			if (set[j].hash == h && strcmp(set[j].key, c->string) == 0) {
				free(set);
				return i;
			}
			if (++probes > budget) {
				free(set);
				return first_dup_sorted(obj, n);
			}
		}
		set[j] = (struct slot){c->string, h};
	}
	free(set);
	return -1;
}

/*
 * Position of the first member repeating an earlier key, -1 if none, -2 out of memory.
 * Objects of up to SMALL_OBJECT keys (nearly every payload's) compare keys only when their
 * 7-bit fingerprints collide. Not inlined: its arrays must not sit in every frame of the
 * recursive walk.
 */
__attribute__((noinline)) static int first_duplicate(const cJSON *obj)
{
	const char *keys[SMALL_OBJECT];
	unsigned char fp[SMALL_OBJECT];
	uint64_t seen[2] = {0, 0};
	int n = 0;

	for (const cJSON *c = obj->child; c != NULL; c = c->next, n++) {
		if (n == SMALL_OBJECT) {
			for (; c != NULL; c = c->next)
				n++;
			return first_dup_large(obj, n);
		}
		keys[n] = c->string;
		fp[n] = (unsigned char)(key_hash(c->string) >> 25);
		uint64_t bit = (uint64_t)1 << (fp[n] & 63);
		if (seen[fp[n] >> 6] & bit) {
			for (int i = 0; i < n; i++)
				if (fp[i] == fp[n] && strcmp(keys[i], keys[n]) == 0)
					return n;
		}
		seen[fp[n] >> 6] |= bit;
	}
	return -1;
}

enum problem { PROBLEM_NONE, PROBLEM_RANGE, PROBLEM_DUP };

struct walk {
	size_t index; /* of the next node in document order, the root being 0 */
	size_t bad;   /* index of the offending node */
	enum problem problem;
	const char *key;
};

static int is_container(const cJSON *node)
{
	int type = node->type & 0xff;

	return type == cJSON_Object || type == cJSON_Array;
}

static int bad_number(const cJSON *node)
{
	return (node->type & 0xff) == cJSON_Number && !isfinite(node->valuedouble);
}

/*
 * Pre-order over the children of a container, so the first problem found is the first in
 * the text. Leaves are handled in the loop: most nodes are leaves.
 */
static int walk(const cJSON *node, struct walk *w)
{
	int dup = -1, i = 0;

	if ((node->type & 0xff) == cJSON_Object && (dup = first_duplicate(node)) == -2)
		return -2;
	for (const cJSON *c = node->child; c != NULL; c = c->next, i++) {
		if (i == dup || bad_number(c)) {
			w->bad = w->index;
			w->problem = i == dup ? PROBLEM_DUP : PROBLEM_RANGE;
			w->key = c->string;
			return -1;
		}
		w->index++;
		if (is_container(c)) {
			int rc = walk(c, w);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* The whole tree, the root included. */
static int walk_tree(const cJSON *root, struct walk *w)
{
	if (bad_number(root)) {
		w->problem = PROBLEM_RANGE;
		return -1;
	}
	w->index = 1;
	return is_container(root) ? walk(root, w) : 0;
}

/* ---- locating a tree problem in the text ---- */

/* Past the string whose opening quote is at p; the text is known valid. */
static const unsigned char *skip_string(const unsigned char *p)
{
	for (p++; *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p + 1;
}

/*
 * Offset of the index-th value in document order (the root being 0) in valid text, or,
 * when want_key, of the key naming it.
 */
static size_t locate(const unsigned char *buf, size_t len, size_t index, int want_key)
{
	const unsigned char *p = buf, *end = buf + len, *q;
	size_t n = 0, key = 0;

	while (p < end) {
		unsigned char c = *p;
		if (c == '"') {
			q = skip_ws(skip_string(p), end);
			if (q < end && *q == ':') {
				key = (size_t)(p - buf);
				p = q + 1;
				continue;
			}
		} else if (c != '{' && c != '[' && c != '-' && !is_digit(c) && c != 't' &&
			   c != 'f' && c != 'n') {
			p++;
			continue;
		}
		if (n++ == index)
			return want_key ? key : (size_t)(p - buf);
		if (c == '"')
			p = skip_string(p);
		else if (c == '{' || c == '[')
			p++;
		else
			while (p < end && strchr("{}[],: \t\r\n", *p) == NULL)
				p++;
	}
	return len;
}

/* The key as a message shows it: escaped, and cut (on a character boundary) if long. */
static void show_key(char *out, size_t outlen, const char *key)
{
	size_t o = 0, i = 0;

	for (; key[i] != '\0' && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)key[i];
		if (i >= KEY_SHOWN && !is_cont(c))
			break;
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			int n = snprintf(out + o, outlen - o, "\\x%02x", c);
			if (n < 0 || (size_t)n >= outlen - o)
				break;
			o += (size_t)n;
		} else {
			out[o++] = (char)c;
		}
	}
	if (key[i] != '\0' && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void report(const struct walk *w, const char *buf, size_t len, char *err,
		   size_t errlen)
{
	const unsigned char *b = (const unsigned char *)buf;
	char shown[4 * KEY_SHOWN + 16];

	if (w->problem == PROBLEM_RANGE) {
		seterr(err, errlen, "number out of range at byte %zu", locate(b, len, w->bad, 0));
		return;
	}
	show_key(shown, sizeof(shown), w->key);
	seterr(err, errlen, "duplicate key \"%s\" in object at byte %zu", shown,
	       locate(b, len, w->bad, 1));
}

int json_parse_strict(const char *buf, size_t len, int max_depth, cJSON **out, char *err,
		      size_t errlen)
{
	struct scan s = {(const unsigned char *)buf, NULL, err, errlen, 0};
	struct walk w = {0, 0, PROBLEM_NONE, NULL};
	cJSON *tree;
	int rc;

	*out = NULL;
	if (buf == NULL || len == 0) {
		seterr(err, errlen, "empty input");
		return -1;
	}
	s.end = s.buf + len;
	if (max_depth > DEPTH_LIMIT)
		max_depth = DEPTH_LIMIT;
	if (max_depth < 0)
		max_depth = 0;
	if (validate(&s, max_depth) < 0)
		return -1;
	/* Valid text, so the only way left for cJSON to fail is memory. (cJSON also resets
	 * its own global error position on every parse: the one shared write this step does,
	 * always of the same values, which cJSON 1.7.15 gives no way to avoid.) */
	tree = cJSON_ParseWithLengthOpts(buf, len, NULL, 0);
	if (tree == NULL) {
		seterr(err, errlen, "out of memory");
		return -2;
	}
	/* Only rare text needs the walk (see validate): the common case skips it. */
	rc = s.suspect ? walk_tree(tree, &w) : 0;
	if (rc != 0) {
		if (rc == -2)
			seterr(err, errlen, "out of memory");
		else
			report(&w, buf, len, err, errlen);
		cJSON_Delete(tree);
		return rc;
	}
	*out = tree;
	return 0;
}
