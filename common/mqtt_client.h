/*
 * Inside the MQTT client (mqtt.h): the state that the application's side (mqtt.c) and
 * the I/O thread (mqtt_io.c) share, and the few helpers both use. Nothing else includes
 * this header.
 */
#ifndef CITYLINK_MQTT_CLIENT_H
#define CITYLINK_MQTT_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mqtt.h"
#include "common/mqtt_conn.h"
#include "common/mqtt_wire.h"

/* How long a clean disconnect may take to go out. */
#define DISCONNECT_TIMEOUT_MS 2000

/* One encoded PUBLISH, queued or in flight (then under its packet id). */
struct outmsg {
	struct outmsg *next, *prev;
	size_t len, id_off;
	uint16_t id;
	uint8_t qos;
	unsigned char bytes[];
};

struct msg_list {
	struct outmsg *head, *tail;
};

/* A SUBSCRIBE or UNSUBSCRIBE waiting for its answer. */
struct subreq {
	uint16_t id;
	int unsub;
	char *filter;
};

struct mqtt {
	/* Set at creation, read-only afterwards. */
	struct mqtt_conn_options conn;
	struct mqtt_connect_params cp;
	char *uri, *ca, *cert, *key, *client_id, *username, *password, *will_topic, *will_payload;
	mqtt_message_fn on_message;
	void *ctx;
	size_t max_pending;
	pthread_t thread;
	int wake_fd;
	atomic_int wake_sent;

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int running, quit, connected, ready, subs_dirty, pause_will;
	char last_error[256];
	char **filters;
	size_t n_filters;
	struct msg_list queued;
	size_t pending;              /* queued + in flight */

	/* The I/O thread's alone. */
	struct mqtt_conn *c;
	struct mqtt_wbuf out;
	size_t out_off;
	unsigned char *rx;
	size_t rx_len, rx_cap;
	struct outmsg **inflight;    /* by packet id */
	struct msg_list sent;        /* in flight, oldest first */
	size_t n_inflight, receive_max;
	unsigned char *id_used;      /* 65536 flags: publishes and subscription requests */
	uint16_t next_id;
	struct subreq *subreqs;
	size_t n_subreqs;
	char **subscribed;           /* what this connection subscribed */
	size_t n_subscribed;
	int keepalive_ms, got_connack, sub_failed;
	int64_t last_write_ms, last_read_ms, ping_sent_ms;
};

/* The I/O thread (pthread start routine, arg the client), and what it leaves to free
 * once joined. */
void *mqtt_io_main(void *arg);
void mqtt_io_free_state(struct mqtt *m);

/* Records a problem for status reports; caller holds mu. */
void mqtt_set_error(struct mqtt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void mqtt_list_push(struct msg_list *l, struct outmsg *o);
void mqtt_list_remove(struct msg_list *l, struct outmsg *o);
void mqtt_list_free(struct msg_list *l);  /* frees every message */

/* A copy of n strings (caller frees with mqtt_strings_free). */
char **mqtt_strings_copy(char *const *list, size_t n);
void mqtt_strings_free(char **list, size_t n);

#endif
