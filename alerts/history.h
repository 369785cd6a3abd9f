/*
 * Per-device history of the fields that delta() and rate() look at: a bounded ring of
 * (record time, value per watched field), oldest first. Internal to the engine.
 */
#ifndef CITYLINK_HISTORY_H
#define CITYLINK_HISTORY_H

#include <stddef.h>
#include <stdint.h>

/* At most this many records per device are kept, whatever the windows: with more records
 * inside a window, its oldest retained record stands in for the one W ago. */
#define HISTORY_MAX 64

struct history {
	int64_t *time;     /* cap entries */
	double *v;         /* cap * nf values; NaN where the record lacked the field */
	size_t nf, cap, start, n;
};

/* An empty history for nf watched fields. 0, or -1 on out of memory (h then empty). */
int history_init(struct history *h, size_t nf);
void history_free(struct history *h);
/* Deep copy; 0 or -1 on out of memory. */
int history_copy(struct history *to, const struct history *from);

/* Time of the newest entry, or INT64_MIN when empty. */
int64_t history_newest(const struct history *h);

/*
 * Appends a record at time t (which must be after history_newest) with vals[nf], then
 * drops entries no window needs: all but the newest one at or before t - keep_ms, and
 * the oldest when the ring is full.
 */
void history_push(struct history *h, int64_t t, const double *vals, int64_t keep_ms);

/* delta's reference for watched field f at record time t, window w: the newest entry
 * carrying f at or before t - w, else the oldest carrying f. 1 and *v, or 0 if none. */
int history_reference(const struct history *h, size_t f, int64_t t, int64_t w, double *v);

/* The newest entry carrying f: 1 with *t and *v, or 0 if none. */
int history_previous(const struct history *h, size_t f, int64_t *t, double *v);

#endif
