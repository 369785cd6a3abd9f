/*
 * citylink notify --broker URI --group G [--severity S] --headline TEXT
 *                 [--description TEXT] [--by NAME] [--db CONNINFO]
 * A manual notice (a work notice, a disaster message) as a CAP Alert on
 * staff/<group>/notices, recorded in alert_events first when --db is given.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/cap.h"
#include "alerts/sitstore.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/mqtt.h"
#include "normalizer/timefmt.h"

struct notice {
	const char *broker, *group, *headline, *description, *by, *db;
	enum norm_severity severity;
	char identifier[128];
	int64_t sent_ms;
};

static int usage(void)
{
	fprintf(stderr, "usage: citylink notify --broker URI --group GROUP [--severity "
			"extreme|severe|moderate|minor] --headline TEXT [--description TEXT] "
			"[--by NAME] [--db CONNINFO]\n");
	return 2;
}

static int parse_severity(const char *s, enum norm_severity *out)
{
	static const enum norm_severity all[] = {NORM_SEV_EXTREME, NORM_SEV_SEVERE,
						 NORM_SEV_MODERATE, NORM_SEV_MINOR};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(norm_severity_name(all[i]), s) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

/* A group is one topic level named like the groups of groups.yaml. */
static int valid_group(const char *g)
{
	return g[0] != '\0' && strspn(g, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789_-") == strlen(g);
}

static int parse_args(int argc, char **argv, struct notice *n)
{
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--broker") == 0)
			n->broker = v;
		else if (strcmp(k, "--group") == 0)
			n->group = v;
		else if (strcmp(k, "--headline") == 0)
			n->headline = v;
		else if (strcmp(k, "--description") == 0)
			n->description = v;
		else if (strcmp(k, "--by") == 0)
			n->by = v;
		else if (strcmp(k, "--db") == 0)
			n->db = v;
		else if (strcmp(k, "--severity") == 0 && parse_severity(v, &n->severity) == 0)
			continue;
		else if (strcmp(k, "--severity") == 0) {
			fprintf(stderr, "citylink: notify: --severity is extreme, severe, moderate or "
					"minor, not \"%s\"\n", v);
			return -1;
		} else
			return usage(), -1;
	}
	if (argc % 2 != 0 || n->group == NULL || n->headline == NULL)
		return usage(), -1;
	if (!valid_group(n->group)) {
		fprintf(stderr, "citylink: notify: \"%s\" is not a group name (letters, digits, "
				"'-' and '_')\n", n->group);
		return -1;
	}
	return 0;
}

static int record(const struct notice *n)
{
	char err[512], detail[1024];
	struct sitstore *st = sitstore_open(n->db, err, sizeof(err));
	int rc = -1;

	/* Every value in detail is ours or a checked group name (no quoting needed); the
	 * free text goes in as a parameter (note). */
	snprintf(detail, sizeof(detail),
		 "{\"group\": \"%s\", \"severity\": \"%s\", \"identifier\": \"%s\"}", n->group,
		 norm_severity_name(n->severity), n->identifier);
	if (st != NULL && sitstore_event(st, NULL, "notice", n->by, n->headline, detail, err,
					 sizeof(err)) == 0)
		rc = 0;
	else
		fprintf(stderr, "citylink: notify: recording in the database: %s\n", err);
	sitstore_close(st);
	return rc;
}

static int publish(const struct notice *n, const char *json, size_t len)
{
	struct mqtt_options o = {.uri = n->broker};
	char err[512], id[64], topic[512];
	struct mqtt *m;
	int rc = -1;

	snprintf(id, sizeof(id), "citylink-notify-%ld", (long)getpid());
	o.client_id = id;
	if ((m = mqtt_create(&o, NULL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "citylink: notify: %s\n", err);
		return -1;
	}
	mqtt_start(m);
	for (int t = 0; t < 5000 && !mqtt_ready(m); t += 50)
		clock_sleep_ms(50);
	snprintf(topic, sizeof(topic), "staff/%s/notices", n->group);
	if (!mqtt_ready(m))
		mqtt_last_error(m, err, sizeof(err));
	else if (mqtt_publish(m, topic, json, len, 1, 0, 5000, err, sizeof(err)) == 0 &&
		 mqtt_flush(m, 5000) == 0)
		rc = 0;
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "the broker did not acknowledge the notice");
	if (rc != 0)
		fprintf(stderr, "citylink: notify: cannot publish to %s: %s\n", n->broker, err);
	mqtt_pause(m, 0);
	mqtt_free(m);
	return rc;
}

int cmd_notify(int argc, char **argv)
{
	struct notice n = {.broker = "mqtt://127.0.0.1:1883", .severity = NORM_SEV_MINOR};
	struct cap_message m = {0};
	struct norm_buf json = {0};
	int rc = 2;

	if (parse_args(argc, argv, &n) != 0)
		return 2;
	n.sent_ms = clock_wall_ms();
	snprintf(n.identifier, sizeof(n.identifier), "notice.%s.%" PRId64, n.group, n.sent_ms);
	m.identifier = n.identifier;
	m.sender = n.by != NULL ? n.by : "citylink-notify";
	m.sent_ms = n.sent_ms;
	m.msg_type = CAP_ALERT;
	m.severity = n.severity;
	m.headline = n.headline;
	m.description = n.description;
	if (cap_render(&m, &json) != CAP_OK) {
		fprintf(stderr, "citylink: notify: out of memory\n");
	} else if ((n.db == NULL || record(&n) == 0) && publish(&n, json.data, json.len) == 0) {
		printf("notice %s sent to staff/%s/notices\n", n.identifier, n.group);
		rc = 0;
	}
	norm_buf_free(&json);
	return rc;
}
