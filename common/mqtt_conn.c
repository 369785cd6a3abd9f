/*
 * TCP and TLS byte streams for the MQTT client (see mqtt_conn.h).
 */
#include "common/mqtt_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/clock.h"
#include "common/xmalloc.h"

struct mqtt_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int wants_write;
};

struct endpoint {
	char host[256], port[16];
	int tls;
};

/* scheme://host[:port] or scheme://[v6]:port; the port defaults to 1883 or 8883. */
static int parse_uri(const char *uri, struct endpoint *e, char *err, size_t errlen)
{
	const char *hp = strstr(uri, "://"), *end, *port = NULL;
	size_t scheme = hp ? (size_t)(hp - uri) : 0;

	if (hp == NULL)
		goto bad;
	if ((scheme == 4 && strncmp(uri, "mqtt", 4) == 0) || (scheme == 3 && strncmp(uri, "tcp", 3) == 0))
		e->tls = 0;
	else if ((scheme == 5 && strncmp(uri, "mqtts", 5) == 0) || (scheme == 3 && strncmp(uri, "ssl", 3) == 0))
		e->tls = 1;
	else
		goto bad;
	hp += 3;
	if (*hp == '[') {
		if ((end = strchr(hp, ']')) == NULL)
			goto bad;
		hp++;
		port = end[1] == ':' ? end + 2 : end[1] == '\0' ? NULL : "";
	} else {
		end = strchr(hp, ':');
		port = end != NULL ? end + 1 : NULL;
		end = end != NULL ? end : hp + strlen(hp);
	}
	if (end == hp || (size_t)(end - hp) >= sizeof(e->host) || (port && (*port == '\0' ||
	    strlen(port) >= sizeof(e->port) || strspn(port, "0123456789") != strlen(port))))
		goto bad;
	snprintf(e->host, sizeof(e->host), "%.*s", (int)(end - hp), hp);
	snprintf(e->port, sizeof(e->port), "%s", port ? port : e->tls ? "8883" : "1883");
	return 0;
bad:
	snprintf(err, errlen, "broker URI %s: expected mqtt://HOST:PORT or mqtts://HOST:PORT", uri);
	return -1;
}

int mqtt_conn_check(const struct mqtt_conn_options *o, char *err, size_t errlen)
{
	struct endpoint e;

	if (o->uri == NULL || parse_uri(o->uri, &e, err, errlen) != 0)
		return o->uri == NULL ? (snprintf(err, errlen, "no broker URI"), -1) : -1;
	if ((o->cert_file == NULL) != (o->key_file == NULL)) {
		snprintf(err, errlen, "a client certificate needs both cert_file and key_file");
		return -1;
	}
	return 0;
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - clock_mono_ms();
	return left > 0 ? (int)left : 0;
}

/* A non-blocking connect bounded by the deadline: the socket, or -1 with err. */
static int dial_one(const struct addrinfo *ai, int64_t deadline, char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int soerr = 0, one = 1;
	socklen_t len = sizeof(soerr);
	struct pollfd p;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		soerr = errno;
	} else {
		p = (struct pollfd){.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, remaining(deadline)) != 1)
			soerr = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			soerr = errno;
	}
	if (soerr != 0) {
		snprintf(err, errlen, "connect: %s", strerror(soerr));
		close(fd);
		return -1;
	}
	/* Small publishes and acks must not wait for the peer's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int dial(const struct endpoint *e, int64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list, *ai;
	int fd = -1, rc = getaddrinfo(e->host, e->port, &hints, &list);

	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", e->host, gai_strerror(rc));
		return -1;
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = dial_one(ai, deadline, err, errlen);
	freeaddrinfo(list);
	return fd;
}

static void tls_error(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "TLS %s: %s", what, buf[0] ? buf : "failed");
}

static SSL_CTX *tls_context(const struct mqtt_conn_options *o, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls_error("context", err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* The client's output buffer moves as it grows; a retried write may carry more. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
			: SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		tls_error(o->ca_file ? o->ca_file : "system CAs", err, errlen);
		goto fail;
	}
	if (o->cert_file != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		tls_error(o->cert_file, err, errlen);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The handshake on the still-blocking socket, bounded by socket timeouts. */
static int tls_handshake(struct mqtt_conn *c, const struct endpoint *e, int64_t deadline,
			 char *err, size_t errlen)
{
	int ms = remaining(deadline);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, e->host, ip) == 1 || inet_pton(AF_INET6, e->host, ip) == 1;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		tls_error("session", err, errlen);
		return -1;
	}
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), e->host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, e->host);
		SSL_set1_host(c->ssl, e->host);
	}
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK) {
			snprintf(err, errlen, "TLS: the broker's certificate: %s",
				 X509_verify_cert_error_string(v));
			ERR_clear_error();
		} else {
			tls_error("handshake", err, errlen);
		}
		return -1;
	}
	tv = (struct timeval){0, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

struct mqtt_conn *mqtt_conn_open(const struct mqtt_conn_options *o, int timeout_ms, char *err,
				 size_t errlen)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	struct mqtt_conn *c;
	struct endpoint e;

	if (mqtt_conn_check(o, err, errlen) != 0 || parse_uri(o->uri, &e, err, errlen) != 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	if ((c->fd = dial(&e, deadline, err, errlen)) < 0)
		goto fail;
	if (e.tls) {
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
		if ((c->ctx = tls_context(o, err, errlen)) == NULL ||
		    tls_handshake(c, &e, deadline, err, errlen) != 0)
			goto fail;
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	}
	return c;
fail:
	mqtt_conn_close(c);
	return NULL;
}

void mqtt_conn_close(struct mqtt_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int mqtt_conn_fd(const struct mqtt_conn *c)
{
	return c->fd;
}

/* What an SSL_read or SSL_write result means: bytes, 0 (again later) or -1 (err). */
static ssize_t tls_result(struct mqtt_conn *c, int n, char *err, size_t errlen)
{
	int e;

	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->wants_write = 1;
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(err, errlen, "the broker closed the connection");
	else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(err, errlen, "%s", errno ? strerror(errno) : "the broker closed the connection");
	else
		tls_error("connection", err, errlen);
	return -1;
}

ssize_t mqtt_conn_read(struct mqtt_conn *c, void *buf, size_t len, char *err, size_t errlen)
{
	ssize_t n;

	if (c->ssl != NULL) {
		c->wants_write = 0;
		errno = 0;
		return tls_result(c, SSL_read(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len), err, errlen);
	}
	n = recv(c->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	snprintf(err, errlen, "%s", n == 0 ? "the broker closed the connection" : strerror(errno));
	return -1;
}

ssize_t mqtt_conn_write(struct mqtt_conn *c, const void *buf, size_t len, char *err,
			size_t errlen)
{
	ssize_t n;

	if (len == 0)
		return 0;
	if (c->ssl != NULL) {
		c->wants_write = 0;
		errno = 0;
		n = tls_result(c, SSL_write(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len), err, errlen);
		c->wants_write |= n == 0;
		return n;
	}
	n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	snprintf(err, errlen, "%s", strerror(errno));
	return -1;
}

int mqtt_conn_pending(const struct mqtt_conn *c)
{
	return c->ssl != NULL && SSL_pending(c->ssl) > 0;
}

int mqtt_conn_wants_write(const struct mqtt_conn *c)
{
	return c->wants_write;
}
