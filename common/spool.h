/*
 * The ingest daemon's local append-only spool. The MQTT callback appends each QoS 1 message
 * (the write(2) is done before the PUBACK goes out, so a kill -9 loses nothing); one writer
 * thread reads batches, stores them in PostgreSQL and releases them, which advances the
 * checkpoint and deletes spent segment files. After a crash, reading restarts at the
 * checkpoint and the database absorbs the replayed duplicates.
 *
 * On disk, DIR holds: id (the spool's name), lock (flock'd while open), checkpoint, and the
 * segments NNNNNNNNNNNNNNNN.seg (16 hex digits, increasing). Each entry is a 16-byte header
 * {u32 magic, u32 body_len, u32 crc32(body), u32 reserved} and a body {i64 received_ms,
 * u16 topic_len, u16 reserved, u32 payload_len, topic, payload}, little-endian.
 *
 * Durability (power cut; a process crash never loses an appended entry):
 *   SPOOL_FSYNC_ALWAYS    nothing is lost: every append is fdatasync'd before it returns;
 *   SPOOL_FSYNC_INTERVAL  up to fsync_interval_ms of appends may be lost;
 *   SPOOL_FSYNC_NEVER     whatever the kernel had not written back is lost.
 *
 * Threads: spool_append, spool_backlog_bytes, spool_checkpoint and spool_get_stats may be
 * called from any thread. spool_read, spool_rewind, spool_seek and spool_release belong to
 * the one reader thread. spool_open and spool_close must not race with anything.
 */
#ifndef CITYLINK_SPOOL_H
#define CITYLINK_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Return codes (spool_strerror describes them). */
enum {
	SPOOL_OK = 0,
	SPOOL_EIO = -1,     /* an I/O error; errno says which */
	SPOOL_ETOOBIG = -2, /* topic or payload over its limit */
	SPOOL_ENOMEM = -3,
	SPOOL_ERANGE = -4,  /* a position beyond everything appended */
	SPOOL_EINVAL = -5,  /* bad options or on-disk metadata (id, checkpoint) */
	SPOOL_EBUSY = -6,   /* the directory is locked by another open spool */
};

#define SPOOL_MAX_TOPIC 65535u
#define SPOOL_MAX_PAYLOAD (16u * 1024 * 1024)

struct spool;

/* A place in the spool: offset is a byte offset in that segment. Positions order
 * lexicographically (segment first); an entry's next position is where the one after it
 * starts. */
struct spool_pos {
	uint64_t segment;
	uint64_t offset;
};

enum spool_fsync { SPOOL_FSYNC_ALWAYS, SPOOL_FSYNC_INTERVAL, SPOOL_FSYNC_NEVER };

struct spool_options {
	const char *dir;         /* created 0700 if missing (its parent must exist) */
	enum spool_fsync fsync;
	int fsync_interval_ms;   /* INTERVAL: a background thread fdatasyncs the active segment
				    this often when it was written to; <= 0 means 5 */
	uint64_t segment_bytes;  /* roll to a new segment file after this many bytes; 0: 64 MiB */
	int volatile_for_tests;  /* entries kept only in memory, never written: ONLY for the
				    negative-control test proving the fault tests can detect loss */
};

/* One entry of a batch. topic is not NUL-terminated. */
struct spool_entry {
	int64_t received_ms;
	const char *topic;
	size_t topic_len;
	const void *payload;
	size_t payload_len;
	struct spool_pos next; /* position just after this entry: release up to it */
};

/* The entries of one spool_read and the memory they point into; reused across reads. */
struct spool_batch;

struct spool_stats {
	uint64_t appended;        /* entries appended since open */
	uint64_t corrupt_skipped; /* bytes skipped because of a bad checksum or torn tail */
};

