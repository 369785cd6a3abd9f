/*
 * The vendor guide ("the city's linkage standard guideline") behind `citylink schema doc`:
 * every standard with its fields, and under it every source that feeds it, with the topic
 * to publish to, where the device id and time come from, the field mapping, and a
 * generated example message together with the record it normalizes to.
 *
 * The document is written once, against a tiny writer (headings, paragraphs, tables, code)
 * that renders GitHub-flavoured Markdown or one self-contained HTML page. Output is
 * deterministic (no dates), so a guide can be diffed and tested.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/example.h"
#include "normalizer/json_path.h"
#include "normalizer/timefmt.h"
#include "normalizer/units.h"

/* ---- the writer ---- */

struct writer {
	FILE *out;
	enum guide_format fmt;
	int err;       /* sticky: a write failed */
	int bol;       /* at the start of a block, where Markdown gives '#', '-' ... meaning */
	int in_table;  /* Markdown: '|' must be escaped even inside code */
};

static int md(const struct writer *w)
{
	return w->fmt == GUIDE_MD;
}

static void raw(struct writer *w, const char *s)
{
	if (fputs(s, w->out) == EOF)
		w->err = 1;
}

static void raw_char(struct writer *w, char c)
{
	if (putc(c, w->out) == EOF)
		w->err = 1;
}

static void html_char(struct writer *w, char c)
{
	switch (c) {
	case '&': raw(w, "&amp;"); break;
	case '<': raw(w, "&lt;"); break;
	case '>': raw(w, "&gt;"); break;
	case '"': raw(w, "&quot;"); break;
	case '\'': raw(w, "&#39;"); break;
	default: raw_char(w, c);
	}
}

/* Plain text. Markdown: a backslash before every character that could start inline
 * markup, and before what starts a block at the start of a paragraph or list item (table
 * cells hold no blocks); line breaks become spaces so a description cannot break a table
 * row. */
static void text(struct writer *w, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		char c = *p;
		if (!md(w)) {
			html_char(w, c);
			continue;
		}
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (strchr("\\`*_[]<|&~", c) != NULL ||
		    (w->bol && !w->in_table && strchr("#-+=>", c) != NULL))
			raw_char(w, '\\');
		raw_char(w, c);
		w->bol = 0;
	}
}

static int longest_run(const char *s, char c)
{
	int best = 0, run = 0;
	for (; *s != '\0'; s++) {
		run = *s == c ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best;
}

static void ticks(struct writer *w, int n)
{
	while (n-- > 0)
		raw_char(w, '`');
}

/* Inline code: paths, topics, ids, values. */
static void code(struct writer *w, const char *s)
{
	size_t len = strlen(s);
	int pad = len > 0 && (s[0] == '`' || s[len - 1] == '`');
	int fence = longest_run(s, '`') + 1;

	if (!md(w)) {
		raw(w, "<code>");
		text(w, s);
		raw(w, "</code>");
		return;
	}
	if (len == 0) {
		raw(w, "\"\"");
		return;
	}
	ticks(w, fence);
	raw(w, pad ? " " : "");
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '|' && w->in_table)
			raw(w, "\\|");
		else
			raw_char(w, *p == '\n' || *p == '\r' ? ' ' : *p);
	}
	raw(w, pad ? " " : "");
	ticks(w, fence);
	w->bol = 0;
}

static void strong(struct writer *w, const char *s)
{
	raw(w, md(w) ? "**" : "<strong>");
	text(w, s);
	raw(w, md(w) ? "**" : "</strong>");
}

/* anchor is [a-z0-9-]: GitHub derives the same one from a heading made of plain words
 * and ids, which is why headings hold only those. */
static void heading(struct writer *w, int level, const char *anchor)
{
	char tag[40];
	if (md(w)) {
		raw(w, "\n");
		for (int i = 0; i < level; i++)
			raw_char(w, '#');
		raw_char(w, ' ');
	} else {
		snprintf(tag, sizeof(tag), "<h%d", level);
		raw(w, tag);
		if (anchor != NULL) {
			raw(w, " id=\"");
			text(w, anchor);
			raw(w, "\"");
		}
		raw(w, ">");
	}
	w->bol = 0;
}

