/* The append-only spool (see spool.h). */
#include "common/clock.h"
#include "common/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/log.h"

#define MAGIC 0x50534c43u /* "CLSP" in file order */
#define HEAD_LEN 16       /* magic, body_len, crc32, reserved */
#define FIXED_LEN 16      /* received_ms, topic_len, reserved, payload_len */
#define OVERHEAD (HEAD_LEN + FIXED_LEN)
#define MAX_BODY (FIXED_LEN + SPOOL_MAX_TOPIC + SPOOL_MAX_PAYLOAD)
#define DEFAULT_SEGMENT_BYTES (64ull * 1024 * 1024)
#define DEFAULT_INTERVAL_MS 5
#define READ_AHEAD_MIN (64u * 1024)
#define SEG_NAME_LEN 20 /* 16 hex digits and ".seg" */

/* parse_entry's verdicts besides the SPOOL_* errors. */
enum { ENTRY_ADDED = 1, ENTRY_STOP = 0, ENTRY_BAD = 2 };

struct segment {
	uint64_t id;
	uint64_t size; /* readable bytes; for the active segment, the appends completed */
};

/* A stretch of one segment the reader may parse: [off, end). */
struct span {
	uint64_t seg, off, end;
};

struct spool {
	char *dir;
	int dirfd, lockfd;
	char id[33];
	enum spool_fsync fsync;
	int interval_ms, is_volatile, sync_ok;
	uint64_t segment_bytes;

	/* Appender side, under wmu: one append at a time, so entries land whole and in order. */
	pthread_mutex_t wmu;
	int active_fd;       /* changed under mu too, for the flusher */
	uint64_t active_id;  /* == segs[nsegs - 1].id */
	uint64_t active_len; /* == segs[nsegs - 1].size, readable without mu */
	int must_roll;       /* a failed write left bytes that could not be cut off */

	/* Shared with the reader and the flusher, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t appended_cv, stop_cv;
	struct segment *segs; /* oldest first; the last one is the active segment */
	size_t nsegs, segs_cap;
	struct spool_pos ckpt, cursor;
	unsigned char *mem; /* volatile_for_tests: the contents of the only segment */
	size_t mem_cap;
	int stopping;

	/* The reader thread's own. */
	int rfd;
	uint64_t rfd_seg;
	struct spool_pos skip_mark; /* corrupt bytes before it are already counted */

	pthread_t flusher;
	int flusher_running;
	atomic_int dirty, sync_errno;
	_Atomic uint64_t backlog, appended, corrupt_skipped;
};

struct spool_batch {
	struct spool_entry *e;
	size_t *off; /* where e[i]'s topic starts in buf; pointers are set once buf stops moving */
	size_t n, cap;
	unsigned char *buf;
	size_t used;   /* bytes of whole entries */
	size_t filled; /* bytes read: used plus part of the next entry */
	size_t bufcap;
};

