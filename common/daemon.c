/* Start-up steps shared by the daemons (see daemon.h). */
#include "common/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "common/secret.h"
#include "common/sd_notify.h"
#include "common/schema_dir.h"

void daemon_print_diags(const struct norm_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->lines[i]);
	if (d->dropped > 0)
		fprintf(stderr, "(%zu more problems not shown)\n", d->dropped);
}

struct config *daemon_read_config(const struct config_def *defs, size_t n, int argc,
				  char **argv, struct config_flags *flags)
{
	struct config *c = config_create(defs, n);
	struct norm_diags d = {0};

	if (c == NULL)
		fatalx("out of memory");
	if (config_parse_args(c, argc, argv, flags, &d) != 0) {
		daemon_print_diags(&d);
		diags_clear(&d);
		config_free(c);
		return NULL;
	}
	diags_clear(&d);
	return c;
}

struct norm_schema *daemon_load_schemas(const char *dir)
{
	struct norm_schema *s = NULL;
	struct norm_diags d = {0};
	int rc = schema_dir_load(dir, &s, &d);

	if (rc == -2)
		fatalx("out of memory loading %s", dir);
	if (rc != 0)
		daemon_print_diags(&d);
	diags_clear(&d);
	return s;
}

void daemon_run(const sigset_t *signals, const struct daemon_loop *l, void *ctx)
{
	for (;;) {
		long ms = l->wait_ms != NULL ? l->wait_ms(ctx) : DAEMON_TICK_MS;
		struct timespec wait = {ms / 1000, (ms % 1000) * 1000000L};
		int sig = sigtimedwait(signals, NULL, &wait);

		if (sig == SIGTERM || sig == SIGINT) {
			log_info("event=stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
			return;
		}
		if (sig == SIGHUP) {
			sd_notify_send("RELOADING=1");
			l->reload(ctx);
			sd_notify_send("READY=1");
		}
		l->tick(ctx);
	}
}

struct mqtt *daemon_mqtt_create(const struct config *c, struct mqtt_options *mo,
				mqtt_message_fn on_message, void *ctx)
{
	const char *password_file = config_string(c, "password_file");
	char err[512], *password = NULL;
	struct mqtt *m;

	if (password_file != NULL && (password = secret_read(password_file, err, sizeof(err))) == NULL)
		fatalx("event=password_unreadable error=\"%s\"", err);
	mo->uri = config_string(c, "broker");
	mo->username = config_string(c, "username");
	mo->password = password;
	mo->ca_file = config_string(c, "ca_file");
	mo->cert_file = config_string(c, "cert_file");
	mo->key_file = config_string(c, "key_file");
	m = mqtt_create(mo, on_message, ctx, err, sizeof(err));
	free(password);
	if (m == NULL)
		fatalx("event=mqtt_failed error=\"%s\"", err);
	return m;
}
