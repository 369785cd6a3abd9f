/*
 * The spool against real files: each case runs in its own directory under /tmp, removed
 * after. The crash case kills a child with SIGKILL mid-stream; its negative control runs
 * the same steps on a volatile spool to show the check would notice lost entries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spool.h"
#include "fixture.h"
#include "test.h"

#define SEQ_LEN 8
#define ENTRY_SIZE (32 + 1 + SEQ_LEN) /* one append_seq entry on disk: topic "t" */
#define MAX_SEGS 64

/* ---- helpers ---- */

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(sub);
		else
			unlink(sub);
	}
	if (d != NULL)
		closedir(d);
	rmdir(path);
}

/* Runs body in a fresh directory and removes it after, even when an assertion returned
 * from body early. */
static void in_tmpdir(void (*body)(const char *dir))
{
	char dir[] = "/tmp/citylink-spool-XXXXXX";

	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		test_case_failed = 1;
		return;
	}
	body(dir);
	rm_tree(dir);
}

#define DIR_CASE(name)                                                                      \
	static void name(void)                                                              \
	{                                                                                   \
		in_tmpdir(name##_in);                                                       \
	}

static int open_spool(const char *dir, enum spool_fsync f, uint64_t segment_bytes,
		      struct spool **s)
{
	struct spool_options o = {.dir = dir, .fsync = f, .fsync_interval_ms = 5,
				  .segment_bytes = segment_bytes};
	char err[512];
	int rc = spool_open(&o, s, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "spool_open %s: %s\n", dir, err);
	return rc;
}

static int append_seq(struct spool *s, int seq)
{
	char p[SEQ_LEN + 1];

	snprintf(p, sizeof(p), "%08d", seq);
	return spool_append(s, seq, "t", 1, p, SEQ_LEN);
}

/* The number an append_seq entry carries, or -1. */
static long entry_seq(const struct spool_entry *e)
{
	char buf[SEQ_LEN + 1];

	if (e->payload_len != SEQ_LEN || e->topic_len != 1 || e->topic[0] != 't')
		return -1;
	memcpy(buf, e->payload, SEQ_LEN);
	buf[SEQ_LEN] = '\0';
	return strtol(buf, NULL, 10);
}

/* Reads everything available now into seqs (and each entry's next position into next,
 * when not NULL). Returns the count, or -1 on an error or a foreign entry. */
static int read_seqs(struct spool *s, struct spool_batch *b, long *seqs, struct spool_pos *next,
		     int cap)
{
	int total = 0, n;

	while ((n = spool_read(s, b, 1000, 1 << 20, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct spool_entry *e = spool_batch_entry(b, (size_t)i);
			if (total == cap || (seqs[total] = entry_seq(e)) < 0)
				return -1;
			if (next != NULL)
				next[total] = e->next;
			total++;
		}
	}
	return n < 0 ? -1 : total;
}

/* The segment files of dir in order, as "dir/name" paths; returns how many. */
static int list_segments(const char *dir, char paths[][512], int cap)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), count = 0;

	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (len > 4 && strcmp(names[i]->d_name + len - 4, ".seg") == 0 && count < cap)
			snprintf(paths[count++], 512, "%s/%s", dir, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return count;
}

static int count_segments(const char *dir)
{
	char paths[MAX_SEGS][512];
	return list_segments(dir, paths, MAX_SEGS);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int pos_eq(struct spool_pos a, struct spool_pos b)
{
	return a.segment == b.segment && a.offset == b.offset;
}

/* ---- cases ---- */

static void round_trip_in(const char *dir)
{
	static const unsigned char bin[] = {0, 'a', 0, 0xff, 0, 0x80};
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	const struct spool_entry *e;
	char *big = calloc(1, SPOOL_MAX_PAYLOAD + 1);

	ASSERT(b != NULL && big != NULL);
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	ASSERT_INT_EQ(spool_append(s, 1700000000123, "a/b\0c", 5, bin, sizeof(bin)), 0);
	ASSERT_INT_EQ(spool_append(s, -5, "empty", 5, NULL, 0), 0);
	ASSERT_INT_EQ(spool_append(s, 7, big, SPOOL_MAX_TOPIC, big, SPOOL_MAX_PAYLOAD), 0);
	ASSERT_INT_EQ(spool_append(s, 8, big, SPOOL_MAX_TOPIC + 1, "x", 1), SPOOL_ETOOBIG);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	ASSERT_INT_EQ(spool_append(s, 9, "t", 1, big, SPOOL_MAX_PAYLOAD + 1), SPOOL_ETOOBIG);
	/* The big entry would take the batch over its byte budget: it comes next, alone. */
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 0), 2);
	e = spool_batch_entry(b, 0);
	ASSERT_INT_EQ(e->received_ms, 1700000000123);
	ASSERT(e->topic_len == 5 && memcmp(e->topic, "a/b\0c", 5) == 0);
	ASSERT(e->payload_len == sizeof(bin) && memcmp(e->payload, bin, sizeof(bin)) == 0);
	e = spool_batch_entry(b, 1);
	ASSERT_INT_EQ(e->received_ms, -5);
	ASSERT_INT_EQ(e->payload_len, 0);
	ASSERT(spool_batch_entry(b, 2) == NULL);
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 0), 1);
	e = spool_batch_entry(b, 0);
	ASSERT_INT_EQ(e->topic_len, SPOOL_MAX_TOPIC);
	ASSERT_INT_EQ(e->payload_len, SPOOL_MAX_PAYLOAD);
	ASSERT(memcmp(e->payload, big, SPOOL_MAX_PAYLOAD) == 0);
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 0), 0);
	ASSERT_INT_EQ(spool_get_stats(s).appended, 3);
	ASSERT_INT_EQ(spool_get_stats(s).corrupt_skipped, 0);
	spool_close(s);
	spool_batch_free(b);
	free(big);
}
DIR_CASE(round_trip)