static void heading_end(struct writer *w, int level)
{
	char tag[16];
	snprintf(tag, sizeof(tag), "</h%d>\n", level);
	raw(w, md(w) ? "\n\n" : tag);
}

static void para(struct writer *w)
{
	raw(w, md(w) ? "" : "<p>");
	w->bol = 1;
}

static void para_end(struct writer *w)
{
	raw(w, md(w) ? "\n\n" : "</p>\n");
}

/* A whole paragraph of plain text. */
static void para_text(struct writer *w, const char *s)
{
	para(w);
	text(w, s);
	para_end(w);
}

static void table(struct writer *w, const char *const *headers)
{
	int n = 0;
	raw(w, md(w) ? "|" : "<table>\n<thead><tr>");
	for (; headers[n] != NULL; n++) {
		raw(w, md(w) ? " " : "<th>");
		text(w, headers[n]);
		raw(w, md(w) ? " |" : "</th>");
	}
	raw(w, md(w) ? "\n|" : "</tr></thead>\n<tbody>\n");
	for (int i = 0; md(w) && i < n; i++)
		raw(w, " --- |");
	raw(w, md(w) ? "\n" : "");
	w->in_table = 1;
}

static void table_end(struct writer *w)
{
	raw(w, md(w) ? "\n" : "</tbody></table>\n");
	w->in_table = 0;
}

static void row(struct writer *w)
{
	raw(w, md(w) ? "|" : "<tr>");
}

static void row_end(struct writer *w)
{
	raw(w, md(w) ? "\n" : "</tr>\n");
}

static void cell(struct writer *w)
{
	raw(w, md(w) ? " " : "<td>");
	w->bol = 1;
}

static void cell_end(struct writer *w)
{
	raw(w, md(w) ? " |" : "</td>");
}

/* Between two cells of a row. */
static void next_cell(struct writer *w)
{
	cell_end(w);
	cell(w);
}

/* A row of a two-column "Item | Value" table, left open for the value. */
static void item_begin(struct writer *w, const char *label)
{
	row(w);
	cell(w);
	text(w, label);
	next_cell(w);
}

static void item_end(struct writer *w)
{
	cell_end(w);
	row_end(w);
}

/* A whole "Item | Value" row whose value is one text or code span. */
static void item(struct writer *w, const char *label, const char *value, int as_code)
{
	item_begin(w, label);
	if (as_code)
		code(w, value);
	else
		text(w, value);
	item_end(w);
}

/* A code block: the example payloads and records, verbatim. */
static void pre(struct writer *w, const char *lang, const char *body)
{
	size_t len = strlen(body);
	int fence = longest_run(body, '`') + 1;

	fence = fence < 3 ? 3 : fence;
	if (md(w)) {
		ticks(w, fence);
		raw(w, lang);
		raw(w, "\n");
		raw(w, body);
		raw(w, len > 0 && body[len - 1] == '\n' ? "" : "\n");
		ticks(w, fence);
		raw(w, "\n\n");
	} else {
		raw(w, "<pre><code>");
		text(w, body);
		raw(w, "</code></pre>\n");
	}
}

static void link(struct writer *w, const char *anchor, const char *label)
{
	raw(w, md(w) ? "[" : "<a href=\"#");
	if (md(w)) {
		text(w, label);
		raw(w, "](#");
		raw(w, anchor);
		raw(w, ")");
	} else {
		text(w, anchor);
		raw(w, "\">");
		text(w, label);
		raw(w, "</a>");
	}
}

static void list(struct writer *w)
{
	raw(w, md(w) ? "" : "<ul>\n");
}

static void list_end(struct writer *w, int depth)
{
	raw(w, md(w) ? (depth == 0 ? "\n" : "") : "</ul>\n");
}

