/*
 * The simulator's devices (pure: no I/O, no clock): dozens of devices spread over every
 * source of a schema set, each sending its vendor's raw payloads built from the source's
 * mappings (cli/example.h), with everyday values that follow the time of day
 * (cli/sim_values.h), now and then an incident that trips one of the standard's rules
 * (cli/sim_rules.h), a small share of deliberately bad messages, and one device that goes
 * silent so a `silent:` rule fires. The same seed and clock give the same messages.
 */
#ifndef CITYLINK_SIM_H
#define CITYLINK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/schema.h"

struct sim_options {
	int devices;             /* spread over the sources in turn; at least one per source */
	uint64_t seed;
	double bad_ratio;        /* share of messages deliberately refused (0.01) */
	double incident_ratio;   /* chance per record that an idle device starts an incident */
	int64_t silent_after_ms; /* the silent device stops this long after its first message */
};

enum sim_bad { SIM_GOOD, SIM_BAD_MALFORMED, SIM_BAD_RANGE };

struct sim_message {
	char *topic;
	char *payload;
	enum sim_bad bad;
	const struct norm_source *source;
	const char *device;               /* valid until sim_free */
	const struct norm_rule *incident; /* the rule this message is meant to trip, or NULL */
};

/* The message of one device at one instant (none when every device is silent). Scalar
 * sources send one field per message, taking turns. */
struct sim_tick {
	struct sim_message *items;
	size_t n;
};

struct sim;

/* Creates the devices for schema s (borrowed; must outlive the sim). Returns the sim
 * (caller frees with sim_free) or NULL with the reason in err. */
struct sim *sim_create(const struct norm_schema *s, const struct sim_options *o, char *err,
		       size_t errlen);
void sim_free(struct sim *sim);

size_t sim_device_count(const struct sim *sim);
/* The device that goes silent, and the silence rule that should notice it (NULL when
 * the schema set has none). */
const char *sim_silent_device(const struct sim *sim, const struct norm_rule **rule);

/*
 * The next device's messages at now_ms (devices take turns; the silent one is skipped
 * once its time is up). Fills *out (zero it first; free with sim_tick_free, also on
 * failure). Returns 0, or -1 with the reason in err.
 */
int sim_next(struct sim *sim, int64_t now_ms, struct sim_tick *out, char *err, size_t errlen);
void sim_tick_free(struct sim_tick *t);

#endif
