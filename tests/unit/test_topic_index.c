/* Topic filter trie, filter validation and overlap. */
#include <stdint.h>
#include <stdio.h>

#include "normalizer/topic_index.h"
#include "test.h"

static const void *match(const struct topic_index *t, const char *topic)
{
	return topic_index_match(t, topic, strlen(topic));
}

static void wildcards_match(void)
{
	struct topic_index *t = topic_index_create();
	int a, b, c, d;
	ASSERT(t != NULL);
	ASSERT_INT_EQ(topic_index_add(t, "city/aq/+", &a), 0);
	ASSERT_INT_EQ(topic_index_add(t, "city/bin/#", &b), 0);
	ASSERT_INT_EQ(topic_index_add(t, "city/+/x/y", &c), 0);
	ASSERT_INT_EQ(topic_index_add(t, "city/snow/+/+", &d), 0);
	ASSERT_INT_EQ(topic_index_add(t, "city/aq/+", &d), -1);
	ASSERT(match(t, "city/aq/d1") == &a);
	ASSERT(match(t, "city/aq/d1/extra") == NULL);
	ASSERT(match(t, "city/aq") == NULL);
	ASSERT(match(t, "city/bin") == &b);
	ASSERT(match(t, "city/bin/a/b/c") == &b);
	ASSERT(match(t, "city/q/x/y") == &c);
	ASSERT(match(t, "city/snow/b1/agent") == &d);
	ASSERT(match(t, "city/snow/b1") == NULL);
	ASSERT(match(t, "$SYS/broker") == NULL);
	ASSERT(match(t, "") == NULL);
	topic_index_free(t);
}

/* Literal and '+' siblings: the literal branch failing deeper must fall back to '+'. */
static void backtracks_to_plus(void)
{
	struct topic_index *t = topic_index_create();
	int a, b;
	ASSERT(t != NULL);
	ASSERT_INT_EQ(topic_index_add(t, "city/aq/x/1", &a), 0);
	ASSERT_INT_EQ(topic_index_add(t, "city/+/x/2", &b), 0);
	ASSERT(match(t, "city/aq/x/2") == &b);
	ASSERT(match(t, "city/aq/x/1") == &a);
	topic_index_free(t);
}

static void many_sources_index(void)
{
	struct topic_index *t = topic_index_create();
	static int values[500];
	char f[64];
	ASSERT(t != NULL);
	for (int i = 0; i < 500; i++) {
		snprintf(f, sizeof(f), "city/vendor-%03d/+", i);
		ASSERT_INT_EQ(topic_index_add(t, f, &values[i]), 0);
	}
	for (int i = 499; i >= 0; i--) {
		snprintf(f, sizeof(f), "city/vendor-%03d/dev", i);
		ASSERT(match(t, f) == &values[i]);
	}
	topic_index_free(t);
}

static void filter_check(void)
{
	char err[128];
	ASSERT_INT_EQ(topic_filter_check("city/+/#", err, sizeof(err)), 0);
	ASSERT_INT_EQ(topic_filter_check("city/a+/x", err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "'+' must stand alone in a topic level (character 7)");
	ASSERT_INT_EQ(topic_filter_check("city/#/x", err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "'#' must be the last level");
	ASSERT_INT_EQ(topic_filter_check("", err, sizeof(err)), -1);
	ASSERT_INT_EQ(topic_filter_check("$SYS/#", err, sizeof(err)), -1);
}

static void overlap(void)
{
	ASSERT_INT_EQ(topic_filters_overlap("city/a/+", "city/b/+"), 0);
	ASSERT_INT_EQ(topic_filters_overlap("city/a/+", "city/+/x"), 1);
	ASSERT_INT_EQ(topic_filters_overlap("city/a/+", "city/a/+/+"), 0);
	ASSERT_INT_EQ(topic_filters_overlap("city/a/#", "city/a"), 1);
	ASSERT_INT_EQ(topic_filters_overlap("#", "anything/at/all"), 1);
	ASSERT_INT_EQ(topic_filters_overlap("city/a", "city/a"), 1);
	ASSERT_INT_EQ(topic_filters_overlap("city/ab", "city/a"), 0);
}

static const struct test_case cases[] = {
	{"wildcards_match", wildcards_match},
	{"backtracks_to_plus", backtracks_to_plus},
	{"many_sources_index", many_sources_index},
	{"filter_check", filter_check},
	{"overlap", overlap},
	{NULL, NULL},
};

TEST_MAIN(cases)