static void list_item(struct writer *w, int depth)
{
	for (int i = 0; md(w) && i < depth; i++)
		raw(w, "  ");
	raw(w, md(w) ? "- " : "<li>");
	w->bol = 0;
}

static void list_item_end(struct writer *w, int has_children)
{
	if (md(w))
		raw(w, "\n");
	else if (!has_children)
		raw(w, "</li>\n");
}

static void list_item_close(struct writer *w)
{
	raw(w, md(w) ? "" : "</li>\n");
}

/* ---- pieces of text ---- */

static void anchor_of(char *buf, size_t len, const char *kind, const char *id)
{
	snprintf(buf, len, "%s-%s", kind, id);
}

static const char *const css =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;max-width:68rem;"
	"margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1f2328}"
	"table{border-collapse:collapse;margin:.5rem 0 1rem}"
	"th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}"
	"th{background:#f6f8fa}"
	"pre{background:#f6f8fa;padding:.75rem;overflow-x:auto;tab-size:2}"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:90%}"
	"h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}";

static void doc_begin(struct writer *w, const char *title)
{
	if (md(w))
		return;
	raw(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	text(w, title);
	raw(w, "</title>\n<style>");
	raw(w, css);
	raw(w, "</style>\n</head>\n<body>\n");
}

static void doc_end(struct writer *w)
{
	raw(w, md(w) ? "" : "</body>\n</html>\n");
}

static void format_number(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
}

static void path_text(const struct norm_path *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", p->from_root ? "$." : "", json_path_text(p->path));
}

static const char *format_help(enum norm_format f)
{
	switch (f) {
	case NORM_FMT_JSON:
		return "json: one JSON object per message, one record.";
	case NORM_FMT_JSON_BATCH:
		return "json-batch: a JSON array of objects (or an object holding one), one record "
		       "per object; paths are relative to each object, $. paths to the message.";
	case NORM_FMT_SENML:
		return "senml: an RFC 8428 SenML pack (a JSON array of records); each record name "
		       "(n) is a field, records of one base name and time form one record.";
	case NORM_FMT_SCALAR:
		return "scalar: one bare value per message (42.5, true, open); the topic names the "
			"field.";
	}
	return "";
}

/* ---- the document ---- */

#define GUIDE_TITLE "City linkage standard guideline"

static void intro(struct writer *w, const struct norm_schema *s)
{
	char line[256];
	size_t standards, sources;

	norm_schema_standards(s, &standards);
	norm_schema_sources(s, &sources);
	heading(w, 1, "top");
	text(w, GUIDE_TITLE);
	heading_end(w, 1);
	snprintf(line, sizeof(line),
		 "How devices and vendor platforms deliver data to the city's IoT platform: %zu "
		 "standards (what a data type is) and %zu sources (how one vendor's messages map "
		 "onto a standard).", standards, sources);
	para_text(w, line);
	para_text(w, "This guide is generated from the schema set by citylink schema doc. Every "
		     "example message in it was generated from the schema and checked by running "
		     "it through the platform's normalizer; the record shown under it is exactly "
		     "what the platform stores and publishes. To try a message of your own, use "
		     "citylink normalize --schemas DIR --topic TOPIC FILE.");
}

static void toc(struct writer *w, const struct norm_schema *s)
{
	size_t n_st, n_src;
	const struct norm_standard *st = norm_schema_standards(s, &n_st);
	const struct norm_source *src = norm_schema_sources(s, &n_src);
	char anchor[160], label[320];

	heading(w, 2, "contents");
	text(w, "Contents");
	heading_end(w, 2);
	list(w);
	list_item(w, 0);
	link(w, "general-rules", "General rules");
	list_item_end(w, 0);
	for (size_t i = 0; i < n_st; i++) {
		anchor_of(anchor, sizeof(anchor), "standard", st[i].id);
		snprintf(label, sizeof(label), "Standard %s: %s", st[i].id, st[i].title ? st[i].title : "");
		list_item(w, 0);
		link(w, anchor, label);
		list_item_end(w, 1);
		list(w);
		for (size_t j = 0; j < n_src; j++) {
			if (src[j].standard != &st[i])
				continue;
			anchor_of(anchor, sizeof(anchor), "source", src[j].id);
			snprintf(label, sizeof(label), "Source %s%s%s", src[j].id,
				 src[j].title ? ": " : "", src[j].title ? src[j].title : "");
			list_item(w, 1);
			link(w, anchor, label);
			list_item_end(w, 0);
		}
		list_end(w, 1);
		list_item_close(w);
	}
	list_end(w, 0);
}

static const char *const general_rules[] = {
	"Publish each message with MQTT (QoS 1) to your source's topic; the broker lets a device "
	"publish only under its own topics.",
	"Payloads are UTF-8 JSON (RFC 8259, strictly: no duplicate keys, no trailing data), at "
	"most 256 KiB and 32 levels deep, with at most 1000 records per message (the defaults).",
	"Numbers may be JSON numbers or strings holding one (\"21.5\"); booleans true/false or "
	"0/1. Values are converted to the standard's unit, scale and offset as the mapping says.",
	"A mapped field that is absent or null is simply not stored. A value of the wrong type, "
	"out of range, or missing from a value map refuses the whole message, with a specific "
	"reason that is kept (table rejects) for you and the city to see.",
	"Device ids are at most 128 bytes of UTF-8 without '/', '+', '#' or control characters.",
	"Times are stored in UTC with milliseconds. Without a time in the payload, the time the "
	"platform received the message is used.",
	"Each record is published on std/<standard>/<device> as one JSON object, the format of "
	"the Normalized record blocks below.",
	NULL};

static void general(struct writer *w)
{
	heading(w, 2, "general-rules");
	text(w, "General rules");
	heading_end(w, 2);
	list(w);
	for (int i = 0; general_rules[i] != NULL; i++) {
		list_item(w, 0);
		text(w, general_rules[i]);
		list_item_end(w, 0);
	}
	list_end(w, 0);
}

/* ---- standards ---- */

static void field_range(const struct norm_field *f, char *buf, size_t len)
{
	char lo[40], hi[40];
	buf[0] = '\0';
	if (!f->has_range)
		return;
	format_number(f->min, lo, sizeof(lo));
	format_number(f->max, hi, sizeof(hi));
	snprintf(buf, len, "%s .. %s", lo, hi);
}

/* Allowed values of an enum, or the maximum length of a string. */
static void field_limits(struct writer *w, const struct norm_field *f)
{
	char num[48];
	for (size_t i = 0; i < f->n_values; i++) {
		text(w, i > 0 ? ", " : "");
		code(w, f->values[i]);
	}
	if (f->max_length > 0) {
		snprintf(num, sizeof(num), "at most %ld characters", f->max_length);
		text(w, num);
	}
	if (f->type == NORM_GEO)
		text(w, "latitude and longitude, WGS 84 degrees");
}

static void field_row(struct writer *w, const struct norm_field *f)
{
	char range[96];

	field_range(f, range, sizeof(range));
	row(w);
	cell(w);
	code(w, f->name);
	next_cell(w);
	text(w, norm_type_name(f->type));
	next_cell(w);
	if (f->unit != NULL)
		code(w, unit_name(f->unit));
	next_cell(w);
	text(w, range);
	next_cell(w);
	text(w, f->required ? "yes" : "");
	next_cell(w);
	field_limits(w, f);
	next_cell(w);
	text(w, f->description ? f->description : "");
	cell_end(w);
	row_end(w);
}

static void sources_cell(struct writer *w, const struct norm_schema *s,
			 const struct norm_standard *st)
{
	size_t n;
	const struct norm_source *src = norm_schema_sources(s, &n);
	char anchor[160];
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i].standard != st)
			continue;
		text(w, any ? ", " : "");
		anchor_of(anchor, sizeof(anchor), "source", src[i].id);
		link(w, anchor, src[i].id);
		any = 1;
	}
	text(w, any ? "" : "none yet");
}