/* ---- small helpers ---- */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int spool_pos_cmp(struct spool_pos a, struct spool_pos b)
{
	if (a.segment != b.segment)
		return a.segment < b.segment ? -1 : 1;
	return a.offset < b.offset ? -1 : a.offset > b.offset;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void seg_name(char name[SEG_NAME_LEN + 1], uint64_t id)
{
	snprintf(name, SEG_NAME_LEN + 1, "%016" PRIx64 ".seg", id);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads 16 lowercase hex digits, as seg_name writes them. */
static int parse_hex16(const char *p, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int parse_seg_name(const char *name, uint64_t *id)
{
	return strlen(name) == SEG_NAME_LEN && strcmp(name + 16, ".seg") == 0 &&
	       parse_hex16(name, id) == 0;
}

/* ---- file I/O ---- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes every iovec; iov is consumed. A short write of a regular file means an error
 * (ENOSPC, EFBIG) that the next call reports. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads up to len bytes at off; fewer only at the end of the file. */
static ssize_t pread_full(int fd, unsigned char *dst, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, dst + got, len - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* A small file of DIR whole (up to cap bytes); -1 with errno when unreadable. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread_full(fd, (unsigned char *)buf, cap, 0);
	int saved = errno;
	close(fd);
	errno = saved;
	return n;
}

/* Replaces DIR/name so that a crash leaves the old or the new contents, never a mix. */
static int write_atomic(struct spool *s, const char *name, const char *data, size_t len)
{
	char tmp[32];
	int fd, rc = -1, saved;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if ((fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fdatasync(fd) < 0)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = saved;
	if (rc == 0 && (renameat(s->dirfd, tmp, s->dirfd, name) < 0 || fsync(s->dirfd) < 0))
		rc = -1;
	return rc;
}

/* ---- segments list (callers hold mu, or are alone in spool_open) ---- */

static int push_segment(struct spool *s, uint64_t id, uint64_t size)
{
	if (s->nsegs == s->segs_cap) {
		size_t cap = s->segs_cap ? 2 * s->segs_cap : 16;
		struct segment *grown = realloc(s->segs, cap * sizeof(*grown));
		if (grown == NULL)
			return SPOOL_ENOMEM;
		s->segs = grown;
		s->segs_cap = cap;
	}
	s->segs[s->nsegs++] = (struct segment){id, size};
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Bytes from the checkpoint to the end of the newest segment. */
static void recompute_backlog(struct spool *s)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->nsegs; i++) {
		const struct segment *g = &s->segs[i];
		if (g->id > s->ckpt.segment)
			sum += g->size;
		else if (g->id == s->ckpt.segment && g->size > s->ckpt.offset)
			sum += g->size - s->ckpt.offset;
	}
	atomic_store(&s->backlog, sum);
}

/* Makes total more appended bytes visible to the reader; mu held. */
static void publish_locked(struct spool *s, uint64_t total)
{
	s->segs[s->nsegs - 1].size += total;
	atomic_fetch_add(&s->backlog, total); /* under mu, so recompute_backlog never races it */
	atomic_fetch_add(&s->appended, 1);
	pthread_cond_signal(&s->appended_cv);
}

/* ---- appending ---- */

/* Records a failed fdatasync for every later append: after one, the kernel may have dropped
 * the dirty pages, so nothing written since can be trusted to reach the disk. */
static int sync_failed(struct spool *s)
{
	int e = errno, none = 0;

	atomic_compare_exchange_strong(&s->sync_errno, &none, e);
	errno = e;
	return SPOOL_EIO;
}

/* Creates segment id and makes it the active one; the caller still owns the old fd. */
static int start_segment(struct spool *s, uint64_t id)
{
	char name[SEG_NAME_LEN + 1];
	int fd, rc;

	seg_name(name, id);
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return SPOOL_EIO;
	/* The new name must survive a power cut as surely as the entries written into it. */
	if (s->fsync != SPOOL_FSYNC_NEVER && fsync(s->dirfd) < 0) {
		int saved = errno;
		close(fd);
		unlinkat(s->dirfd, name, 0);
		errno = saved;
		return SPOOL_EIO;
	}
	pthread_mutex_lock(&s->mu);
	if ((rc = push_segment(s, id, 0)) == 0)
		s->active_fd = fd;
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return rc;
	}
	s->active_id = id;
	s->active_len = 0;
	s->must_roll = 0;
	return 0;
}

/* Closes the active segment (synced unless NEVER) and starts segment id; wmu held. */
static int roll(struct spool *s, uint64_t id)
{
	int old = s->active_fd, rc;

	if (old >= 0 && s->fsync != SPOOL_FSYNC_NEVER && fdatasync(old) < 0)
		return sync_failed(s);
	if ((rc = start_segment(s, id)) < 0)
		return rc;
	if (old >= 0)
		close(old);
	return 0;
}

static int append_file(struct spool *s, struct iovec *iov, int n, uint64_t total)
{
	int e = atomic_load(&s->sync_errno), rc;

	if (e != 0) {
		errno = e;
		return SPOOL_EIO;
	}
	if (s->must_roll || (s->active_len > 0 && s->active_len + total > s->segment_bytes))
		if ((rc = roll(s, s->active_id + 1)) < 0)
			return rc;
	if (writev_all(s->active_fd, iov, n) < 0) {
		int saved = errno;
		/* Cut the partial entry off, so the next one starts where the reader expects. */
		if (ftruncate(s->active_fd, (off_t)s->active_len) < 0)
			s->must_roll = 1;
		errno = saved;
		return SPOOL_EIO;
	}
	if (s->fsync == SPOOL_FSYNC_ALWAYS && fdatasync(s->active_fd) < 0)
		return sync_failed(s);
	if (s->fsync == SPOOL_FSYNC_INTERVAL)
		atomic_store(&s->dirty, 1);
	s->active_len += total;
	pthread_mutex_lock(&s->mu);
	publish_locked(s, total);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* volatile_for_tests: the entry is copied to memory and nowhere else. */
static int append_memory(struct spool *s, const struct iovec *iov, int n, uint64_t total)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	size_t len = (size_t)s->segs[0].size;
	if (len + total > s->mem_cap) {
		size_t cap = 2 * (len + total);
		unsigned char *grown = realloc(s->mem, cap);
		if (grown == NULL) {
			rc = SPOOL_ENOMEM;
			goto out;
		}
		s->mem = grown;
		s->mem_cap = cap;
	}
	for (int i = 0; i < n; i++) {
		memcpy(s->mem + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	publish_locked(s, total);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Fills the header and the fixed part of the body (the 32 bytes before the topic). */
static void encode_head(unsigned char *h, int64_t received_ms, const char *topic,
			size_t topic_len, const void *payload, size_t payload_len)
{
	unsigned char *body = h + HEAD_LEN;
	uLong crc;

	put64(body, (uint64_t)received_ms);
	put16(body + 8, (uint16_t)topic_len);
	put16(body + 10, 0);
	put32(body + 12, (uint32_t)payload_len);
	crc = crc32(0L, body, FIXED_LEN);
	/* zlib treats a NULL buffer as "give me the initial value", so skip empty parts. */
	if (topic_len > 0)
		crc = crc32(crc, (const Bytef *)topic, (uInt)topic_len);
	if (payload_len > 0)
		crc = crc32(crc, payload, (uInt)payload_len);
	put32(h, MAGIC);
	put32(h + 4, (uint32_t)(FIXED_LEN + topic_len + payload_len));
	put32(h + 8, (uint32_t)crc);
	put32(h + 12, 0);
}

int spool_append(struct spool *s, int64_t received_ms, const char *topic, size_t topic_len,
		 const void *payload, size_t payload_len)
{
	unsigned char head[OVERHEAD];
	struct iovec iov[3];
	int n = 0, rc;

	if (topic_len > SPOOL_MAX_TOPIC || payload_len > SPOOL_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return SPOOL_ETOOBIG;
	}
	encode_head(head, received_ms, topic, topic_len, payload, payload_len);
	iov[n++] = (struct iovec){head, sizeof(head)};
	if (topic_len > 0)
		iov[n++] = (struct iovec){(void *)topic, topic_len};
	if (payload_len > 0)
		iov[n++] = (struct iovec){(void *)payload, payload_len};
	uint64_t total = OVERHEAD + topic_len + payload_len;
	if (s->is_volatile)
		return append_memory(s, iov, n, total);
	pthread_mutex_lock(&s->wmu);
	rc = append_file(s, iov, n, total);
	pthread_mutex_unlock(&s->wmu);
	return rc;
}

/* ---- the flusher thread (INTERVAL) ---- */

/* mu held on entry and exit; the fdatasync runs without it, on a duplicate of the active
 * fd, so appends and a roll (which closes the original) go on meanwhile. */
static void flush_active(struct spool *s)
{
	int fd = fcntl(s->active_fd, F_DUPFD_CLOEXEC, 0);

	pthread_mutex_unlock(&s->mu);
	if (fd < 0)
		atomic_store(&s->dirty, 1); /* out of fds: try again next time */
	else if (fdatasync(fd) < 0)
		sync_failed(s);
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&s->mu);
}

static void *flush_loop(void *arg)
{
	struct spool *s = arg;
	struct timespec at;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		clock_deadline_mono(&at, s->interval_ms);
		while (!s->stopping && pthread_cond_timedwait(&s->stop_cv, &s->mu, &at) == 0)
			; /* woken early, but not told to stop */
		if (!s->stopping && atomic_exchange(&s->dirty, 0))
			flush_active(s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int start_flusher(struct spool *s, char *err, size_t errlen)
{
	int rc;

	if (s->is_volatile || s->fsync != SPOOL_FSYNC_INTERVAL)
		return 0;
	if ((rc = pthread_create(&s->flusher, NULL, flush_loop, s)) != 0)
		return fail(err, errlen, SPOOL_EIO, "cannot start the spool flusher thread: %s",
			    strerror(rc));
	s->flusher_running = 1;
	return 0;
}

static void stop_flusher(struct spool *s)
{
	if (!s->flusher_running)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->stop_cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->flusher, NULL);
	s->flusher_running = 0;
}

/* ---- opening ---- */

static int init_sync(struct spool *s)
{
	pthread_condattr_t ca;
	int ok;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	/* Timeouts must not jump with the wall clock. A partly initialised set holds no
	 * resources on Linux, so a failure midway leaves nothing to destroy. */
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_mutex_init(&s->wmu, NULL) == 0 && pthread_mutex_init(&s->mu, NULL) == 0 &&
	     pthread_cond_init(&s->appended_cv, &ca) == 0 &&
	     pthread_cond_init(&s->stop_cv, &ca) == 0;
	pthread_condattr_destroy(&ca);
	s->sync_ok = ok;
	return ok ? 0 : -1;
}

static struct spool *spool_alloc(const struct spool_options *o)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->dirfd = s->lockfd = s->active_fd = s->rfd = -1;
	s->fsync = o->fsync;
	s->interval_ms = o->fsync_interval_ms > 0 ? o->fsync_interval_ms : DEFAULT_INTERVAL_MS;
	s->segment_bytes = o->segment_bytes ? o->segment_bytes : DEFAULT_SEGMENT_BYTES;
	s->is_volatile = o->volatile_for_tests;
	if ((s->dir = strdup(o->dir)) == NULL || init_sync(s) < 0) {
		free(s->dir);
		free(s);
		return NULL;
	}
	return s;
}

static int open_dir(struct spool *s, char *err, size_t errlen)
{
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		return fail(err, errlen, SPOOL_EIO, "cannot create spool directory %s: %s", s->dir,
			    strerror(errno));
	if ((s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot open spool directory %s: %s", s->dir,
			    strerror(errno));
	if ((s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot open %s/lock: %s", s->dir,
			    strerror(errno));
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return fail(err, errlen, SPOOL_EBUSY,
				    "spool %s is in use by another process", s->dir);
		return fail(err, errlen, SPOOL_EIO, "cannot lock %s/lock: %s", s->dir,
			    strerror(errno));
	}
	return 0;
}

static int make_id(struct spool *s, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return fail(err, errlen, SPOOL_EIO, "cannot make a spool id: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++) {
		s->id[2 * i] = hex[raw[i] >> 4];
		s->id[2 * i + 1] = hex[raw[i] & 15];
	}
	s->id[32] = '\n';
	if (write_atomic(s, "id", s->id, 33) < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot write %s/id: %s", s->dir,
			    strerror(errno));
	s->id[32] = '\0';
	return 0;
}

static int load_id(struct spool *s, char *err, size_t errlen)
{
	char buf[40];
	ssize_t n = read_small(s->dirfd, "id", buf, sizeof(buf));
	uint64_t half;

	if (n < 0 && errno == ENOENT)
		return make_id(s, err, errlen);
	if (n < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot read %s/id: %s", s->dir,
			    strerror(errno));
	if (n != 33 || buf[32] != '\n' || parse_hex16(buf, &half) < 0 ||
	    parse_hex16(buf + 16, &half) < 0)
		return fail(err, errlen, SPOOL_EINVAL, "%s/id is not 32 hex digits", s->dir);
	memcpy(s->id, buf, 32);
	s->id[32] = '\0';
	return 0;
}

static int scan_segments(struct spool *s, char *err, size_t errlen)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	struct stat st;
	uint64_t id;
	int rc = 0;

	if (d == NULL)
		return fail(err, errlen, SPOOL_EIO, "cannot list %s: %s", s->dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!parse_seg_name(e->d_name, &id))
			continue;
		if (fstatat(s->dirfd, e->d_name, &st, 0) < 0)
			rc = fail(err, errlen, SPOOL_EIO, "cannot stat %s/%s: %s", s->dir,
				  e->d_name, strerror(errno));
		else if (push_segment(s, id, (uint64_t)st.st_size) < 0)
			rc = fail(err, errlen, SPOOL_ENOMEM, "out of memory");
	}
	closedir(d);
	if (s->nsegs > 0)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	return rc;
}

/* "SEGMENT OFFSET\n": the segment as in its file name, the offset in decimal. */
static int parse_checkpoint(const char *text, struct spool_pos *pos)
{
	const char *p = text + 17;
	char *end;

	if (strlen(text) < 19 || parse_hex16(text, &pos->segment) < 0 || text[16] != ' ' ||
	    *p < '0' || *p > '9')
		return -1;
	errno = 0;
	unsigned long long off = strtoull(p, &end, 10);
	if (errno != 0 || strcmp(end, "\n") != 0)
		return -1;
	pos->offset = off;
	return 0;
}

/* Sets *found when DIR/checkpoint exists. */
static int load_checkpoint(struct spool *s, int *found, char *err, size_t errlen)
{
	char buf[64];
	ssize_t n = read_small(s->dirfd, "checkpoint", buf, sizeof(buf) - 1);

	*found = 0;
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot read %s/checkpoint: %s", s->dir,
			    strerror(errno));
	buf[n] = '\0';
	if (parse_checkpoint(buf, &s->ckpt) < 0)
		return fail(err, errlen, SPOOL_EINVAL, "%s/checkpoint: unreadable contents",
			    s->dir);
	*found = 1;
	return 0;
}

/* Deletes segment files wholly before the checkpoint, oldest first; never the active one.
 * A segment leaves the list before its file goes, so the reader never opens a dead name. */
static int drop_spent(struct spool *s)
{
	char name[SEG_NAME_LEN + 1];
	int rc = 0, saved = 0;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		const struct segment g = s->segs[0];
		int spent = s->nsegs > 1 && (g.id < s->ckpt.segment ||
					     (g.id == s->ckpt.segment && s->ckpt.offset >= g.size));
		if (spent)
			memmove(s->segs, s->segs + 1, --s->nsegs * sizeof(*s->segs));
		pthread_mutex_unlock(&s->mu);
		if (!spent)
			break;
		if (s->rfd >= 0 && s->rfd_seg == g.id) { /* let the space go now */
			close(s->rfd);
			s->rfd = -1;
		}
		seg_name(name, g.id);
		if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
			rc = SPOOL_EIO;
			saved = errno;
		}
	}
	if (rc < 0)
		errno = saved;
	return rc;
}

