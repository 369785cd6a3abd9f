/* A record as one line of JSON, the format of `citylink normalize` and std/... (design.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/norm_internal.h"
#include "normalizer/timefmt.h"

static int puts_(struct norm_buf *b, const char *s)
{
	return norm_buf_append(b, s, strlen(s));
}

/* JSON string escaping: quotes, backslash and control characters; UTF-8 passes as is. */
static int put_string(struct norm_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (norm_buf_reserve(b, len * 6 + 2) != NORM_OK)
		return NORM_ENOMEM;
	char *o = b->data + b->len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
			if (esc != NULL) {
				memcpy(o, esc, 2);
				o += 2;
			} else {
				memcpy(o, "\\u00", 4);
				o[4] = hex[c >> 4];
				o[5] = hex[c & 15];
				o += 6;
			}
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return NORM_OK;
}

static int put_double(struct norm_buf *b, double v)
{
	char num[40];
	format_double(v, num, sizeof(num));
	return puts_(b, num);
}

static int put_value(struct norm_buf *b, const struct norm_field *f, const struct norm_value *v)
{
	char num[32];
	switch (f->type) {
	case NORM_NUMBER:
		return put_double(b, v->number);
	case NORM_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, v->integer);
		return puts_(b, num);
	case NORM_BOOLEAN:
		return puts_(b, v->boolean ? "true" : "false");
	case NORM_ENUM:
		return put_string(b, f->values[v->enum_index], strlen(f->values[v->enum_index]));
	case NORM_STRING:
		return put_string(b, v->text, v->text_len);
	case NORM_GEO:
		if (puts_(b, "{\"lat\":") || put_double(b, v->lat) || puts_(b, ",\"lon\":") ||
		    put_double(b, v->lon) || puts_(b, "}"))
			return NORM_ENOMEM;
		return NORM_OK;
	}
	return NORM_OK;
}

int norm_values_json(const struct norm_standard *st, const struct norm_value *values,
		     struct norm_buf *out)
{
	int first = 1;
	if (puts_(out, "{"))
		return NORM_ENOMEM;
	for (size_t i = 0; i < st->n_fields; i++) {
		if (!values[i].present)
			continue;
		if ((!first && puts_(out, ",")) || put_string(out, st->fields[i].name, strlen(st->fields[i].name)) ||
		    puts_(out, ":") || put_value(out, &st->fields[i], &values[i]))
			return NORM_ENOMEM;
		first = 0;
	}
	return puts_(out, "}");
}

int norm_value_text(const struct norm_field *f, const struct norm_value *v, struct norm_buf *out)
{
	switch (f->type) {
	case NORM_ENUM:
		return puts_(out, f->values[v->enum_index]);
	case NORM_STRING:
		return norm_buf_append(out, v->text, v->text_len);
	case NORM_GEO:
		if (put_double(out, v->lat) || puts_(out, ",") || put_double(out, v->lon))
			return NORM_ENOMEM;
		return NORM_OK;
	default:
		return put_value(out, f, v);
	}
}

int norm_record_json(const struct norm_record *rec, struct norm_buf *out)
{
	const struct norm_standard *st = rec->source->standard;
	char when[TIME_RFC3339_LEN];

	time_format_rfc3339(rec->time_ms, when);
	if (puts_(out, "{\"standard\":") || put_string(out, st->id, strlen(st->id)) ||
	    puts_(out, ",\"source\":") || put_string(out, rec->source->id, strlen(rec->source->id)) ||
	    puts_(out, ",\"device\":") || put_string(out, rec->device, strlen(rec->device)) ||
	    puts_(out, ",\"time\":\"") || puts_(out, when) || puts_(out, "\",\"values\":") ||
	    norm_values_json(st, rec->values, out))
		return NORM_ENOMEM;
	return puts_(out, "}");
}
