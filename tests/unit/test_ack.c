/* Acknowledgements from staff apps (alerts/ack.c) and situation ids (alerts/situation.c). */
#include <string.h>

#include "alerts/ack.h"
#include "alerts/situation.h"
#include "test.h"

#define ID "level-esc.dev-1.3"

static int parse(const char *json, struct ack *a, char *err, size_t errlen)
{
	return ack_parse(json, strlen(json), ID, a, err, errlen);
}

static void plain(void)
{
	struct ack a;
	char err[256] = "";

	ASSERT_INT_EQ(parse("{\"by\": \"kim.j\", \"note\": \"on my way\"}", &a, err, sizeof(err)), 0);
	ASSERT_STR_EQ(a.by, "kim.j");
	ASSERT_STR_EQ(a.note, "on my way");
	ASSERT_INT_EQ(parse("{\"by\": \"lee\"}", &a, err, sizeof(err)), 0);
	ASSERT_STR_EQ(a.by, "lee");
	ASSERT_STR_EQ(a.note, "");
}

static void cap_ack(void)
{
	struct ack a;
	char err[256] = "";

	ASSERT_INT_EQ(parse("{\"msgType\": \"Ack\", \"sender\": \"app-7\", \"references\": "
			    "\"citylink-alerts@x," ID ".2,2026-11-21T09:10:00Z\"}",
			    &a, err, sizeof(err)), 0);
	ASSERT_STR_EQ(a.by, "app-7");
	ASSERT_INT_EQ(parse("{\"msgType\": \"Ack\", \"by\": \"park\", \"sender\": \"app\", "
			    "\"references\": \"s," ID " s2," ID ".4\"}", &a, err, sizeof(err)), 0);
	ASSERT_STR_EQ(a.by, "park");
	ASSERT_INT_EQ(parse("{\"msgType\": \"Ack\", \"sender\": \"app\", \"references\": "
			    "\"s,level-esc.dev-1.30,t\"}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"references\" names level-esc.dev-1.30, not situation " ID);
	ASSERT_INT_EQ(parse("{\"msgType\": \"Alert\", \"sender\": \"app\"}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"msgType\" must be \"Ack\"");
	ASSERT_INT_EQ(parse("{\"msgType\": \"Ack\", \"references\": \"nocomma\", \"sender\": \"x\"}",
			    &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"references\" must be sender,identifier,sent triples");
}

static void refused(void)
{
	struct ack a;
	char err[256] = "", big[2600];

	ASSERT_INT_EQ(parse("", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "not JSON");
	ASSERT_INT_EQ(parse("{\"by\": ", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "not JSON");
	ASSERT_INT_EQ(parse("[1]", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "not a JSON object");
	ASSERT_INT_EQ(parse("{\"note\": \"x\"}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"by\" must be a non-empty string");
	ASSERT_INT_EQ(parse("{\"by\": \"\"}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"by\" must be a non-empty string");
	ASSERT_INT_EQ(parse("{\"by\": 7}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"by\" must be a non-empty string");
	ASSERT_INT_EQ(parse("{\"by\": \"a\", \"note\": 3}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"note\" must be a string");
	ASSERT_INT_EQ(parse("{\"by\": \"a\", \"who\": 3}", &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "unknown key \"who\"");
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"by\": \"", 8);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	ASSERT_INT_EQ(parse(big, &a, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "\"by\" is longer than 200 bytes");
}

static void ids(void)
{
	char buf[64];

	ASSERT_INT_EQ(sit_make_id("pm25-high", "aq-0042", 3, buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "pm25-high.aq-0042.3");
	ASSERT_INT_EQ(sit_make_id("r", "a/b+c#d.e f", 1, buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "r.a_b_c_d_e_f.1");
	ASSERT_INT_EQ(sit_make_id("r", "0123456789012345678901234567890123456789012345678901234567890",
				  1, buf, sizeof(buf)), -1);
	char big[400], out[400];
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_INT_EQ(sit_make_id("r", big, 12, out, sizeof(out)), 0);
	ASSERT_INT_EQ(strlen(out), 2 + SIT_DEVICE_ID_MAX + 3);
}

static const struct test_case cases[] = {
	{"plain", plain},
	{"cap_ack", cap_ack},
	{"refused", refused},
	{"ids", ids},
	{NULL, NULL},
};

TEST_MAIN(cases)
