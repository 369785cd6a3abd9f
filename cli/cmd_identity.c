/*
 * citylink device|staff|service add|list|remove: broker accounts. Each add writes the
 * password (mosquitto_passwd), the registry entry and the regenerated ACL under
 * --broker-dir (default /etc/citylink/broker), under a lock; Mosquitto applies them on
 * SIGHUP (--reload-pid FILE sends it, or `systemctl reload mosquitto`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/identity.h"
#include "cli/identity_broker.h"
#include "common/secret.h"

#define DEFAULT_BROKER_DIR "/etc/citylink/broker"

struct args {
	const char *verb, *name, *source, *role, *password_file, *dir, *reload_pid;
	const char *groups[IDENT_GROUPS_MAX];
	size_t ngroups;
};

static const char *const usages[] = {
	"usage: citylink device add ID --source SOURCE [COMMON]\n"
	"       citylink device list [--broker-dir DIR]\n"
	"       citylink device remove ID [COMMON]\n",
	"usage: citylink staff add NAME --group G [--group G2 ...] [COMMON]\n"
	"       citylink staff list [--broker-dir DIR]\n"
	"       citylink staff remove NAME [COMMON]\n",
	"usage: citylink service add NAME [--role ingest|alerts|simulator|monitor] [COMMON]\n"
	"       (the role defaults to NAME)\n"
	"       citylink service list [--broker-dir DIR]\n"
	"       citylink service remove NAME [COMMON]\n",
};

static int usage(enum ident_kind kind)
{
	fprintf(stderr, "%sCOMMON: [--broker-dir DIR] (default %s) [--password-file FILE] "
			"(add; default: a generated one, printed once) [--reload-pid FILE] (SIGHUP "
			"the broker)\n", usages[kind], DEFAULT_BROKER_DIR);
	return 2;
}

/* One "--flag value" pair into a; -1 if the flag is unknown or misplaced. */
static int take_flag(struct args *a, enum ident_kind kind, const char *flag, const char *value)
{
	if (strcmp(flag, "--broker-dir") == 0)
		a->dir = value;
	else if (strcmp(flag, "--password-file") == 0)
		a->password_file = value;
	else if (strcmp(flag, "--reload-pid") == 0)
		a->reload_pid = value;
	else if (kind == IDENT_DEVICE && strcmp(flag, "--source") == 0)
		a->source = value;
	else if (kind == IDENT_SERVICE && strcmp(flag, "--role") == 0)
		a->role = value;
	else if (kind == IDENT_STAFF && strcmp(flag, "--group") == 0 &&
		 a->ngroups < IDENT_GROUPS_MAX)
		a->groups[a->ngroups++] = value;
	else
		return -1;
	return 0;
}

static int parse_args(struct args *a, enum ident_kind kind, int argc, char **argv)
{
	int i = 1;

	*a = (struct args){.dir = DEFAULT_BROKER_DIR};
	if (argc < 1)
		return -1;
	a->verb = argv[0];
	if (strcmp(a->verb, "list") != 0) {
		if (argc < 2 || argv[1][0] == '-')
			return -1;
		a->name = argv[i++];
	}
	for (; i + 1 < argc; i += 2)
		if (take_flag(a, kind, argv[i], argv[i + 1]) != 0)
			return -1;
	return i == argc ? 0 : -1;
}

/* The registry's value for a new entry (source, "g1,g2", role) into buf (at least
 * IDENT_GROUPS_MAX * (IDENT_NAME_MAX + 1) bytes); 0, or -1 with the reason in err. */
static int entry_value(const struct args *a, enum ident_kind kind, char *buf, size_t len,
		       char *err, size_t errlen)
{
	size_t used = 0;

	if (kind == IDENT_DEVICE) {
		snprintf(buf, len, "%s", a->source);
		return ident_name_check("source", a->source, err, errlen);
	}
	if (kind == IDENT_SERVICE) {
		snprintf(buf, len, "%s", a->role != NULL ? a->role : a->name);
		if (ident_role_known(buf))
			return 0;
		snprintf(err, errlen, "unknown role \"%.64s\" (ingest, alerts, simulator or monitor; "
			 "give --role when the name is not one)", buf);
		return -1;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < a->ngroups; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(a->groups[i], a->groups[j]) == 0) {
				snprintf(err, errlen, "group \"%s\" given twice", a->groups[i]);
				return -1;
			}
		}
		if (ident_name_check("group", a->groups[i], err, errlen) != 0)
			return -1;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", a->groups[i]);
	}
	return 0;
}

/* The password to set: read from --password-file, or generated. NULL on error. */
static char *new_password(const struct args *a, int *generated, char *err, size_t len)
{
	char buf[64];

	*generated = a->password_file == NULL;
	if (!*generated)
		return secret_read(a->password_file, err, len);
	if (broker_password_generate(buf, sizeof(buf), err, len) != 0)
		return NULL;
	return strdup(buf);
}