static int load_segments(struct spool *s, char *err, size_t errlen)
{
	uint64_t next;
	int found, rc;

	if ((rc = scan_segments(s, err, errlen)) < 0 ||
	    (rc = load_checkpoint(s, &found, err, errlen)) < 0)
		return rc;
	next = s->nsegs > 0 ? s->segs[s->nsegs - 1].id : 0;
	if (found && s->ckpt.segment > next)
		next = s->ckpt.segment;
	if (next == UINT64_MAX)
		return fail(err, errlen, SPOOL_EINVAL, "%s: segment numbers exhausted", s->dir);
	if ((rc = start_segment(s, next + 1)) < 0)
		return fail(err, errlen, rc, "cannot create a segment in %s: %s", s->dir,
			    rc == SPOOL_EIO ? strerror(errno) : spool_strerror(rc));
	if (!found)
		s->ckpt = (struct spool_pos){s->segs[0].id, 0};
	s->cursor = s->ckpt;
	recompute_backlog(s);
	if (drop_spent(s) < 0)
		return fail(err, errlen, SPOOL_EIO, "cannot delete a spent segment in %s: %s",
			    s->dir, strerror(errno));
	return 0;
}

/* volatile_for_tests: one segment that lives in s->mem. */
static int load_memory(struct spool *s, char *err, size_t errlen)
{
	if (push_segment(s, 1, 0) < 0)
		return fail(err, errlen, SPOOL_ENOMEM, "out of memory");
	s->active_id = 1;
	s->ckpt = s->cursor = (struct spool_pos){1, 0};
	return 0;
}

