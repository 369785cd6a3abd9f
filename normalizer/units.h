/*
 * Units of measure and conversion between them. Each unit belongs to one dimension and
 * converts linearly to that dimension's base unit (base = (value + offset) * num / den,
 * with an exact ratio where there is one), so any two units of one dimension convert;
 * units of unlike dimensions never do.
 * The table holds design.md's names (degC, degF, K, m, cm, mm, km, m/s, km/h, percent,
 * fraction, ppm, ppb, ug/m3, mg/m3, W, kW, Wh, kWh, V, mV, A, mA, lux, count, s, min, h)
 * and more, plus SenML's registered names (Cel, %RH, %, lx, J, ...) as aliases.
 * SenML names that are canonical names here (W, Wh, J, m/s, count, ...) need no alias.
 * Decided here: percent and ppm are different dimensions ("ratio", "mixing ratio"), as
 * relative humidity is not a mixing ratio; "dBA" (A-weighted, "sound level") and "dB"
 * (SenML's unweighted decibel, "level") are different dimensions too, since no factor
 * turns one into the other: a source whose dB are really dB(A) says unit: dBA.
 */
#ifndef CITYLINK_UNITS_H
#define CITYLINK_UNITS_H

struct unit;

/* The unit named name (case-sensitive, as SenML is), or NULL. Static storage. */
const struct unit *unit_find(const char *name);

/* The canonical name ("degC" for "Cel") and dimension name ("temperature"). */
const char *unit_name(const struct unit *u);
const char *unit_dimension(const struct unit *u);

/* 1 when from and to share a dimension. */
int unit_convertible(const struct unit *from, const struct unit *to);

/* v in from, expressed in to. Both must be convertible (checked at load time). */
double unit_convert(const struct unit *from, const struct unit *to, double v);

/* Iterates the table for documentation: the i-th canonical unit, or NULL past the end. */
const struct unit *unit_at(int i);

#endif
