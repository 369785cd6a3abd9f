/*
 * The engine's state, shared by engine.c (building, restoring, adopting) and
 * engine_run.c (records and timers). Not for consumers: they use engine.h.
 */
#ifndef CITYLINK_ENGINE_INTERNAL_H
#define CITYLINK_ENGINE_INTERNAL_H

#include "alerts/engine.h"
#include "alerts/guards.h"
#include "alerts/history.h"
#include "alerts/program.h"

enum cond_state { COND_IDLE, COND_PENDING, COND_ACTIVE };

/* What evaluating rule i needs, packed so that 1,000 rules stay in cache (the
 * norm_rule itself is only read when an event is emitted). Which rules a record visits at
 * all is the guard index's business (guards.h). */
struct slot {
	int64_t for_ms, silent_ms;
	uint32_t when_at, when_len;       /* in the standard's program */
	uint32_t clear_at, clear_len;     /* clear_len 0 = not when */
};

struct device {
	char *id;
	struct device *next;     /* hash chain */
	struct device *all;      /* every device of the standard, newest first */
	char *source;            /* of the last record, NULL before any */
	int seen;                /* last_seen_ms is known (a record or engine_restore_seen) */
	int64_t last_seen_ms;    /* arrival of the last record */
	int64_t time_ms;         /* record time of the last record, 0 before any */
	int has_values;
	struct norm_value *last; /* last known value per field (texts owned, below) */
	char **text;             /* owned copies behind last[i].text */
	/* One (rule, device) condition per rule of the standard: the state (enum cond_state)
	 * is read on every record, so it is a byte; since (when `when` started to hold,
	 * while PENDING) lives apart and is touched only by rules that hold. */
	unsigned char *state;
	int64_t *since;
	unsigned char *applies;  /* per rule: passes the device filter; NULL = all apply */
	struct history hist;     /* cap 0 when the standard's rules use no delta/rate */
};

/* The rules of one standard and the devices that sent it. */
struct std_state {
	const struct norm_standard *st;
	const struct norm_rule **rules;
	struct slot *slots;      /* parallel to rules */
	size_t n_rules;
	int any_filter;          /* some rule has a device filter */
	int any_timer;           /* some rule has for: or silent: */
	int *watch;              /* field -> history column, -1 = not kept */
	unsigned char *integer;  /* field -> 1 when an integer (read as a number by rules) */
	unsigned char *boolean;  /* field -> 1 when a boolean */
	struct program prog;     /* every rule's when and clear */
	struct terms terms;      /* their numeric sub-expressions, shared */
	struct guards guards;    /* which rules a record can change */
	uint64_t *visit;         /* guards.words: the rules the current record or tick visits */
	uint64_t *silent;        /* guards.words: the silence rules */
	size_t n_watch;
	int64_t keep_ms;         /* the longest delta/rate window */
	struct device **buckets; /* hash table by device id */
	size_t n_buckets, n_devices;
	struct device *devices;  /* list through ->all */
	double *scratch;         /* n_watch values for a history push */
};

struct engine {
	const struct norm_schema *schema;
	const struct norm_standard *std_base; /* norm_schema_standards: index by pointer */
	struct std_state *stds;
	size_t n_stds;
	int64_t next_due;        /* lower bound of the next timer */
	size_t active;
	int report_pending;      /* emit ENGINE_PENDING / ENGINE_CANCEL (engine_report_pending) */
};

/* The state of standard st in e, or NULL when st is not of e's schema. */
struct std_state *engine_std(const struct engine *e, const struct norm_standard *st);
/* The device id of ss, created (all conditions idle) if new; NULL on out of memory. */
struct device *engine_device(struct std_state *ss, const char *id);
struct device *engine_find_device(const struct std_state *ss, const char *id);
/* Copies the present values of a record (st's fields) into d's last known values.
 * 0 or ENGINE_ENOMEM. */
int engine_merge_values(struct device *d, const struct norm_standard *st,
			const struct norm_value *v);
/* Appends an event for (rule, device) to out; 0 or ENGINE_ENOMEM. */
int engine_emit(struct engine_events *out, enum engine_event_kind kind, const struct norm_rule *r,
		const struct std_state *ss, const struct device *d, int64_t since, int64_t at);

#endif