static void standard_facts(struct writer *w, const struct norm_schema *s,
			   const struct norm_standard *st)
{
	static const char *const headers[] = {"Item", "Value", NULL};
	char buf[64];

	table(w, headers);
	item(w, "Standard id", st->id, 1);
	snprintf(buf, sizeof(buf), "%d", st->version);
	item(w, "Version", buf, 0);
	duration_format(st->interval_ms, buf, sizeof(buf));
	item(w, "Expected interval", buf, 1);
	item(w, "Database table", st->table, 1);
	item_begin(w, "Sources");
	sources_cell(w, s, st);
	item_end(w);
	table_end(w);
}

static void standard_section(struct writer *w, const struct norm_schema *s,
			     const struct norm_standard *st)
{
	static const char *const headers[] = {"Field", "Type", "Unit", "Range", "Required",
					      "Values / max length", "Description", NULL};
	char anchor[160];

	anchor_of(anchor, sizeof(anchor), "standard", st->id);
	heading(w, 2, anchor);
	text(w, "Standard ");
	text(w, st->id);
	heading_end(w, 2);
	para(w);
	strong(w, st->title ? st->title : st->id);
	para_end(w);
	if (st->description != NULL)
		para_text(w, st->description);
	standard_facts(w, s, st);
	para(w);
	strong(w, "Fields");
	para_end(w);
	table(w, headers);
	for (size_t i = 0; i < st->n_fields; i++)
		field_row(w, &st->fields[i]);
	table_end(w);
}

