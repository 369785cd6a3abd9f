/*
 * The unit table. Each unit converts to its dimension's base unit as
 * base = (v + offset) * num / den, with num and den exact where they can be (whole
 * numbers), so that a conversion reduces the two units' ratio to lowest terms and does at
 * most one multiplication and one division: 7 cm is 70 mm and 212 degF is 100 degC
 * exactly, not to within a rounding error that would then show in printed records.
 * Temperature's base is degC for the same reason.
 */
#include "normalizer/units.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PI 3.14159265358979323846

enum dim {
	TEMPERATURE, LENGTH, SPEED, RATIO, MIXING_RATIO, MASS_CONCENTRATION, POWER, ENERGY,
	VOLTAGE, CURRENT, ILLUMINANCE, IRRADIANCE, COUNT, TIME, PRESSURE, SOUND_LEVEL, LEVEL,
	VOLUME, FLOW, MASS, ANGLE, FREQUENCY, SIGNAL_POWER,
};

static const char *const dimension_names[] = {
	[TEMPERATURE] = "temperature",
	[LENGTH] = "length",
	[SPEED] = "speed",
	[RATIO] = "ratio",
	[MIXING_RATIO] = "mixing ratio",
	[MASS_CONCENTRATION] = "mass concentration",
	[POWER] = "power",
	[ENERGY] = "energy",
	[VOLTAGE] = "voltage",
	[CURRENT] = "current",
	[ILLUMINANCE] = "illuminance",
	[IRRADIANCE] = "irradiance",
	[COUNT] = "count",
	[TIME] = "time",
	[PRESSURE] = "pressure",
	[SOUND_LEVEL] = "sound level",
	[LEVEL] = "level",
	[VOLUME] = "volume",
	[FLOW] = "flow",
	[MASS] = "mass",
	[ANGLE] = "angle",
	[FREQUENCY] = "frequency",
	[SIGNAL_POWER] = "signal power",
};

struct unit {
	const char *name;
	enum dim dim;
	double num, den; /* base = (v + offset) * num / den */
	double offset;
};