static void id_and_directory_in(const char *dir)
{
	char sub[512], id[33];
	struct spool *s;
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/spool", dir);
	ASSERT_INT_EQ(open_spool(sub, SPOOL_FSYNC_ALWAYS, 0, &s), 0);
	ASSERT_INT_EQ(stat(sub, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0700);
	ASSERT_INT_EQ(strlen(spool_id(s)), 32);
	ASSERT_INT_EQ(strspn(spool_id(s), "0123456789abcdef"), 32);
	snprintf(id, sizeof(id), "%s", spool_id(s));
	spool_close(s);
	ASSERT_INT_EQ(open_spool(sub, SPOOL_FSYNC_ALWAYS, 0, &s), 0);
	ASSERT_STR_EQ(spool_id(s), id);
	spool_close(s);
}
DIR_CASE(id_and_directory)

static void second_open_is_refused_in(const char *dir)
{
	struct spool_options o = {.dir = dir, .fsync = SPOOL_FSYNC_NEVER};
	struct spool *s, *t = NULL;
	char err[512], want[600];

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	ASSERT_INT_EQ(spool_open(&o, &t, err, sizeof(err)), SPOOL_EBUSY);
	ASSERT(t == NULL);
	snprintf(want, sizeof(want), "spool %s is in use by another process", dir);
	ASSERT_STR_EQ(err, want);
	spool_close(s);
	ASSERT_INT_EQ(spool_open(&o, &t, err, sizeof(err)), 0);
	spool_close(t);
}
DIR_CASE(second_open_is_refused)

static void bad_checkpoint_is_refused_in(const char *dir)
{
	struct spool_options o = {.dir = dir, .fsync = SPOOL_FSYNC_NEVER};
	struct spool *s = NULL;
	char path[512], err[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	ASSERT((f = fopen(path, "w")) != NULL);
	fputs("not a checkpoint\n", f);
	fclose(f);
	ASSERT_INT_EQ(spool_open(&o, &s, err, sizeof(err)), SPOOL_EINVAL);
	ASSERT_STR_CONTAINS(err, "checkpoint: unreadable contents");
}
DIR_CASE(bad_checkpoint_is_refused)

static void *append_later(void *arg)
{
	sleep_ms(50);
	append_seq(arg, 1);
	return NULL;
}

static void read_waits_for_append_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	pthread_t t;
	long t0;

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	t0 = now_ms();
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 100), 0);
	ASSERT(now_ms() - t0 >= 95);
	ASSERT_INT_EQ(pthread_create(&t, NULL, append_later, s), 0);
	t0 = now_ms();
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 10000), 1);
	ASSERT(now_ms() - t0 < 5000);
	ASSERT_INT_EQ(entry_seq(spool_batch_entry(b, 0)), 1);
	pthread_join(t, NULL);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(read_waits_for_append)

