/*
 * Strict JSON: RFC 8259 exactly, on top of cJSON's tree.
 *
 * cJSON alone accepts trailing garbage, leading zeros, "2.", raw control characters in
 * strings, a NUL byte, form feed as white space, bad \u escapes, duplicate keys, \u0000
 * (which truncates the string) and 1e999 (infinity). A payload from a device is untrusted,
 * so a one-pass validator runs first, then cJSON builds the tree. The validator also keeps
 * each open object's keys (exactly when short, hashed when long) and flags numbers that
 * could overflow; only when it flags something does a walk over the tree refuse what only
 * the tree shows exactly (duplicate keys, numbers out of double range).
 */
#ifndef CITYLINK_JSON_STRICT_H
#define CITYLINK_JSON_STRICT_H

#include <stddef.h>
#include <cjson/cJSON.h>

/*
 * Parses exactly buf[0..len) (no NUL terminator needed; a NUL byte inside is an error).
 * Nesting deeper than max_depth arrays/objects is an error; a max_depth above cJSON's own
 * limit (CJSON_NESTING_LIMIT, 1000) counts as that limit, so cJSON can always build the tree.
 * Beyond RFC 8259, duplicate keys (compared after unescaping) and \u0000 are refused, so
 * JSONTestSuite's y_object_duplicated_key*, y_object_escaped_null_in_key and
 * y_string_null_escape are refused on purpose; a UTF-8 BOM is refused too.
 * Errors found in the text come before those only the tree shows (duplicate keys, range);
 * among the latter the first in the text wins. A duplicate key's offset is that of the
 * repeated key's opening quote; other offsets are of the byte at fault (for a \u escape,
 * its backslash). Input of only white space is "empty input".
 * On success returns 0 and *out is the tree: caller frees with cJSON_Delete.
 * On failure returns -1, *out is NULL and err holds one specific reason without a prefix,
 * e.g. "unexpected character 'x' at byte 57", "unexpected end of input at byte 12",
 * "trailing data at byte 8", "duplicate key \"a\" in object at byte 3",
 * "number out of range at byte 5", "\\u0000 in string at byte 9",
 * "invalid UTF-8 at byte 4", "nesting deeper than 32 at byte 40", "empty input".
 * Byte offsets are 0-based. Returns -2 on out of memory (err says so).
 */
int json_parse_strict(const char *buf, size_t len, int max_depth, cJSON **out, char *err,
		      size_t errlen);

/*
 * Validates buf[0..len) as UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Returns -1 if valid, else the 0-based offset of the first bad byte, that is, of the
 * first byte of the first ill-formed (or truncated) sequence.
 */
long utf8_invalid_at(const char *buf, size_t len);

#endif