/* Canonical units, each dimension's base first. */
static const struct unit units[] = {
	{"degC", TEMPERATURE, 1, 1, 0},
	{"degF", TEMPERATURE, 5, 9, -32},
	{"K", TEMPERATURE, 1, 1, -273.15},
	{"m", LENGTH, 1, 1, 0},
	{"cm", LENGTH, 1, 100, 0},
	{"mm", LENGTH, 1, 1000, 0},
	{"km", LENGTH, 1000, 1, 0},
	{"m/s", SPEED, 1, 1, 0},
	{"km/h", SPEED, 1000, 3600, 0},
	{"mph", SPEED, 1609344, 3600000, 0},
	{"kn", SPEED, 1852, 3600, 0},
	{"fraction", RATIO, 1, 1, 0},
	{"percent", RATIO, 1, 100, 0},
	{"ppm", MIXING_RATIO, 1, 1, 0},
	{"ppb", MIXING_RATIO, 1, 1000, 0},
	{"ug/m3", MASS_CONCENTRATION, 1, 1, 0},
	{"mg/m3", MASS_CONCENTRATION, 1000, 1, 0},
	{"W", POWER, 1, 1, 0},
	{"kW", POWER, 1000, 1, 0},
	{"J", ENERGY, 1, 1, 0},
	{"kJ", ENERGY, 1000, 1, 0},
	{"Wh", ENERGY, 3600, 1, 0},
	{"kWh", ENERGY, 3600000, 1, 0},
	{"V", VOLTAGE, 1, 1, 0},
	{"mV", VOLTAGE, 1, 1000, 0},
	{"A", CURRENT, 1, 1, 0},
	{"mA", CURRENT, 1, 1000, 0},
	{"lux", ILLUMINANCE, 1, 1, 0},
	{"W/m2", IRRADIANCE, 1, 1, 0},
	{"count", COUNT, 1, 1, 0},
	{"s", TIME, 1, 1, 0},
	{"ms", TIME, 1, 1000, 0},
	{"min", TIME, 60, 1, 0},
	{"h", TIME, 3600, 1, 0},
	{"d", TIME, 86400, 1, 0},
	{"Pa", PRESSURE, 1, 1, 0},
	{"hPa", PRESSURE, 100, 1, 0},
	{"kPa", PRESSURE, 1000, 1, 0},
	{"mbar", PRESSURE, 100, 1, 0},
	{"bar", PRESSURE, 100000, 1, 0},
	{"dBA", SOUND_LEVEL, 1, 1, 0},
	{"dB", LEVEL, 1, 1, 0},
	{"m3", VOLUME, 1, 1, 0},
	{"l", VOLUME, 1, 1000, 0},
	{"m3/s", FLOW, 1, 1, 0},
	{"m3/h", FLOW, 1, 3600, 0},
	{"l/s", FLOW, 1, 1000, 0},
	{"l/min", FLOW, 1, 60000, 0},
	{"kg", MASS, 1, 1, 0},
	{"g", MASS, 1, 1000, 0},
	{"t", MASS, 1000, 1, 0},
	{"deg", ANGLE, 1, 1, 0},
	{"rad", ANGLE, 180, PI, 0},
	{"Hz", FREQUENCY, 1, 1, 0},
	{"kHz", FREQUENCY, 1000, 1, 0},
	{"dBm", SIGNAL_POWER, 1, 1, 0}, /* logarithmic, relative to 1 mW: converts only to itself */
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

/* Other names for canonical units: SenML's (RFC 8428) and common spellings. */
static const struct {
	const char *name;
	const char *canonical;
} aliases[] = {
	{"Cel", "degC"},
	{"\xc2\xb0" "C", "degC"}, /* U+00B0 degree sign */
	{"\xc2\xb0" "F", "degF"},
	{"%", "percent"},
	{"%RH", "percent"},
	{"/", "fraction"},
	{"lx", "lux"},
	{"\xc2\xb5g/m3", "ug/m3"}, /* U+00B5 micro sign */
	{"\xce\xbcg/m3", "ug/m3"}, /* U+03BC Greek mu */
	{"L", "l"},
	{"dB(A)", "dBA"},
};

static const struct unit *find_canonical(const char *name)
{
	/* The first-byte test skips nearly every strcmp: SenML looks units up per record. */
	for (size_t i = 0; i < NUNITS; i++)
		if (units[i].name[0] == name[0] && strcmp(units[i].name, name) == 0)
			return &units[i];
	return NULL;
}

const struct unit *unit_find(const char *name)
{
	const struct unit *u;

	if (name == NULL)
		return NULL;
	if ((u = find_canonical(name)) != NULL)
		return u;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (aliases[i].name[0] == name[0] && strcmp(aliases[i].name, name) == 0)
			return find_canonical(aliases[i].canonical);
	return NULL;
}

const char *unit_name(const struct unit *u)
{
	return u->name;
}

const char *unit_dimension(const struct unit *u)
{
	return dimension_names[u->dim];
}

int unit_convertible(const struct unit *from, const struct unit *to)
{
	return from != NULL && to != NULL && from->dim == to->dim;
}

/* Whole numbers small enough to be exact in a double. */
static int exact_whole(double x)
{
	return x >= 1 && x <= 9007199254740992.0 && x == floor(x);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

double unit_convert(const struct unit *from, const struct unit *to, double v)
{
	double n, d, x;

	if (!unit_convertible(from, to))
		return NAN;
	/* Not even an offset's round trip: a unit to itself is the identity. */
	if (from == to)
		return v;
	n = from->num * to->den;
	d = from->den * to->num;
	if (exact_whole(n) && exact_whole(d)) {
		uint64_t g = gcd((uint64_t)n, (uint64_t)d);
		n /= (double)g;
		d /= (double)g;
	}
	x = v + from->offset;
	if (d == 1)
		x = n == 1 ? x : x * n;
	else if (n == 1)
		x = x / d;
	else
		/* Wider intermediate, so the result is rounded (nearly) once. */
		x = (double)((long double)x * n / d);
	return x - to->offset;
}

const struct unit *unit_at(int i)
{
	if (i < 0 || (size_t)i >= NUNITS)
		return NULL;
	return &units[i];
}