static void batches_respect_limits_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	long seqs[16];

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	for (int i = 0; i < 10; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	for (int want = 0; want < 10; want += 3) {
		ASSERT_INT_EQ(spool_read(s, b, 3, 1 << 20, 0), want < 9 ? 3 : 1);
		ASSERT_INT_EQ(entry_seq(spool_batch_entry(b, 0)), want);
	}
	ASSERT_INT_EQ(spool_read(s, b, 3, 1 << 20, 0), 0);
	/* A byte budget below one entry still returns one entry per read. */
	spool_rewind(s);
	ASSERT_INT_EQ(spool_read(s, b, 100, 1, 0), 1);
	ASSERT_INT_EQ(spool_read(s, b, 100, 2 * ENTRY_SIZE, 0), 2);
	ASSERT_INT_EQ(entry_seq(spool_batch_entry(b, 1)), 2);
	/* Nothing was released, so a rewind reads everything again. */
	spool_rewind(s);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 16), 10);
	ASSERT_INT_EQ(seqs[9], 9);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(batches_respect_limits)

static void release_deletes_segments_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	struct spool_pos next[12];
	long seqs[12];
	char path[512], *text;
	size_t len;

	/* Three entries fill a segment: 12 entries make segments 1 to 4. */
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_ALWAYS, 3 * ENTRY_SIZE, &s), 0);
	for (int i = 0; i < 12; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	ASSERT_INT_EQ(count_segments(dir), 4);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 12), 12);
	ASSERT(next[4].segment == 2 && next[4].offset == 2 * ENTRY_SIZE);
	ASSERT_INT_EQ(spool_release(s, next[4]), 0);
	ASSERT_INT_EQ(count_segments(dir), 3);
	ASSERT(pos_eq(spool_checkpoint(s), next[4]));
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	ASSERT((text = fixture_read_file(path, &len)) != NULL);
	ASSERT_STR_EQ(text, "0000000000000002 82\n");
	free(text);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 7 * ENTRY_SIZE);
	/* The end of a segment releases the whole segment. */
	ASSERT_INT_EQ(spool_release(s, next[5]), 0);
	ASSERT_INT_EQ(count_segments(dir), 2);
	ASSERT_INT_EQ(spool_release(s, next[1]), 0); /* behind the checkpoint: nothing */
	ASSERT(pos_eq(spool_checkpoint(s), next[5]));
	ASSERT_INT_EQ(spool_release(s, next[11]), 0);
	ASSERT_INT_EQ(count_segments(dir), 1); /* the active segment stays */
	ASSERT_INT_EQ(spool_backlog_bytes(s), 0);
	ASSERT_INT_EQ(spool_release(s, (struct spool_pos){4, 10 * ENTRY_SIZE}), SPOOL_ERANGE);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(release_deletes_segments)

static void reopen_resumes_at_checkpoint_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	struct spool_pos next[10];
	long seqs[10];

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_INTERVAL, 4 * ENTRY_SIZE, &s), 0);
	for (int i = 0; i < 10; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 10), 10);
	ASSERT_INT_EQ(spool_release(s, next[3]), 0);
	spool_close(s);
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_INTERVAL, 4 * ENTRY_SIZE, &s), 0);
	ASSERT(pos_eq(spool_checkpoint(s), next[3]));
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 10), 6);
	for (int i = 0; i < 6; i++)
		ASSERT_INT_EQ(seqs[i], 4 + i);
	ASSERT_INT_EQ(spool_read(s, b, 10, 1 << 20, 0), 0);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(reopen_resumes_at_checkpoint)

/* In a child killed with SIGKILL: append 100, release the first 40. Then reopens the
 * spool and returns how many entries it replays (-1 if they are not exactly 40..99). */