/* ---- sources ---- */

static void device_cell(struct writer *w, const struct norm_source *src)
{
	char buf[256];
	if (src->device_topic_level > 0) {
		snprintf(buf, sizeof(buf), "topic level %d (", src->device_topic_level);
		text(w, buf);
		code(w, EXAMPLE_DEVICE);
		text(w, " in the example)");
	} else if (src->format == NORM_FMT_SENML) {
		text(w, "the SenML base name ");
		code(w, "bn");
		text(w, ", without a trailing ':', '/' or '.'");
	} else {
		path_text(&src->device_path, buf, sizeof(buf));
		code(w, buf);
		text(w, " in the payload (text or a number)");
	}
}

static const char *time_as_text(enum norm_time_as as)
{
	switch (as) {
	case NORM_TIME_UNIX_S: return "Unix time in seconds (may be fractional)";
	case NORM_TIME_UNIX_MS: return "Unix time in milliseconds";
	case NORM_TIME_ISO8601: return "ISO 8601 with an offset, e.g. 2026-11-21T18:10:00+09:00";
	case NORM_TIME_SENML: return "SenML bt + t (times below 2^28 s are relative to receipt)";
	case NORM_TIME_RECEIVED: break;
	}
	return "none in the payload: the time the platform receives the message";
}

static void time_cell(struct writer *w, const struct norm_source *src)
{
	char path[256];
	for (size_t i = 0; i < src->n_time_paths; i++) {
		path_text(&src->time_paths[i], path, sizeof(path));
		text(w, i > 0 ? " or " : "");
		code(w, path);
	}
	text(w, src->n_time_paths > 0 ? ": " : "");
	text(w, time_as_text(src->time_as));
}

static void source_facts(struct writer *w, const struct norm_source *src,
			 const char *example_topic)
{
	static const char *const headers[] = {"Item", "Value", NULL};
	char buf[512], anchor[160];

	table(w, headers);
	item(w, "Source id", src->id, 1);
	item_begin(w, "Standard");
	anchor_of(anchor, sizeof(anchor), "standard", src->standard->id);
	link(w, anchor, src->standard->id);
	item_end(w);
	item(w, "Topic filter to publish to", src->topic, 1);
	if (example_topic != NULL)
		item(w, "Example topic", example_topic, 1);
	item(w, "Format", format_help(src->format), 0);
	if (src->format == NORM_FMT_JSON_BATCH) {
		if (src->batch.path)
			path_text(&src->batch, buf, sizeof(buf));
		item(w, "Records", src->batch.path ? buf : "the message is the array",
		     src->batch.path != NULL);
	}
	if (src->format == NORM_FMT_SCALAR) {
		snprintf(buf, sizeof(buf), "topic level %d (its value selects the mapping below)",
			 src->field_topic_level);
		item(w, "Field", buf, 0);
	}
	item_begin(w, "Device id");
	device_cell(w, src);
	item_end(w);
	item_begin(w, "Time");
	time_cell(w, src);
	item_end(w);
	table_end(w);
}

