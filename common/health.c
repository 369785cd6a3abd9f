/* The shared part of the daemons' health reports (see health.h). */
#include "common/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sd_notify.h"
#include "normalizer/timefmt.h"

void health_topic(const char *service, const char *client_id, char *buf, size_t len)
{
	snprintf(buf, len, "citylink/status/%s/%s", service, client_id);
}

void health_add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[TIME_RFC3339_LEN];
	time_format_rfc3339(ms, buf);
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *health_begin(const char *service, const char *client_id, const char *state,
		    int64_t started_ms)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		fatalx("out of memory");
	cJSON_AddStringToObject(o, "service", service);
	cJSON_AddStringToObject(o, "client_id", client_id);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "version", HEALTH_VERSION);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	if (started_ms > 0) {
		health_add_time(o, "time", clock_wall_ms());
		health_add_time(o, "started", started_ms);
	}
	return o;
}

char *health_finish(cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (text == NULL)
		fatalx("out of memory");
	return text;
}

void health_send(struct mqtt *m, const char *topic, const char *json, const char *line)
{
	char err[400], note[420];

	if (mqtt_connected(m) &&
	    mqtt_publish(m, topic, json, strlen(json), 1, 1, 1000, err, sizeof(err)) != 0)
		log_warnx("event=status_publish_failed error=\"%s\"", err);
	snprintf(note, sizeof(note), "STATUS=%s", line);
	sd_notify_send(note);
}