static int crash_and_recover(const char *dir, int volatile_spool)
{
	struct spool_options o = {.dir = dir, .fsync = SPOOL_FSYNC_INTERVAL, .fsync_interval_ms = 5,
				  .volatile_for_tests = volatile_spool};
	struct spool *s;
	struct spool_batch *b;
	struct spool_pos next[100];
	long seqs[100];
	char err[512];
	int status, n;
	pid_t pid = fork();

	if (pid == 0) {
		b = spool_batch_create();
		if (spool_open(&o, &s, err, sizeof(err)) < 0)
			_exit(1);
		for (int i = 0; i < 100; i++)
			if (append_seq(s, i) < 0)
				_exit(1);
		if (read_seqs(s, b, seqs, next, 100) != 100 || spool_release(s, next[39]) < 0)
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
		return -1;
	if (spool_open(&o, &s, err, sizeof(err)) < 0 || (b = spool_batch_create()) == NULL)
		return -1;
	n = read_seqs(s, b, seqs, NULL, 100);
	for (int i = 0; i < n; i++)
		if (seqs[i] != 40 + i)
			n = -1;
	spool_close(s);
	spool_batch_free(b);
	return n;
}

static void crash_replays_from_checkpoint_in(const char *dir)
{
	char a[512], v[512];

	snprintf(a, sizeof(a), "%s/disk", dir);
	snprintf(v, sizeof(v), "%s/volatile", dir);
	ASSERT_INT_EQ(crash_and_recover(a, 0), 60);
	/* Negative control: the same steps lose everything when nothing reaches the disk. */
	ASSERT_INT_EQ(crash_and_recover(v, 1), 0);
}
DIR_CASE(crash_replays_from_checkpoint)

static void flip_byte(const char *path, off_t at)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	if (fd >= 0 && pread(fd, &c, 1, at) == 1) {
		c ^= 0x5a;
		if (pwrite(fd, &c, 1, at) != 1)
			fprintf(stderr, "pwrite %s failed\n", path);
	}
	if (fd >= 0)
		close(fd);
}

static void corruption_is_skipped_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	char segs[MAX_SEGS][512];
	long seqs[6];

	/* Two entries per segment: 0 1 | 2 3 | 4 5. */
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 2 * ENTRY_SIZE, &s), 0);
	for (int i = 0; i < 6; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	spool_close(s);
	ASSERT_INT_EQ(list_segments(dir, segs, MAX_SEGS), 3);
	ASSERT_INT_EQ(truncate(segs[0], 2 * ENTRY_SIZE - 3), 0); /* torn tail: 1 */
	flip_byte(segs[1], 36);                                  /* bad checksum: 2, so 3 */
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 2 * ENTRY_SIZE, &s), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 6 * ENTRY_SIZE - 3);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 6), 3);
	ASSERT(seqs[0] == 0 && seqs[1] == 4 && seqs[2] == 5);
	ASSERT_INT_EQ(spool_get_stats(s).corrupt_skipped, 3 * ENTRY_SIZE - 3);
	/* Read again after a rewind: same entries, the skipped bytes are not counted twice. */
	spool_rewind(s);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 6), 3);
	ASSERT_INT_EQ(spool_get_stats(s).corrupt_skipped, 3 * ENTRY_SIZE - 3);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(corruption_is_skipped)

/* Writes data with random damage as segment 1 of dir: truncation, flipped bytes,
 * plausible headers with wild lengths, or plain noise. */
static int write_damaged(const char *dir, const unsigned char *good, size_t len)
{
	static const unsigned char magic[] = {'C', 'L', 'S', 'P'};
	unsigned char *d = malloc(len + 64);
	size_t n = len;
	char path[512];
	FILE *f;

	if (d == NULL)
		return -1;
	memcpy(d, good, len);
	switch (rand() % 4) {
	case 0: n = (size_t)rand() % (len + 1); break;
	case 1:
		for (int i = rand() % 6; i >= 0; i--)
			d[(size_t)rand() % len] ^= (unsigned char)(1 + rand() % 255);
		break;
	case 2: {
		size_t at = (size_t)rand() % (len - 16);
		memcpy(d + at, magic, 4);
		for (int i = 4; i < 12; i++)
			d[at + (size_t)i] = (unsigned char)(rand() % 3 == 0 ? 0xff : rand());
		break;
	}
	default:
		for (size_t i = 0; i < len; i++)
			d[i] = (unsigned char)rand();
	}
	snprintf(path, sizeof(path), "%s/0000000000000001.seg", dir);
	f = fopen(path, "wb");
	int rc = f != NULL && fwrite(d, 1, n, f) == n ? 0 : -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	free(d);
	return rc < 0 ? -1 : (int)n;
}