static void code_list(struct writer *w, char *const *items, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		text(w, i > 0 ? sep : "");
		code(w, items[i]);
	}
}

static void path_list(struct writer *w, const struct norm_path *paths, size_t n)
{
	char path[256];
	for (size_t i = 0; i < n; i++) {
		path_text(&paths[i], path, sizeof(path));
		text(w, i > 0 ? " or " : "");
		code(w, path);
	}
}

static void geo_from(struct writer *w, const struct norm_source *src, const struct norm_mapping *m)
{
	if (src->format == NORM_FMT_SENML && m->n_names == 2) {
		text(w, "SenML records ");
		code(w, m->names[0]);
		text(w, " (latitude) and ");
		code(w, m->names[1]);
		text(w, " (longitude)");
	} else if (m->geojson.path != NULL) {
		text(w, "GeoJSON Point at ");
		path_list(w, &m->geojson, 1);
	} else {
		text(w, "latitude at ");
		path_list(w, &m->lat, 1);
		text(w, ", longitude at ");
		path_list(w, &m->lon, 1);
	}
}

/* Where a mapping reads its value, in the terms of the source's format. */
static void mapping_from(struct writer *w, const struct norm_source *src,
			 const struct norm_mapping *m)
{
	char level[48];

	if (src->standard->fields[m->field].type == NORM_GEO) {
		geo_from(w, src, m);
	} else if (m->topic_level > 0) {
		snprintf(level, sizeof(level), "topic level %d", m->topic_level);
		text(w, level);
	} else if (m->n_names > 0) {
		text(w, src->format == NORM_FMT_SENML ? "SenML record " : "topic value ");
		code_list(w, m->names, m->n_names, " or ");
	} else {
		path_list(w, m->paths, m->n_paths);
	}
}

static void mapping_unit(struct writer *w, const struct norm_source *src,
			 const struct norm_mapping *m, const struct norm_field *f)
{
	char buf[96];
	if (f->unit == NULL)
		return;
	if (m->unit != NULL && m->unit != f->unit) {
		snprintf(buf, sizeof(buf), "%s, converted to %s", unit_name(m->unit), unit_name(f->unit));
		text(w, buf);
	} else {
		text(w, unit_name(f->unit));
	}
	if (src->format == NORM_FMT_SENML && m->n_map == 0)
		text(w, " (or the record's u)");
}

static void mapping_scale(struct writer *w, const struct norm_mapping *m)
{
	char s[40], o[40], buf[120];
	if (m->scale == 1 && m->offset == 0)
		return;
	format_number(m->scale, s, sizeof(s));
	format_number(fabs(m->offset), o, sizeof(o));
	snprintf(buf, sizeof(buf), "raw%s%s%s%s", m->scale != 1 ? " * " : "", m->scale != 1 ? s : "",
		 m->offset == 0 ? "" : m->offset < 0 ? " - " : " + ", m->offset == 0 ? "" : o);
	code(w, buf);
}

static void mapping_map(struct writer *w, const struct norm_mapping *m)
{
	for (size_t i = 0; i < m->n_map; i++) {
		text(w, i > 0 ? ", " : "");
		code(w, m->map[i].key);
		text(w, " -> ");
		code(w, m->map[i].text);
	}
}

