/* Unit tests for normalizer/units.c. */
#include "normalizer/units.h"

#include <math.h>

#include "test.h"

/* v in from, expressed in to; NAN if either name is unknown. */
static double conv(const char *from, const char *to, double v)
{
	const struct unit *f = unit_find(from), *t = unit_find(to);

	if (f == NULL || t == NULL)
		return NAN;
	return unit_convert(f, t, v);
}

static void design_names_present(void)
{
	static const char *const names[] = {
		"degC", "degF", "K",   "m",  "cm",    "mm", "km", "m/s", "km/h", "percent",
		"fraction", "ppm", "ppb", "ug/m3", "mg/m3", "W", "kW", "Wh", "kWh", "V",
		"mV",   "A",    "mA",  "lux", "count", "s",  "min", "h",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct unit *u = unit_find(names[i]);
		if (u == NULL)
			TEST_FAIL_AT("unit %s missing", names[i]);
		ASSERT_STR_EQ(unit_name(u), names[i]);
	}
}

static void more_units_present(void)
{
	static const char *const names[][2] = {
		{"J", "energy"},          {"kJ", "energy"},       {"mph", "speed"},
		{"kn", "speed"},          {"ms", "time"},         {"d", "time"},
		{"Pa", "pressure"},       {"hPa", "pressure"},    {"kPa", "pressure"},
		{"bar", "pressure"},      {"mbar", "pressure"},   {"dBA", "sound level"},
		{"dB", "level"},          {"m3", "volume"},       {"l", "volume"},
		{"m3/h", "flow"},         {"l/s", "flow"},        {"m3/s", "flow"},
		{"l/min", "flow"},        {"kg", "mass"},         {"g", "mass"},
		{"t", "mass"},            {"deg", "angle"},       {"rad", "angle"},
		{"Hz", "frequency"},      {"kHz", "frequency"},   {"W/m2", "irradiance"},
		{"lux", "illuminance"},   {"count", "count"},     {"ppb", "mixing ratio"},
		{"percent", "ratio"},     {"mg/m3", "mass concentration"},
		{"mA", "current"},        {"mV", "voltage"},      {"kW", "power"},
		{"km", "length"},         {"K", "temperature"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct unit *u = unit_find(names[i][0]);
		if (u == NULL)
			TEST_FAIL_AT("unit %s missing", names[i][0]);
		ASSERT_STR_EQ(unit_dimension(u), names[i][1]);
	}
}

static void senml_aliases(void)
{
	static const char *const pairs[][2] = {
		{"Cel", "degC"},
		{"%RH", "percent"},
		{"%", "percent"},
		{"/", "fraction"},
		{"lx", "lux"},
		{"\xc2\xb5g/m3", "ug/m3"},
		{"\xce\xbcg/m3", "ug/m3"},
		{"\xc2\xb0" "C", "degC"},
		{"\xc2\xb0" "F", "degF"},
		{"L", "l"},
		{"dB(A)", "dBA"},
		/* SenML names that are canonical here already. */
		{"J", "J"}, {"W", "W"}, {"Wh", "Wh"}, {"kWh", "kWh"}, {"count", "count"},
		{"m/s", "m/s"}, {"km/h", "km/h"}, {"K", "K"}, {"hPa", "hPa"}, {"ppm", "ppm"},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct unit *u = unit_find(pairs[i][0]);
		if (u == NULL)
			TEST_FAIL_AT("alias %s missing", pairs[i][0]);
		ASSERT_STR_EQ(unit_name(u), pairs[i][1]);
		ASSERT(u == unit_find(pairs[i][1]));
	}
}

static void unknown_names(void)
{
	ASSERT(unit_find(NULL) == NULL);
	ASSERT(unit_find("") == NULL);
	ASSERT(unit_find("furlong") == NULL);
	/* Case-sensitive, as SenML is. */
	ASSERT(unit_find("degc") == NULL);
	ASSERT(unit_find("CEL") == NULL);
	ASSERT(unit_find("KWH") == NULL);
	ASSERT(unit_find("m ") == NULL);
	/* Aliases only where the brief wants them: "1" is not a count. */
	ASSERT(unit_find("1") == NULL);
}

static void table_iteration(void)
{
	int n = 0;

	ASSERT(unit_at(-1) == NULL);
	for (const struct unit *u; (u = unit_at(n)) != NULL; n++) {
		/* Canonical only: every name finds itself, and no alias is listed. */
		ASSERT(unit_find(unit_name(u)) == u);
		ASSERT(strcmp(unit_name(u), "Cel") != 0 && strcmp(unit_name(u), "%") != 0);
		ASSERT(unit_dimension(u)[0] != '\0');
		ASSERT(unit_convertible(u, u));
		/* Names are unique. */
		for (int j = 0; j < n; j++)
			ASSERT(strcmp(unit_name(unit_at(j)), unit_name(u)) != 0);
	}
	ASSERT(n >= 50);
	ASSERT(unit_at(n) == NULL);
	ASSERT(unit_at(1 << 30) == NULL);
}

/* Every unit to every other of its dimension and back, to itself, and through the base. */
static void round_trips(void)
{
	static const double values[] = {0, 1, -40, 21.4, 1e6, -273.15, 0.001};
	const struct unit *u, *w;

	for (int i = 0; (u = unit_at(i)) != NULL; i++) {
		for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++)
			ASSERT_DBL_NEAR(unit_convert(u, u, values[k]), values[k], 0);
		for (int j = 0; (w = unit_at(j)) != NULL; j++) {
			if (!unit_convertible(u, w))
				continue;
			for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
				double v = values[k];
				double back = unit_convert(w, u, unit_convert(u, w, v));
				ASSERT_DBL_NEAR(back, v, 1e-9 * (fabs(v) + 1));
			}
		}
	}
}