/* What the new account may do, for the confirmation line. */
static void describe(const struct ident *e)
{
	if (e->kind == IDENT_DEVICE)
		printf("device %s added: may publish to city/%s/%s/#\n", e->name, e->value, e->name);
	else if (e->kind == IDENT_STAFF)
		printf("staff %s added: may read staff/{%s}/# and publish to staff/ack/#\n",
		       e->name, e->value);
	else
		printf("service %s added with role %s\n", e->name, e->value);
}

static void path_in(char *buf, size_t len, const char *dir, const char *file)
{
	snprintf(buf, len, "%s/%s", dir, file);
}

/* Registry and ACL written, then the broker told (or the operator reminded). */
static int commit(const struct args *a, const struct ident_set *set, char *err, size_t len)
{
	char path[4096];

	path_in(path, sizeof(path), a->dir, "identities");
	if (ident_save(path, set, err, len) != 0)
		return -1;
	path_in(path, sizeof(path), a->dir, "acl");
	if (ident_write_acl(path, set, err, len) != 0)
		return -1;
	if (a->reload_pid != NULL)
		return broker_reload(a->reload_pid, err, len);
	return 0;
}

/* The password is set before the ACL names the account: a failure in between leaves an
 * account that may do nothing, never one with rights and an unknown password. */
static int add(const struct args *a, enum ident_kind kind, struct ident_set *set, char *err,
	       size_t len)
{
	char value[IDENT_GROUPS_MAX * (IDENT_NAME_MAX + 1)], passwd[4096];
	const struct ident *found;
	char *pw = NULL;
	int generated, rc = -1;

	if (ident_name_check(ident_kind_name(kind), a->name, err, len) != 0 ||
	    entry_value(a, kind, value, sizeof(value), err, len) != 0)
		return 1;
	if ((found = ident_find(set, a->name)) != NULL) {
		snprintf(err, len, "\"%s\" already exists (a %s); remove it first", a->name,
			 ident_kind_name(found->kind));
		return 1;
	}
	if ((pw = new_password(a, &generated, err, len)) == NULL)
		return -1;
	path_in(passwd, sizeof(passwd), a->dir, "passwd");
	if (broker_passwd_set(passwd, a->name, pw, err, len) != 0)
		goto out;
	ident_add(set, kind, a->name, value);
	if (commit(a, set, err, len) != 0)
		goto out;
	describe(&set->v[set->n - 1]);
	if (generated)
		printf("password: %s\n", pw);
	rc = 0;
out:
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return rc;
}

static int remove_one(const struct args *a, enum ident_kind kind, struct ident_set *set,
		      char *err, size_t len)
{
	char passwd[4096];

	if (ident_remove(set, kind, a->name) != 0) {
		snprintf(err, len, "no %s \"%s\"", ident_kind_name(kind), a->name);
		return 1;
	}
	/* Rights go first, then the password. */
	if (commit(a, set, err, len) != 0)
		return -1;
	path_in(passwd, sizeof(passwd), a->dir, "passwd");
	if (broker_passwd_delete(passwd, a->name, err, len) != 0)
		return -1;
	printf("%s %s removed\n", ident_kind_name(kind), a->name);
	return 0;
}

static int run(enum ident_kind kind, int argc, char **argv)
{
	struct ident_set set = {0};
	char err[1024] = "", path[4096];
	struct args a;
	int lock = -1, rc = 2;

	if (parse_args(&a, kind, argc, argv) != 0)
		return usage(kind);
	if (strcmp(a.verb, "add") == 0 &&
	    ((kind == IDENT_DEVICE && a.source == NULL) || (kind == IDENT_STAFF && a.ngroups == 0)))
		return usage(kind);
	if (strcmp(a.verb, "list") != 0 && (lock = broker_lock(a.dir, err, sizeof(err))) < 0)
		goto out;
	path_in(path, sizeof(path), a.dir, "identities");
	if ((rc = ident_load(path, &set, err, sizeof(err))) != 0) {
		rc = rc == -2 ? 1 : 2;
		goto out;
	}
	if (strcmp(a.verb, "list") == 0) {
		ident_print(stdout, &set, kind);
		rc = 0;
	} else if (strcmp(a.verb, "add") == 0) {
		rc = add(&a, kind, &set, err, sizeof(err));
	} else if (strcmp(a.verb, "remove") == 0) {
		rc = remove_one(&a, kind, &set, err, sizeof(err));
	} else {
		rc = usage(kind);
		err[0] = '\0';
	}
	rc = rc < 0 ? 2 : rc;
	if (rc == 0 && strcmp(a.verb, "list") != 0 && a.reload_pid == NULL) {
		fflush(stdout);
		fprintf(stderr, "citylink: the broker applies this on reload: systemctl reload "
				"mosquitto\n");
	}
out:
	if (rc != 0 && err[0] != '\0')
		fprintf(stderr, "citylink: %s %s: %s\n", ident_kind_name(kind), a.verb, err);
	if (lock >= 0)
		close(lock);
	ident_set_free(&set);
	return rc;
}

int cmd_device(int argc, char **argv)
{
	return run(IDENT_DEVICE, argc, argv);
}

int cmd_staff(int argc, char **argv)
{
	return run(IDENT_STAFF, argc, argv);
}

int cmd_service(int argc, char **argv)
{
	return run(IDENT_SERVICE, argc, argv);
}
