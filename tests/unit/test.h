/*
 * Minimal unit-test harness: each case is a function registered in a table, run isolated
 * (a failed assertion returns from the case, the next case still runs), and the run ends
 * with the summary line "N passed, N failed" that tests/run.sh adds up.
 */
#ifndef CITYLINK_TEST_H
#define CITYLINK_TEST_H

#include <stdio.h>
#include <string.h>

extern int test_case_failed;

#define TEST_FAIL_AT(...)                                                                   \
	do {                                                                                \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                             \
		fprintf(stderr, __VA_ARGS__);                                               \
		fputc('\n', stderr);                                                        \
		test_case_failed = 1;                                                       \
		return;                                                                     \
	} while (0)

#define ASSERT(cond)                                                                        \
	do {                                                                                \
		if (!(cond))                                                                \
			TEST_FAIL_AT("assertion failed: %s", #cond);                        \
	} while (0)

#define ASSERT_INT_EQ(a, b)                                                                 \
	do {                                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);                         \
		if (a_ != b_)                                                               \
			TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_);             \
	} while (0)

#define ASSERT_DBL_NEAR(a, b, eps)                                                          \
	do {                                                                                \
		double a_ = (a), b_ = (b);                                                  \
		if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps)))                                \
			TEST_FAIL_AT("%s ~= %s: %.17g != %.17g", #a, #b, a_, b_);           \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                                 \
	do {                                                                                \
		const char *a_ = (a), *b_ = (b);                                            \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                        \
			TEST_FAIL_AT("%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", #a,   \
				     #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
	} while (0)

/* Substring match, for error messages whose prefix (file:line:col) is checked elsewhere. */
#define ASSERT_STR_CONTAINS(hay, needle)                                                    \
	do {                                                                                \
		const char *h_ = (hay), *n_ = (needle);                                     \
		if (h_ == NULL || strstr(h_, n_) == NULL)                                   \
			TEST_FAIL_AT("%s contains %s:\n  got:      \"%s\"\n  expected: \"%s\"", \
				     #hay, #needle, h_ ? h_ : "(null)", n_);                \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Runs every case of a NULL-terminated table; returns the process exit code. */
int test_run_all(const struct test_case *cases, int argc, char **argv);

#define TEST_MAIN(table)                                                                    \
	int main(int argc, char **argv) { return test_run_all(table, argc, argv); }

#endif