static void temperature(void)
{
	/* Exactly, not to within a rounding error. */
	ASSERT_DBL_NEAR(conv("degF", "degC", 212), 100, 0);
	ASSERT_DBL_NEAR(conv("degC", "degF", 100), 212, 0);
	ASSERT_DBL_NEAR(conv("degF", "degC", -40), -40, 0);
	ASSERT_DBL_NEAR(conv("degF", "degC", 32), 0, 0);
	ASSERT_DBL_NEAR(conv("Cel", "K", 0), 273.15, 0);
	ASSERT_DBL_NEAR(conv("K", "degC", 373.15), 100, 0);
	ASSERT_DBL_NEAR(conv("degF", "K", 32), 273.15, 0);
	ASSERT_DBL_NEAR(conv("degF", "degC", 70.52), 21.4, 1e-12);
	ASSERT_DBL_NEAR(conv("K", "degF", 0), -459.67, 1e-9);
	ASSERT_DBL_NEAR(conv("\xc2\xb0" "F", "Cel", 50), 10, 0);
}

static void exact_ratios(void)
{
	ASSERT_DBL_NEAR(conv("cm", "mm", 7), 70, 0);
	ASSERT_DBL_NEAR(conv("mm", "m", 1500), 1.5, 0);
	ASSERT_DBL_NEAR(conv("km", "m", 1.2), 1200, 0);
	ASSERT_DBL_NEAR(conv("km/h", "m/s", 36), 10, 0);
	ASSERT_DBL_NEAR(conv("m/s", "km/h", 10), 36, 0);
	ASSERT_DBL_NEAR(conv("mg/m3", "ug/m3", 1.5), 1500, 0);
	ASSERT_DBL_NEAR(conv("\xc2\xb5g/m3", "mg/m3", 17.9), 0.0179, 0);
	ASSERT_DBL_NEAR(conv("percent", "fraction", 41), 0.41, 0);
	ASSERT_DBL_NEAR(conv("/", "%RH", 0.41), 41, 1e-14);
	ASSERT_DBL_NEAR(conv("ppb", "ppm", 612), 0.612, 0);
	ASSERT_DBL_NEAR(conv("kWh", "J", 1), 3.6e6, 0);
	ASSERT_DBL_NEAR(conv("Wh", "kWh", 1500), 1.5, 0);
	ASSERT_DBL_NEAR(conv("kJ", "Wh", 36), 10, 0);
	ASSERT_DBL_NEAR(conv("kW", "W", 2.5), 2500, 0);
	ASSERT_DBL_NEAR(conv("mV", "V", 3300), 3.3, 0);
	ASSERT_DBL_NEAR(conv("mA", "A", 20), 0.02, 0);
	ASSERT_DBL_NEAR(conv("lx", "lux", 300), 300, 0);
	ASSERT_DBL_NEAR(conv("min", "h", 90), 1.5, 0);
	ASSERT_DBL_NEAR(conv("d", "s", 1), 86400, 0);
	ASSERT_DBL_NEAR(conv("ms", "s", 250), 0.25, 0);
	ASSERT_DBL_NEAR(conv("hPa", "Pa", 1013.25), 101325, 0);
	ASSERT_DBL_NEAR(conv("bar", "mbar", 1), 1000, 0);
	ASSERT_DBL_NEAR(conv("kPa", "hPa", 101.325), 1013.25, 1e-12);
	ASSERT_DBL_NEAR(conv("l", "m3", 250), 0.25, 0);
	ASSERT_DBL_NEAR(conv("L", "l", 2), 2, 0);
	ASSERT_DBL_NEAR(conv("m3/h", "l/s", 36), 10, 0);
	ASSERT_DBL_NEAR(conv("l/min", "l/s", 90), 1.5, 0);
	ASSERT_DBL_NEAR(conv("t", "g", 0.5), 500000, 0);
	ASSERT_DBL_NEAR(conv("kHz", "Hz", 2.4), 2400, 0);
	ASSERT_DBL_NEAR(conv("mph", "km/h", 60), 96.56064, 1e-12);
	ASSERT_DBL_NEAR(conv("kn", "m/s", 3600), 1852, 0);
	ASSERT_DBL_NEAR(conv("deg", "rad", 180), 3.14159265358979323846, 1e-15);
	ASSERT_DBL_NEAR(conv("rad", "deg", 3.14159265358979323846 / 2), 90, 1e-12);
	ASSERT_DBL_NEAR(conv("dB(A)", "dBA", 55), 55, 0);
}