int spool_open(const struct spool_options *o, struct spool **out, char *err, size_t errlen)
{
	struct spool *s;
	int rc;

	*out = NULL;
	if (o->dir == NULL || o->dir[0] == '\0')
		return fail(err, errlen, SPOOL_EINVAL, "spool directory not set");
	if ((s = spool_alloc(o)) == NULL)
		return fail(err, errlen, SPOOL_ENOMEM, "out of memory");
	if ((rc = open_dir(s, err, errlen)) < 0 || (rc = load_id(s, err, errlen)) < 0 ||
	    (rc = s->is_volatile ? load_memory(s, err, errlen) : load_segments(s, err, errlen)) < 0 ||
	    (rc = start_flusher(s, err, errlen)) < 0) {
		spool_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void spool_close(struct spool *s)
{
	char name[SEG_NAME_LEN + 1];

	if (s == NULL)
		return;
	stop_flusher(s);
	if (s->active_fd >= 0) {
		if (s->fsync != SPOOL_FSYNC_NEVER && fdatasync(s->active_fd) < 0)
			log_warn("spool=%s final fdatasync failed", s->dir);
		close(s->active_fd);
		/* An empty segment holds nothing; dropping it keeps restarts from piling them up. */
		seg_name(name, s->active_id);
		if (s->active_len == 0 && unlinkat(s->dirfd, name, 0) < 0)
			log_warn("spool=%s cannot delete the empty segment %s", s->dir, name);
	}
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->sync_ok) {
		pthread_cond_destroy(&s->stop_cv);
		pthread_cond_destroy(&s->appended_cv);
		pthread_mutex_destroy(&s->mu);
		pthread_mutex_destroy(&s->wmu);
	}
	free(s->segs);
	free(s->mem);
	free(s->dir);
	free(s);
}

const char *spool_id(const struct spool *s)
{
	return s->id;
}

/* ---- reading ---- */

struct spool_batch *spool_batch_create(void)
{
	return calloc(1, sizeof(struct spool_batch));
}

void spool_batch_free(struct spool_batch *b)
{
	if (b == NULL)
		return;
	free(b->e);
	free(b->off);
	free(b->buf);
	free(b);
}

size_t spool_batch_count(const struct spool_batch *b)
{
	return b->n;
}

const struct spool_entry *spool_batch_entry(const struct spool_batch *b, size_t i)
{
	return i < b->n ? &b->e[i] : NULL;
}

static int reserve_buf(struct spool_batch *b, size_t need)
{
	size_t cap = b->bufcap ? b->bufcap : READ_AHEAD_MIN;
	unsigned char *grown;

	if (need <= b->bufcap)
		return 0;
	while (cap < need)
		cap *= 2;
	if ((grown = realloc(b->buf, cap)) == NULL)
		return SPOOL_ENOMEM;
	b->buf = grown;
	b->bufcap = cap;
	return 0;
}

static int reserve_entry(struct spool_batch *b)
{
	size_t cap = b->cap ? 2 * b->cap : 64;
	struct spool_entry *e;
	size_t *off;

	if (b->n < b->cap)
		return 0;
	if ((e = realloc(b->e, cap * sizeof(*e))) == NULL)
		return SPOOL_ENOMEM;
	b->e = e;
	if ((off = realloc(b->off, cap * sizeof(*off))) == NULL)
		return SPOOL_ENOMEM;
	b->off = off;
	b->cap = cap;
	return 0;
}

/* Up to len bytes of segment seg at off; fewer when the file is shorter (or gone). */
static ssize_t read_at(struct spool *s, uint64_t seg, uint64_t off, unsigned char *dst,
		       size_t len)
{
	char name[SEG_NAME_LEN + 1];

	if (s->is_volatile) {
		pthread_mutex_lock(&s->mu);
		memcpy(dst, s->mem + off, len); /* the caller stays within the published size */
		pthread_mutex_unlock(&s->mu);
		return (ssize_t)len;
	}
	if (s->rfd < 0 || s->rfd_seg != seg) {
		if (s->rfd >= 0)
			close(s->rfd);
		seg_name(name, seg);
		s->rfd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (s->rfd < 0)
			return errno == ENOENT ? 0 : -1; /* deleted under us: as if empty */
		s->rfd_seg = seg;
	}
	return pread_full(s->rfd, dst, len, off);
}

/*
 * Makes sure need bytes of the entry at sp->off are buffered. Reads ahead as far as the
 * batch's byte budget allows, doubling each time, so a batch costs a few large preads.
 * Returns 1, 0 when the file ended first, or a SPOOL_* error.
 */
static int fill(struct spool *s, struct spool_batch *b, const struct span *sp, size_t need,
		size_t max_bytes)
{
	size_t have = b->filled - b->used, want, ahead;
	size_t budget = max_bytes > b->filled ? max_bytes - b->filled : 0;
	uint64_t disk = sp->end - sp->off - have; /* caller checked need fits in the span */
	ssize_t got;

	if (have >= need)
		return 1;
	ahead = b->filled < READ_AHEAD_MIN ? READ_AHEAD_MIN : b->filled;
	if (ahead > budget)
		ahead = budget;
	want = need - have > ahead ? need - have : ahead;
	if (want > disk)
		want = (size_t)disk;
	if (reserve_buf(b, b->filled + want) < 0)
		return SPOOL_ENOMEM;
	if ((got = read_at(s, sp->seg, sp->off + have, b->buf + b->filled, want)) < 0)
		return SPOOL_EIO;
	b->filled += (size_t)got;
	return b->filled - b->used >= need;
}

static int body_ok(const unsigned char *h)
{
	uint32_t body_len = get32(h + 4);
	const unsigned char *body = h + HEAD_LEN;

	return (uint32_t)crc32(0L, body, body_len) == get32(h + 8) &&
	       FIXED_LEN + get16(body + 8) + (uint64_t)get32(body + 12) == body_len;
}

/* Adds the verified entry at b->used to the batch and steps over it. */
static int add_entry(struct spool_batch *b, struct span *sp, size_t total)
{
	const unsigned char *body = b->buf + b->used + HEAD_LEN;

	if (reserve_entry(b) < 0)
		return SPOOL_ENOMEM;
	sp->off += total;
	b->e[b->n] = (struct spool_entry){
		.received_ms = (int64_t)get64(body),
		.topic_len = get16(body + 8),
		.payload_len = get32(body + 12),
		.next = {sp->seg, sp->off},
	};
	b->off[b->n++] = b->used + OVERHEAD;
	b->used += total;
	return ENTRY_ADDED;
}

/* One entry at sp->off: ENTRY_ADDED, ENTRY_STOP (over the budget), ENTRY_BAD, or error. */
static int parse_entry(struct spool *s, struct spool_batch *b, struct span *sp,
		       size_t max_bytes)
{
	uint64_t left = sp->end - sp->off;
	uint32_t body_len;
	size_t total;
	int rc;

	if (left < OVERHEAD)
		return ENTRY_BAD;
	if ((rc = fill(s, b, sp, OVERHEAD, max_bytes)) <= 0)
		return rc < 0 ? rc : ENTRY_BAD;
	body_len = get32(b->buf + b->used + 4);
	if (get32(b->buf + b->used) != MAGIC || body_len < FIXED_LEN || body_len > MAX_BODY ||
	    HEAD_LEN + (uint64_t)body_len > left)
		return ENTRY_BAD;
	total = HEAD_LEN + (size_t)body_len;
	if (b->n > 0 && b->used + total > max_bytes)
		return ENTRY_STOP;
	if ((rc = fill(s, b, sp, total, max_bytes)) <= 0)
		return rc < 0 ? rc : ENTRY_BAD;
	if (!body_ok(b->buf + b->used))
		return ENTRY_BAD;
	return add_entry(b, sp, total);
}

/* The rest of the segment cannot be parsed (a torn tail, corruption): skip to its end.
 * Counted once, however often a rewind brings the reader back here. */
static void skip_rest(struct spool *s, struct spool_batch *b, struct span *sp)
{
	struct spool_pos end = {sp->seg, sp->end};

	if (spool_pos_cmp((struct spool_pos){sp->seg, sp->off}, s->skip_mark) >= 0)
		atomic_fetch_add(&s->corrupt_skipped, sp->end - sp->off);
	if (spool_pos_cmp(end, s->skip_mark) > 0)
		s->skip_mark = end;
	sp->off = sp->end;
	b->filled = b->used;
}

/* Parses sp into b. Returns 1 when the batch is full, 0 when the span ran out first, or a
 * SPOOL_* error. */
static int read_span(struct spool *s, struct spool_batch *b, struct span *sp,
		     size_t max_entries, size_t max_bytes)
{
	int rc = ENTRY_ADDED;

	b->filled = b->used; /* read-ahead past the last entry belonged to another segment */
	while (sp->off < sp->end && b->n < max_entries && rc == ENTRY_ADDED)
		rc = parse_entry(s, b, sp, max_bytes);
	if (rc == ENTRY_BAD)
		skip_rest(s, b, sp);
	if (rc < 0)
		return rc;
	return rc == ENTRY_STOP || b->n == max_entries;
}

/* The first readable span at or after *pos, which moves over finished segments; mu held.
 * Returns 0 when the reader has caught up with the appender. */
static int find_span(const struct spool *s, struct spool_pos *pos, struct span *sp)
{
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct segment *g = &s->segs[i];
		if (g->id < pos->segment)
			continue;
		if (g->id > pos->segment)
			*pos = (struct spool_pos){g->id, 0};
		if (pos->offset < g->size) {
			*sp = (struct span){g->id, pos->offset, g->size};
			return 1;
		}
	}
	return 0;
}

