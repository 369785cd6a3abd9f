/*
 * The simulator's everyday values: what a field of a standard reads at a given time of
 * day, chosen by the field's unit and name (temperatures follow the sun with a lag,
 * irradiance and solar power follow daylight, people counts peak at rush hours, bins fill
 * up during the day...), so a new standard or vendor gets plausible data without code.
 */
#ifndef CITYLINK_SIM_VALUES_H
#define CITYLINK_SIM_VALUES_H

#include <stdint.h>

#include "cli/example.h"
#include "normalizer/model.h"

/* A small deterministic generator (splitmix64): the same seed, the same run. */
struct sim_rng {
	uint64_t state;
};
uint64_t sim_rng_next(struct sim_rng *r);
double sim_rng_unit(struct sim_rng *r);  /* [0, 1) */

/* The local hour of day (0..24) at t_ms in the city (Korea Standard Time, UTC+9). */
double sim_hour(int64_t t_ms);

/*
 * Fills row (the standard's n_fields values, in its units, inside its ranges) with the
 * everyday values of device number `ordinal` at t_ms; rng varies them. Strings are
 * "<field>-<ordinal>" in text (a buffer of textlen bytes per field, owned by the caller,
 * n_fields of them).
 */
void sim_values_fill(const struct norm_standard *st, int ordinal, int64_t t_ms,
		     struct sim_rng *rng, struct example_value *row, char *text, size_t textlen);

#endif