/*
 * Opens (creating if needed) the spool in o->dir, takes its lock, and starts a new segment
 * after the highest existing one (an existing segment's tail may be torn, so it is never
 * appended to). The reader cursor starts at the checkpoint. Returns 0 and *out (caller
 * closes with spool_close), or a negative code with a message in err; a spool held by
 * another process (or another open in this one) fails with
 * "spool DIR is in use by another process".
 */
int spool_open(const struct spool_options *o, struct spool **out, char *err, size_t errlen);

/* Final fdatasync (unless NEVER), stops the flusher thread, frees s. NULL is a no-op. */
void spool_close(struct spool *s);

/* 32 lowercase hex chars, random, made on first open and kept in DIR/id: the name of this
 * spool in the database's checkpoint table. Valid until spool_close. */
const char *spool_id(const struct spool *s);

/*
 * Appends one entry. On 0 the bytes are in the kernel (the write is done); with ALWAYS
 * they are also on disk. SPOOL_ETOOBIG (errno EMSGSIZE) when topic_len > SPOOL_MAX_TOPIC
 * or payload_len > SPOOL_MAX_PAYLOAD; SPOOL_EIO on an I/O error (errno kept). A failed
 * fdatasync (here or in the flusher thread) is sticky: every later append fails with its
 * errno, since the kernel may have dropped the data; reopen the spool.
 */
int spool_append(struct spool *s, int64_t received_ms, const char *topic, size_t topic_len,
		 const void *payload, size_t payload_len);

/* An empty batch (caller frees with spool_batch_free), or NULL when out of memory. */
struct spool_batch *spool_batch_create(void);
void spool_batch_free(struct spool_batch *b);

/*
 * Fills b with the entries after the reader cursor: up to max_entries and about
 * max_bytes, at least one if any is available. When none is, waits up to timeout_ms
 * (negative: without limit) for an append. Returns the count (0 on timeout) and moves
 * the cursor past them, or SPOOL_EIO / SPOOL_ENOMEM (cursor unchanged). The entries stay
 * valid until the next spool_read on b. Unreadable bytes (torn tail, bad checksum) are
 * skipped to the end of their segment and counted in spool_get_stats.
 */
int spool_read(struct spool *s, struct spool_batch *b, size_t max_entries, size_t max_bytes,
	       int timeout_ms);

size_t spool_batch_count(const struct spool_batch *b);
/* Entry i < spool_batch_count(b); valid until the next spool_read on b. */
const struct spool_entry *spool_batch_entry(const struct spool_batch *b, size_t i);

/* Reader cursor back to the checkpoint, so what was read since is read again (after a
 * failed database transaction). */
void spool_rewind(struct spool *s);

/*
 * When pos is after the checkpoint (the database committed further than DIR/checkpoint
 * says), releases up to pos, so checkpoint and cursor move there. A pos beyond everything
 * appended (the spool lost data the database has) starts a new segment after it first, so
 * that later entries still sort after pos. Returns 0 or a spool_release error.
 */
int spool_seek(struct spool *s, struct spool_pos pos);

/*
 * Everything before upto is stored: persists the checkpoint (DIR/checkpoint via a temp
 * file, fdatasync, rename, directory fsync), moves the cursor up to it if behind, and
 * deletes the segment files wholly before it. Releasing at or before the checkpoint does
 * nothing. Returns 0, SPOOL_ERANGE when upto is beyond what was appended, or SPOOL_EIO.
 */
int spool_release(struct spool *s, struct spool_pos upto);

struct spool_pos spool_checkpoint(const struct spool *s);

/* Orders two positions: negative, 0 or positive as a is before, at or after b. */
int spool_pos_cmp(struct spool_pos a, struct spool_pos b);

/* Bytes appended but not released, across all segments. Cheap (one atomic load). */
uint64_t spool_backlog_bytes(const struct spool *s);

struct spool_stats spool_get_stats(const struct spool *s);

/* A constant description of a SPOOL_* code. */
const char *spool_strerror(int rc);

#endif
