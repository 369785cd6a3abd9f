/* JSON strings for staff messages (cap_json.h). Texts come from rule authors, staff and
 * devices; whatever their bytes, the message must parse on every phone. */
#include <string.h>

#include "alerts/cap_json.h"

size_t cap_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8 */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int cap_json_string(struct norm_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	/* worst case: every byte a 6-byte escape, or a 3-byte U+FFFD */
	if (norm_buf_reserve(b, len * 6 + 2) != NORM_OK)
		return NORM_ENOMEM;
	char *o = b->data + b->len;
	*o++ = '"';
	for (size_t i = 0; i < len;) {
		size_t n = cap_utf8_len(u + i, len - i);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else if (n > 1) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		} else if (u[i] == '"' || u[i] == '\\') {
			*o++ = '\\';
			*o++ = s[i++];
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[u[i] >> 4];
			o[5] = hex[u[i] & 15];
			o += 6;
			i++;
		} else {
			*o++ = s[i++];
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return NORM_OK;
}

int cap_json_member(struct norm_buf *b, const char *key, const char *s)
{
	if (cap_json_string(b, key, strlen(key)) != NORM_OK || norm_buf_append(b, ":", 1) != NORM_OK)
		return NORM_ENOMEM;
	if (s == NULL)
		return norm_buf_append(b, "null", 4);
	return cap_json_string(b, s, strlen(s));
}