/* find_span, waiting for an append until the deadline when wait is set (NULL: forever). */
static int wait_span(struct spool *s, struct spool_pos *pos, struct span *sp, int wait,
		     const struct timespec *deadline)
{
	int found, timed_out = 0;

	pthread_mutex_lock(&s->mu);
	while (!(found = find_span(s, pos, sp)) && wait && !timed_out) {
		if (deadline == NULL)
			pthread_cond_wait(&s->appended_cv, &s->mu);
		else
			timed_out = pthread_cond_timedwait(&s->appended_cv, &s->mu, deadline) != 0;
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

/* Entries kept offsets while the buffer could still move; now it cannot. */
static void set_pointers(struct spool_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		b->e[i].topic = (const char *)b->buf + b->off[i];
		b->e[i].payload = b->buf + b->off[i] + b->e[i].topic_len;
	}
}

int spool_read(struct spool *s, struct spool_batch *b, size_t max_entries, size_t max_bytes,
	       int timeout_ms)
{
	struct timespec deadline;
	struct spool_pos pos;
	struct span sp;
	int full = 0;

	b->n = b->used = b->filled = 0;
	if (max_entries > INT_MAX)
		max_entries = INT_MAX;
	if (timeout_ms > 0)
		clock_deadline_mono(&deadline, timeout_ms);
	pthread_mutex_lock(&s->mu);
	pos = s->cursor;
	pthread_mutex_unlock(&s->mu);
	/* Only an empty batch waits; a corrupt stretch read on the way does not end the wait. */
	while (!full && max_entries > 0 &&
	       wait_span(s, &pos, &sp, b->n == 0 && timeout_ms != 0,
			 timeout_ms < 0 ? NULL : &deadline)) {
		if ((full = read_span(s, b, &sp, max_entries, max_bytes)) < 0) {
			b->n = 0; /* the entries have no pointers yet; the cursor stays */
			return full;
		}
		pos = (struct spool_pos){sp.seg, sp.off};
	}
	pthread_mutex_lock(&s->mu);
	s->cursor = pos;
	pthread_mutex_unlock(&s->mu);
	set_pointers(b);
	return (int)b->n;
}

void spool_rewind(struct spool *s)
{
	pthread_mutex_lock(&s->mu);
	s->cursor = s->ckpt;
	pthread_mutex_unlock(&s->mu);
}

/* ---- releasing ---- */

static int save_checkpoint(struct spool *s, struct spool_pos pos)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%016" PRIx64 " %" PRIu64 "\n", pos.segment,
			 pos.offset);

	return write_atomic(s, "checkpoint", text, (size_t)n) < 0 ? SPOOL_EIO : 0;
}

