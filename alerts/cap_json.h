/* JSON text helpers for the CAP renderer: strings escaped and made valid UTF-8. Internal. */
#ifndef CITYLINK_CAP_JSON_H
#define CITYLINK_CAP_JSON_H

#include <stddef.h>

#include "normalizer/normalize.h"

/* Appends s[0..len) as a JSON string: quotes, backslash and control characters escaped,
 * each byte that is not part of valid UTF-8 replaced by U+FFFD. 0 or NORM_ENOMEM. */
int cap_json_string(struct norm_buf *b, const char *s, size_t len);

/* Appends "key": then s as a JSON string, or null when s is NULL. 0 or NORM_ENOMEM. */
int cap_json_member(struct norm_buf *b, const char *key, const char *s);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
size_t cap_utf8_len(const unsigned char *s, size_t n);

#endif
