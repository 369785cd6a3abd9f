/* The bounded per-device history behind delta() and rate() (history.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/history.h"

int history_init(struct history *h, size_t nf)
{
	memset(h, 0, sizeof(*h));
	h->nf = nf;
	h->time = malloc(HISTORY_MAX * sizeof(*h->time));
	h->v = malloc(HISTORY_MAX * (nf ? nf : 1) * sizeof(*h->v));
	if (h->time == NULL || h->v == NULL) {
		history_free(h);
		return -1;
	}
	h->cap = HISTORY_MAX;
	return 0;
}

void history_free(struct history *h)
{
	free(h->time);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int history_copy(struct history *to, const struct history *from)
{
	if (history_init(to, from->nf) < 0)
		return -1;
	memcpy(to->time, from->time, HISTORY_MAX * sizeof(*to->time));
	memcpy(to->v, from->v, HISTORY_MAX * (from->nf ? from->nf : 1) * sizeof(*to->v));
	to->start = from->start;
	to->n = from->n;
	return 0;
}

/* Ring slot of the i-th oldest entry. */
static size_t slot(const struct history *h, size_t i)
{
	return (h->start + i) % h->cap;
}

int64_t history_newest(const struct history *h)
{
	return h->n == 0 ? INT64_MIN : h->time[slot(h, h->n - 1)];
}

static void drop_oldest(struct history *h)
{
	h->start = (h->start + 1) % h->cap;
	h->n--;
}

void history_push(struct history *h, int64_t t, const double *vals, int64_t keep_ms)
{
	if (h->cap == 0)
		return;
	if (h->n == h->cap)
		drop_oldest(h);
	size_t s = slot(h, h->n);
	h->time[s] = t;
	memcpy(&h->v[s * h->nf], vals, h->nf * sizeof(*vals));
	h->n++;
	/* Keep one entry at or before the cutoff: it is the reference W ago. */
	while (h->n >= 2 && h->time[slot(h, 1)] <= t - keep_ms)
		drop_oldest(h);
}

int history_reference(const struct history *h, size_t f, int64_t t, int64_t w, double *v)
{
	int found = 0;
	for (size_t i = 0; i < h->n; i++) {
		size_t s = slot(h, i);
		double x = h->v[s * h->nf + f];
		if (isnan(x))
			continue;
		if (h->time[s] > t - w && found)
			break;              /* the newest at or before the cutoff is already held */
		*v = x;
		found = 1;
		if (h->time[s] > t - w)
			break;              /* nothing that old: the oldest in the window */
	}
	return found;
}

int history_previous(const struct history *h, size_t f, int64_t *t, double *v)
{
	for (size_t i = h->n; i-- > 0;) {
		size_t s = slot(h, i);
		if (!isnan(h->v[s * h->nf + f])) {
			*t = h->time[s];
			*v = h->v[s * h->nf + f];
			return 1;
		}
	}
	return 0;
}
