/* Acknowledgements from staff apps (see ack.h). */
#include "alerts/ack.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const plain_keys[] = {"by", "note", NULL};
static const char *const cap_keys[] = {"identifier", "sender", "sent", "status", "msgType",
				       "scope", "references", "note", "by", NULL};

static int known_key(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	return 0;
}

/* Copies a string member into buf. 0 ok or absent-and-optional, -1 with err. */
static int take_text(const cJSON *o, const char *key, int required, char *buf, size_t size,
		     char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	buf[0] = '\0';
	if (v == NULL && !required)
		return 0;
	if (!cJSON_IsString(v) || (required && v->valuestring[0] == '\0')) {
		snprintf(err, errlen, "\"%s\" must be a%s string", key, required ? " non-empty" : "");
		return -1;
	}
	if (strlen(v->valuestring) >= size) {
		snprintf(err, errlen, "\"%s\" is longer than %zu bytes", key, size - 1);
		return -1;
	}
	snprintf(buf, size, "%s", v->valuestring);
	return 0;
}

/* CAP references: space-separated "sender,identifier,sent" triples (the sent part may be
 * left out, as our own Update messages do). Each identifier must be the situation id, or
 * one of its messages ("<id>.<version>"). */
static int check_references(const char *refs, const char *id, char *err, size_t errlen)
{
	size_t idlen = strlen(id);
	const char *p = refs;

	while (*p != '\0') {
		const char *end = strchr(p, ' '), *c1 = strchr(p, ','), *c2;
		size_t n;
		if (end == NULL)
			end = p + strlen(p);
		if (c1 == NULL || c1 >= end) {
			snprintf(err, errlen, "\"references\" must be sender,identifier,sent triples");
			return -1;
		}
		if ((c2 = strchr(c1 + 1, ',')) == NULL || c2 > end)
			c2 = end;
		n = (size_t)(c2 - c1 - 1);
		if (!(n >= idlen && memcmp(c1 + 1, id, idlen) == 0 &&
		      (n == idlen || c1[1 + idlen] == '.'))) {
			snprintf(err, errlen, "\"references\" names %.*s, not situation %s", (int)n,
				 c1 + 1, id);
			return -1;
		}
		p = *end == ' ' ? end + 1 : end;
	}
	return 0;
}

static int parse_object(const cJSON *o, const char *id, struct ack *out, char *err,
			size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "msgType");
	const char *const *keys = type != NULL ? cap_keys : plain_keys;
	char refs[1024];

	for (const cJSON *k = o->child; k != NULL; k = k->next)
		if (!known_key(k->string, keys)) {
			snprintf(err, errlen, "unknown key \"%s\"", k->string);
			return -1;
		}
	if (take_text(o, "note", 0, out->note, sizeof(out->note), err, errlen) != 0)
		return -1;
	if (type == NULL)
		return take_text(o, "by", 1, out->by, sizeof(out->by), err, errlen);
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "Ack") != 0) {
		snprintf(err, errlen, "\"msgType\" must be \"Ack\"");
		return -1;
	}
	if (take_text(o, cJSON_HasObjectItem(o, "by") ? "by" : "sender", 1, out->by,
		      sizeof(out->by), err, errlen) != 0 ||
	    take_text(o, "references", 0, refs, sizeof(refs), err, errlen) != 0)
		return -1;
	return check_references(refs, id, err, errlen);
}

int ack_parse(const char *payload, size_t len, const char *id, struct ack *out, char *err,
	      size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(payload, len);
	int rc = -1;

	if (o == NULL) {
		snprintf(err, errlen, "not JSON");
		return -1;
	}
	if (!cJSON_IsObject(o))
		snprintf(err, errlen, "not a JSON object");
	else
		rc = parse_object(o, id, out, err, errlen);
	cJSON_Delete(o);
	return rc;
}