static void unlike_dimensions(void)
{
	static const char *const pairs[][2] = {
		{"degC", "m"},   {"percent", "ppm"}, {"dB", "dBA"},   {"count", "lux"},
		{"W", "Wh"},     {"kWh", "kW"},      {"m/s", "m"},    {"s", "Hz"},
		{"l", "l/s"},    {"ug/m3", "ppb"},   {"kg", "kg/m3"}, {"deg", "degC"},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct unit *a = unit_find(pairs[i][0]), *b = unit_find(pairs[i][1]);
		if (b == NULL)
			continue; /* e.g. kg/m3 is no unit at all */
		ASSERT(a != NULL);
		ASSERT_INT_EQ(unit_convertible(a, b), 0);
		ASSERT_INT_EQ(unit_convertible(b, a), 0);
		ASSERT(isnan(unit_convert(a, b, 1)));
	}
	ASSERT_INT_EQ(unit_convertible(NULL, unit_find("m")), 0);
	ASSERT_INT_EQ(unit_convertible(unit_find("m"), NULL), 0);
	ASSERT(isnan(unit_convert(NULL, NULL, 1)));
}

static const struct test_case cases[] = {
	{"design_names_present", design_names_present},
	{"more_units_present", more_units_present},
	{"senml_aliases", senml_aliases},
	{"unknown_names", unknown_names},
	{"table_iteration", table_iteration},
	{"round_trips", round_trips},
	{"temperature", temperature},
	{"exact_ratios", exact_ratios},
	{"unlike_dimensions", unlike_dimensions},
	{NULL, NULL},
};

TEST_MAIN(cases)
