/* Everyday values by time of day (see sim_values.h). */
#include "cli/sim_values.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "normalizer/units.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define KST_MS (9LL * 3600 * 1000)
#define DAY_MS (24LL * 3600 * 1000)

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) / 9007199254740992.0;
}

double sim_hour(int64_t t_ms)
{
	int64_t in_day = ((t_ms + KST_MS) % DAY_MS + DAY_MS) % DAY_MS;
	return (double)in_day / 3600000.0;
}

/* The shapes of a day, each in [0, 1] (temperature in [-1, 1]). */
enum shape { FLAT, WARMTH, DAYLIGHT, ACTIVITY, FILLING, COUNTER };

static double shape_at(enum shape s, double h, int ordinal, int64_t t_ms)
{
	switch (s) {
	case WARMTH:   /* warmest mid-afternoon */
		return sin(2 * M_PI * (h - 9) / 24);
	case DAYLIGHT: /* sunrise 6:00, sunset 18:00 */
		return h > 6 && h < 18 ? sin(M_PI * (h - 6) / 12) : 0;
	case ACTIVITY: /* morning and evening rush on a quiet night */
		return fmin(1, 0.08 + exp(-(h - 8.5) * (h - 8.5) / 2) +
				   0.9 * exp(-(h - 18.5) * (h - 18.5) / 4));
	case FILLING:  /* each bin fills over its own day and is emptied */
		return fmod(h / 24 + ordinal * 0.137, 1.0);
	case COUNTER:  /* a meter that only goes up: hours since 2026-01-01 */
		return (double)(t_ms - INT64_C(1767225600000)) / 3600000.0;
	case FLAT:
		break;
	}
	return 0.5;
}

/* Everyday value = base + amplitude * shape, in unit; the first row whose unit converts
 * to the field's and whose name part (if any) is in the field's name wins. */
static const struct profile {
	const char *unit, *name;
	enum shape shape;
	double base, amplitude;
} profiles[] = {
	{"percent", "humid", WARMTH, 60, -20},
	{"percent", "battery", FLAT, 80, 30},
	{"percent", "fill", FILLING, 5, 80},
	{"percent", NULL, FLAT, 50, 40},
	{"degC", NULL, WARMTH, 12, 8},
	{"ug/m3", NULL, ACTIVITY, 10, 25},
	{"ppm", "co2", ACTIVITY, 450, 450},
	{"ppm", NULL, ACTIVITY, 0.3, 1},
	{"W/m2", NULL, DAYLIGHT, 0, 850},
	{"W", NULL, DAYLIGHT, 0, 4000},
	{"Wh", NULL, COUNTER, 1000, 150},
	{"lux", NULL, DAYLIGHT, 20, 60000},
	{"km/h", NULL, ACTIVITY, 20, 25},
	{"count", NULL, ACTIVITY, 2, 150},
	{"dBm", NULL, FLAT, -105, 30},
	{"dB", NULL, FLAT, -5, 15},
	{"hPa", NULL, FLAT, 1000, 25},
	{"V", NULL, FLAT, 230, 10},
	{"A", NULL, ACTIVITY, 1, 20},
	{"s", NULL, FLAT, 30, 60},
};

static const struct profile *profile_for(const struct norm_field *f)
{
	for (size_t i = 0; f->unit != NULL && i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		const struct unit *u = unit_find(profiles[i].unit);
		if (u != NULL && unit_convertible(u, f->unit) &&
		    (profiles[i].name == NULL || strstr(f->name, profiles[i].name) != NULL))
			return &profiles[i];
	}
	return NULL;
}

static double number_for(const struct norm_field *f, int ordinal, int64_t t_ms,
			 struct sim_rng *rng)
{
	const struct profile *p = profile_for(f);
	double noise = sim_rng_unit(rng), v;

	if (p != NULL) {
		double s = shape_at(p->shape, sim_hour(t_ms), ordinal, t_ms);
		if (p->shape == FLAT)
			s = noise;
		/* a little scatter between devices and readings */
		v = (p->base + p->amplitude * s) * (0.95 + 0.1 * noise) + (ordinal % 5) * 0.01 * p->base;
		v = unit_convert(unit_find(p->unit), f->unit, v);
		if (p->shape == COUNTER && f->has_range && f->max > 0) /* the meter rolls over */
			v = fmod(fabs(v), f->max);
	} else if (f->has_range) {
		v = f->min + (f->max - f->min) * (0.2 + 0.2 * noise);
	} else {
		v = 10 + 10 * noise;
	}
	if (f->has_range && (v < f->min || v > f->max)) /* keep the shape where it fits */
		v = fmin(fmax(v, f->min), f->max);
	return f->type == NORM_INTEGER ? nearbyint(v) : nearbyint(v * 100) / 100;
}

void sim_values_fill(const struct norm_standard *st, int ordinal, int64_t t_ms,
		     struct sim_rng *rng, struct example_value *row, char *text, size_t textlen)
{
	double activity = shape_at(ACTIVITY, sim_hour(t_ms), ordinal, t_ms);

	for (size_t i = 0; i < st->n_fields; i++) {
		const struct norm_field *f = &st->fields[i];
		struct example_value *v = &row[i];
		double u = sim_rng_unit(rng);

		memset(v, 0, sizeof(*v));
		v->set = 1;
		switch (f->type) {
		case NORM_NUMBER:
		case NORM_INTEGER:
			v->number = number_for(f, ordinal, t_ms, rng);
			break;
		case NORM_BOOLEAN: /* true more often when the city is busy */
			v->number = u < 0.6 * activity;
			break;
		case NORM_ENUM:    /* mostly the first (normal) value */
			v->number = u < 0.85 || f->n_values < 2 ? 0 : 1 + (size_t)(u * 100) % (f->n_values > 3 ? 2 : f->n_values - 1);
			break;
		case NORM_STRING:
			snprintf(text + i * textlen, textlen, "%s-%02d", f->name, ordinal + 1);
			if (f->max_length > 0 && strlen(text + i * textlen) > (size_t)f->max_length)
				text[i * textlen + f->max_length] = '\0';
			v->text = text + i * textlen;
			break;
		case NORM_GEO:     /* placed by the message builder from the device's position */
			v->set = 0;
			break;
		}
	}
}
