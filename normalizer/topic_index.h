/*
 * MQTT topic filters indexed as a trie of topic levels, so finding the source for a topic
 * costs one step per level (a binary search among siblings) however many sources there
 * are — never a scan over every filter.
 */
#ifndef CITYLINK_TOPIC_INDEX_H
#define CITYLINK_TOPIC_INDEX_H

#include <stddef.h>

struct topic_index;

/* Returns NULL on out of memory. Caller frees with topic_index_free. */
struct topic_index *topic_index_create(void);
void topic_index_free(struct topic_index *t);

/* Adds filter -> value (borrowed). Returns 0, -1 if the exact filter is already there
 * (its value stays), -2 on out of memory. filter must be valid (topic_filter_check). */
int topic_index_add(struct topic_index *t, const char *filter, const void *value);

/* The value of a filter matching topic[0..len), or NULL. With non-overlapping filters
 * there is at most one. */
const void *topic_index_match(const struct topic_index *t, const char *topic, size_t len);

/* 0 if filter is a valid MQTT filter, else -1 and the reason in err. */
int topic_filter_check(const char *filter, char *err, size_t errlen);

/* 1 if some topic matches both filters. */
int topic_filters_overlap(const char *a, const char *b);

/* Number of levels of a filter or topic ("a/b/c" has 3). */
int topic_level_count(const char *topic, size_t len);

#endif