/* Every byte of a damaged segment is either read as a good entry or counted as skipped. */
static void garbage_never_crashes_in(const char *dir)
{
	char tpl[256], sub[256], path[512];
	unsigned char *good;
	size_t len;
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	int n, size;

	snprintf(tpl, sizeof(tpl), "%s/template", dir);
	ASSERT_INT_EQ(open_spool(tpl, SPOOL_FSYNC_NEVER, 0, &s), 0);
	for (int i = 0; i < 40; i++)
		ASSERT_INT_EQ(spool_append(s, i, "topic/x", (size_t)(i % 8), tpl, (size_t)(i * 7) % 100), 0);
	spool_close(s);
	snprintf(path, sizeof(path), "%s/0000000000000001.seg", tpl);
	ASSERT((good = (unsigned char *)fixture_read_file(path, &len)) != NULL);
	srand(12345);
	for (int round = 0; round < 300; round++) {
		uint64_t read_bytes = 0;
		snprintf(sub, sizeof(sub), "%s/r%d", dir, round);
		ASSERT_INT_EQ(mkdir(sub, 0700), 0);
		ASSERT((size = write_damaged(sub, good, len)) >= 0);
		ASSERT_INT_EQ(open_spool(sub, SPOOL_FSYNC_NEVER, 0, &s), 0);
		size_t max_bytes = round % 2 ? 1 : 1 << 20;
		while ((n = spool_read(s, b, 7, max_bytes, 0)) > 0)
			for (int i = 0; i < n; i++) {
				const struct spool_entry *e = spool_batch_entry(b, (size_t)i);
				read_bytes += 32 + e->topic_len + e->payload_len;
			}
		ASSERT_INT_EQ(n, 0);
		ASSERT_INT_EQ(read_bytes + spool_get_stats(s).corrupt_skipped, size);
		spool_close(s);
		rm_tree(sub);
	}
	free(good);
	spool_batch_free(b);
}
DIR_CASE(garbage_never_crashes)

static void seek_moves_forward_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	struct spool_pos next[5], far;
	long seqs[5];

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	for (int i = 0; i < 5; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 5), 5);
	spool_rewind(s);
	ASSERT_INT_EQ(spool_seek(s, next[1]), 0);
	ASSERT(pos_eq(spool_checkpoint(s), next[1]));
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 5), 3);
	ASSERT_INT_EQ(seqs[0], 2);
	ASSERT_INT_EQ(spool_seek(s, next[0]), 0); /* backwards: nothing */
	ASSERT(pos_eq(spool_checkpoint(s), next[1]));
	/* The database is ahead of everything here: later entries must sort after it. */
	far = (struct spool_pos){next[4].segment + 5, 100};
	ASSERT_INT_EQ(spool_seek(s, far), 0);
	ASSERT(pos_eq(spool_checkpoint(s), far));
	ASSERT_INT_EQ(spool_backlog_bytes(s), 0);
	ASSERT_INT_EQ(append_seq(s, 5), 0);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 5), 1);
	ASSERT(next[0].segment > far.segment);
	spool_close(s);
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 0, &s), 0);
	ASSERT(pos_eq(spool_checkpoint(s), far));
	ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 5), 1);
	ASSERT_INT_EQ(seqs[0], 5);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(seek_moves_forward)

static void backlog_bytes_in(const char *dir)
{
	struct spool *s;
	struct spool_batch *b = spool_batch_create();
	struct spool_pos next[10];
	long seqs[10];

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 3 * ENTRY_SIZE, &s), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 0);
	for (int i = 0; i < 10; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 10 * ENTRY_SIZE);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 10), 10);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 10 * ENTRY_SIZE); /* read is not released */
	ASSERT_INT_EQ(spool_release(s, next[3]), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 6 * ENTRY_SIZE);
	spool_close(s);
	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_NEVER, 3 * ENTRY_SIZE, &s), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 6 * ENTRY_SIZE);
	ASSERT_INT_EQ(spool_release(s, next[9]), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 0);
	ASSERT_INT_EQ(append_seq(s, 10), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), ENTRY_SIZE);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(backlog_bytes)

static void every_fsync_mode_in(const char *dir)
{
	static const enum spool_fsync modes[] = {SPOOL_FSYNC_ALWAYS, SPOOL_FSYNC_INTERVAL,
						 SPOOL_FSYNC_NEVER};
	struct spool_batch *b = spool_batch_create();
	struct spool *s;
	char sub[512];
	long seqs[50];

	for (int m = 0; m < 3; m++) {
		snprintf(sub, sizeof(sub), "%s/mode%d", dir, m);
		ASSERT_INT_EQ(open_spool(sub, modes[m], 4 * ENTRY_SIZE, &s), 0);
		for (int i = 0; i < 50; i++)
			ASSERT_INT_EQ(append_seq(s, i), 0);
		sleep_ms(20); /* let the INTERVAL flusher run a few times */
		ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 50), 50);
		spool_close(s);
		/* Nothing released and no checkpoint file: all of it again, from the oldest. */
		ASSERT_INT_EQ(open_spool(sub, modes[m], 4 * ENTRY_SIZE, &s), 0);
		ASSERT_INT_EQ(read_seqs(s, b, seqs, NULL, 50), 50);
		for (int i = 0; i < 50; i++)
			ASSERT_INT_EQ(seqs[i], i);
		spool_close(s);
	}
	spool_batch_free(b);
}
DIR_CASE(every_fsync_mode)

