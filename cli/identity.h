/*
 * The broker's identities: devices, staff and services, kept in a registry file
 * (BROKER_DIR/identities, one "KIND NAME VALUE" line each) from which the Mosquitto ACL
 * file is generated whole, so listing and removing are exact. Passwords live in the
 * broker's passwd file (identity_broker.c), never here.
 */
#ifndef CITYLINK_IDENTITY_H
#define CITYLINK_IDENTITY_H

#include <stddef.h>
#include <stdio.h>

#define IDENT_NAME_MAX 64
#define IDENT_GROUPS_MAX 16

enum ident_kind { IDENT_DEVICE, IDENT_STAFF, IDENT_SERVICE };

struct ident {
	enum ident_kind kind;
	char *name;
	/* device: its source; staff: groups joined by ','; service: its role */
	char *value;
};

struct ident_set {
	struct ident *v;
	size_t n, cap;
};

/* "device", "staff", "service". */
const char *ident_kind_name(enum ident_kind k);

/* A name, source or group: 1..64 of [A-Za-z0-9._-], starting with a letter or digit
 * (no MQTT wildcard, level separator, whitespace or ':' of the passwd file). what names
 * it in the message. Returns 0, or -1 with the reason in err. */
int ident_name_check(const char *what, const char *s, char *err, size_t len);

/* The service roles ("ingest", "alerts", "simulator", "monitor"): 1 if role is one. */
int ident_role_known(const char *role);

/* Reads path into an empty set; a missing file is an empty registry. Returns 0, -1 when
 * it cannot be read ("PATH: reason" in err) or -2 when a line is wrong ("PATH:LINE:
 * reason"). Free with ident_set_free. */
int ident_load(const char *path, struct ident_set *set, char *err, size_t len);

void ident_set_free(struct ident_set *set);

/* The entry named name (of any kind), or NULL. Valid until the set changes. */
const struct ident *ident_find(const struct ident_set *set, const char *name);

/* Adds a copy (the caller checked the name is free). */
void ident_add(struct ident_set *set, enum ident_kind kind, const char *name,
	       const char *value);

/* Removes name if it is of kind; returns 0, or -1 if there is no such entry. */
int ident_remove(struct ident_set *set, enum ident_kind kind, const char *name);

/* The registry and the ACL generated from it, each written to a temp file, synced and
 * renamed over path (mode 0640). Returns 0, or -1 with the reason in err. */
int ident_save(const char *path, const struct ident_set *set, char *err, size_t len);
int ident_write_acl(const char *path, const struct ident_set *set, char *err, size_t len);

/* One line per entry of kind, "NAME  VALUE", for `citylink KIND list`. */
void ident_print(FILE *out, const struct ident_set *set, enum ident_kind kind);

#endif