static void mapping_table(struct writer *w, const struct norm_source *src)
{
	static const char *const headers[] = {"Standard field", "From", "Unit", "Scale / offset",
					      "Value map", NULL};
	table(w, headers);
	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		const struct norm_field *f = &src->standard->fields[m->field];
		row(w);
		cell(w);
		code(w, f->name);
		next_cell(w);
		mapping_from(w, src, m);
		next_cell(w);
		mapping_unit(w, src, m, f);
		next_cell(w);
		mapping_scale(w, m);
		next_cell(w);
		mapping_map(w, m);
		cell_end(w);
		row_end(w);
	}
	table_end(w);
}

static void example_block(struct writer *w, const struct norm_source *src,
			  const struct example *ex)
{
	para(w);
	if (ex->mapping != NULL) {
		text(w, "Field ");
		code(w, src->standard->fields[ex->mapping->field].name);
		text(w, ": publish to ");
	} else {
		text(w, "Publish to ");
	}
	code(w, ex->topic);
	text(w, ":");
	para_end(w);
	pre(w, src->format == NORM_FMT_SCALAR ? "text" : "json", ex->payload);
	para(w);
	text(w, "Normalized record");
	text(w, strchr(ex->records, '\n') != strrchr(ex->records, '\n') ? "s:" : ":");
	para_end(w);
	pre(w, "json", ex->records);
}

/* Builds and checks the source's examples; on failure says why on stderr. */
static int source_examples(const struct norm_schema *s, const struct norm_source *src,
			   struct example_set *set)
{
	char err[512];

	if (example_build(src, set, err, sizeof(err)) < 0 ||
	    example_verify(s, src, set, err, sizeof(err)) < 0) {
		fprintf(stderr, "citylink: schema doc: source %s (%s): %s\n", src->id,
			src->file ? src->file : "?", err);
		return -1;
	}
	return 0;
}

static int source_section(struct writer *w, const struct norm_schema *s,
			  const struct norm_source *src)
{
	struct example_set set = {0};
	int rc = source_examples(s, src, &set);
	char anchor[160];

	anchor_of(anchor, sizeof(anchor), "source", src->id);
	heading(w, 3, anchor);
	text(w, "Source ");
	text(w, src->id);
	heading_end(w, 3);
	para(w);
	strong(w, src->title ? src->title : src->id);
	if (src->vendor != NULL) {
		text(w, " by ");
		text(w, src->vendor);
	}
	para_end(w);
	if (src->description != NULL)
		para_text(w, src->description);
	/* A scalar source has one topic per field: each example shows its own. */
	source_facts(w, src, rc == 0 && set.n > 0 && src->format != NORM_FMT_SCALAR
				     ? set.items[0].topic
				     : NULL);
	para(w);
	strong(w, "Mapping");
	para_end(w);
	mapping_table(w, src);
	para(w);
	strong(w, set.n > 1 ? "Examples" : "Example");
	para_end(w);
	for (size_t i = 0; rc == 0 && i < set.n; i++)
		example_block(w, src, &set.items[i]);
	if (rc < 0)
		para_text(w, "(No example: the generated example does not normalize; see the error "
			     "of citylink schema doc.)");
	example_set_free(&set);
	return rc;
}

int guide_write(FILE *out, const struct norm_schema *s, enum guide_format fmt)
{
	struct writer w = {out, fmt, 0, 0, 0};
	size_t n_st, n_src;
	const struct norm_standard *st = norm_schema_standards(s, &n_st);
	const struct norm_source *src = norm_schema_sources(s, &n_src);
	int bad = 0;

	doc_begin(&w, GUIDE_TITLE);
	intro(&w, s);
	toc(&w, s);
	general(&w);
	for (size_t i = 0; i < n_st; i++) {
		standard_section(&w, s, &st[i]);
		/* Report every source whose example fails, not just the first. */
		for (size_t j = 0; j < n_src; j++)
			if (src[j].standard == &st[i] && source_section(&w, s, &src[j]) < 0)
				bad = 1;
	}
	doc_end(&w);
	if (w.err || ferror(out)) {
		fprintf(stderr, "citylink: schema doc: write error\n");
		return -1;
	}
	return bad ? -1 : 0;
}