static void volatile_stays_in_memory_in(const char *dir)
{
	struct spool_options o = {.dir = dir, .fsync = SPOOL_FSYNC_ALWAYS,
				  .volatile_for_tests = 1};
	struct spool_batch *b = spool_batch_create();
	struct spool_pos next[3];
	struct spool *s;
	long seqs[3];
	char err[512];

	ASSERT_INT_EQ(spool_open(&o, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_INT_EQ(append_seq(s, i), 0);
	ASSERT_INT_EQ(read_seqs(s, b, seqs, next, 3), 3);
	ASSERT_INT_EQ(spool_release(s, next[1]), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), ENTRY_SIZE);
	ASSERT_INT_EQ(count_segments(dir), 0);
	spool_close(s);
	spool_batch_free(b);
}
DIR_CASE(volatile_stays_in_memory)

#define MAX_THREADS 4

struct producer {
	struct spool *s;
	int first, count, failed;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < p->count; i++)
		if (append_seq(p->s, p->first + i) < 0)
			p->failed = 1;
	return NULL;
}

/*
 * Producers append while this thread reads and releases, across segment rolls and with
 * the flusher running. Each producer's numbers must arrive once each and in order.
 */
static void read_while_appending(const char *dir, int threads, int per_thread)
{
	struct producer p[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	struct spool_batch *b = spool_batch_create();
	struct spool *s;
	long want[MAX_THREADS];
	int n;

	ASSERT_INT_EQ(open_spool(dir, SPOOL_FSYNC_INTERVAL, 16 * 1024, &s), 0);
	for (int i = 0; i < threads; i++) {
		p[i] = (struct producer){s, i * per_thread, per_thread, 0};
		want[i] = p[i].first;
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	for (int got = 0; got < threads * per_thread; got += n) {
		ASSERT((n = spool_read(s, b, 97, 4096, 5000)) > 0);
		for (int i = 0; i < n; i++) {
			long seq = entry_seq(spool_batch_entry(b, (size_t)i));
			ASSERT(seq >= 0 && seq < threads * per_thread);
			ASSERT_INT_EQ(seq, want[seq / per_thread]);
			want[seq / per_thread]++;
		}
		ASSERT_INT_EQ(spool_release(s, spool_batch_entry(b, (size_t)n - 1)->next), 0);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ASSERT_INT_EQ(p[i].failed, 0);
	}
	ASSERT_INT_EQ(spool_read(s, b, 97, 4096, 0), 0);
	ASSERT_INT_EQ(spool_backlog_bytes(s), 0);
	ASSERT_INT_EQ(spool_get_stats(s).appended, threads * per_thread);
	ASSERT_INT_EQ(count_segments(dir), 1);
	spool_close(s);
	spool_batch_free(b);
}

static void one_appender_one_reader_in(const char *dir)
{
	read_while_appending(dir, 1, 5000);
}
DIR_CASE(one_appender_one_reader)

static void four_appenders_one_reader_in(const char *dir)
{
	read_while_appending(dir, MAX_THREADS, 1500);
}
DIR_CASE(four_appenders_one_reader)

static const struct test_case cases[] = {
	{"round_trip", round_trip},
	{"id_and_directory", id_and_directory},
	{"second_open_is_refused", second_open_is_refused},
	{"bad_checkpoint_is_refused", bad_checkpoint_is_refused},
	{"read_waits_for_append", read_waits_for_append},
	{"batches_respect_limits", batches_respect_limits},
	{"release_deletes_segments", release_deletes_segments},
	{"reopen_resumes_at_checkpoint", reopen_resumes_at_checkpoint},
	{"crash_replays_from_checkpoint", crash_replays_from_checkpoint},
	{"corruption_is_skipped", corruption_is_skipped},
	{"garbage_never_crashes", garbage_never_crashes},
	{"seek_moves_forward", seek_moves_forward},
	{"backlog_bytes", backlog_bytes},
	{"every_fsync_mode", every_fsync_mode},
	{"volatile_stays_in_memory", volatile_stays_in_memory},
	{"one_appender_one_reader", one_appender_one_reader},
	{"four_appenders_one_reader", four_appenders_one_reader},
	{NULL, NULL},
};

TEST_MAIN(cases)