int spool_release(struct spool *s, struct spool_pos upto)
{
	struct spool_pos end;
	int behind, rc;

	pthread_mutex_lock(&s->mu);
	behind = spool_pos_cmp(upto, s->ckpt) <= 0;
	end = (struct spool_pos){s->segs[s->nsegs - 1].id, s->segs[s->nsegs - 1].size};
	pthread_mutex_unlock(&s->mu);
	if (behind)
		return 0;
	if (spool_pos_cmp(upto, end) > 0)
		return SPOOL_ERANGE;
	/* Persist first: a crash before the unlinks only leaves files the next open drops. */
	if (!s->is_volatile && (rc = save_checkpoint(s, upto)) < 0)
		return rc;
	pthread_mutex_lock(&s->mu);
	s->ckpt = upto;
	if (spool_pos_cmp(s->cursor, upto) < 0)
		s->cursor = upto;
	recompute_backlog(s);
	pthread_mutex_unlock(&s->mu);
	return s->is_volatile ? 0 : drop_spent(s);
}

int spool_seek(struct spool *s, struct spool_pos pos)
{
	int rc = 0;

	if (spool_pos_cmp(pos, spool_checkpoint(s)) <= 0)
		return 0;
	if (pos.segment == UINT64_MAX)
		return SPOOL_ERANGE;
	if (!s->is_volatile) {
		pthread_mutex_lock(&s->wmu);
		/* Entries appended later must sort after pos, or they would look stored already. */
		if (spool_pos_cmp(pos, (struct spool_pos){s->active_id, s->active_len}) > 0)
			rc = roll(s, (pos.segment > s->active_id ? pos.segment : s->active_id) + 1);
		pthread_mutex_unlock(&s->wmu);
	}
	return rc < 0 ? rc : spool_release(s, pos);
}

struct spool_pos spool_checkpoint(const struct spool *s)
{
	struct spool *m = (struct spool *)s; /* the lock is not part of the value */
	struct spool_pos pos;

	pthread_mutex_lock(&m->mu);
	pos = s->ckpt;
	pthread_mutex_unlock(&m->mu);
	return pos;
}

uint64_t spool_backlog_bytes(const struct spool *s)
{
	return atomic_load(&s->backlog);
}

struct spool_stats spool_get_stats(const struct spool *s)
{
	return (struct spool_stats){atomic_load(&s->appended), atomic_load(&s->corrupt_skipped)};
}

const char *spool_strerror(int rc)
{
	switch (rc) {
	case SPOOL_OK: return "success";
	case SPOOL_EIO: return "I/O error";
	case SPOOL_ETOOBIG: return "topic or payload too large";
	case SPOOL_ENOMEM: return "out of memory";
	case SPOOL_ERANGE: return "position beyond the end of the spool";
	case SPOOL_EINVAL: return "invalid options or spool metadata";
	case SPOOL_EBUSY: return "spool in use by another process";
	default: return "unknown spool error";
	}
}
