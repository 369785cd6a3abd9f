/*
 * Compiled paths into a JSON tree: "a.b[0].c", "sensors[-1].co2" (negative = from the end),
 * and quoted keys for names holding '.' or '[': 'data["pm2.5"]' or "data['pm2.5']".
 * Compiled once at schema load so the per-message lookup is a walk with no parsing.
 */
#ifndef CITYLINK_JSON_PATH_H
#define CITYLINK_JSON_PATH_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct json_path;

/*
 * Compiles text. On success returns 0 and *out (caller frees with json_path_free).
 * On a syntax error returns -1 and err names the problem and the 1-based character
 * position (counting bytes), e.g. "unclosed '[' at character 5"; -2 on out of memory.
 * Keys are matched case-sensitively; a quoted key has no escapes. Errors: "empty path",
 * "empty key", "unexpected character 'x'", "unclosed '['", "unclosed quote",
 * "expected ']'", "invalid index", "index out of range" (beyond INT_MAX).
 */
int json_path_compile(const char *text, struct json_path **out, char *err, size_t errlen);

void json_path_free(struct json_path *p);

/* The text the path was compiled from; valid until json_path_free. */
const char *json_path_text(const struct json_path *p);

/* The value at p under root, or NULL when any step is missing or of the wrong kind. */
const cJSON *json_path_get(const struct json_path *p, const cJSON *root);

/*
 * Puts value at p under root, creating missing objects and arrays on the way (arrays are
 * padded with null). Takes ownership of value in every case. Used to build example payloads.
 * A value already at p is replaced; a null on the way counts as missing.
 * Returns 0, or -1 when an existing value is in the way or an index is negative (the tree
 * is then unchanged); -2 on out of memory (containers made on the way may remain), which
 * includes a NULL value, as a failed cJSON_Create* returns.
 */
int json_path_set(const struct json_path *p, cJSON *root, cJSON *value);

#endif
