/*
 * A download over HTTP or HTTPS with libevent's HTTP client, on an event
 * loop of its own: it blocks, so it runs in a child process (the
 * supervisor's fetcher of artifacts, the controller's of repository
 * indexes and package archives), never on a daemon's loop.  The body
 * streams to the file and through the digest as it arrives, so a file of
 * any size costs a buffer of memory.  HTTPS verifies the server against
 * the system's CAs and its name.  Redirects (a release download usually is
 * one) are followed, at most MAX_REDIRECTS, and a connection idle for
 * IDLE_TIMEOUT_S is given up.
 */
#include "proto/proto.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#define MAX_REDIRECTS  5
#define IDLE_TIMEOUT_S 60
#define LOCATION_MAX   ACRE_HTTP_URI_MAX

static void uri_freep(struct evhttp_uri **u)
{
	if (*u)
		evhttp_uri_free(*u);
}

static void base_freep(struct event_base **b)
{
	if (*b)
		event_base_free(*b);
}

struct get {
	struct event_base *base;
	struct bufferevent *bev;
	int fd;
	EVP_MD_CTX *md; /* NULL: no digest */
	uint64_t size;
	int status;
	char location[LOCATION_MAX];
	char *why;
	size_t why_len;
	int rc;
};

static int fail(struct get *g, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct get *g, int rc, const char *fmt, ...)
{
	if (g->rc == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(g->why, g->why_len, fmt, ap);
		va_end(ap);
		g->rc = rc;
	}
	return rc;
}

static int on_headers(struct evhttp_request *req, void *arg)
{
	struct get *g = arg;
	g->status = evhttp_request_get_response_code(req);
	const char *loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
	if (loc)
		snprintf(g->location, sizeof(g->location), "%s", loc);
	return 0;
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
	struct get *g = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char buf[65536];
	int n;
	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0) {
		if (g->status != 200 || g->rc)
			continue; /* a redirect's or an error's body: not the artifact */
		if (write(g->fd, buf, (size_t)n) != n) {
			fail(g, -errno ? -errno : -EIO, "writing the download: %s",
			     strerror(errno));
			continue;
		}
		if (g->md)
			EVP_DigestUpdate(g->md, buf, (size_t)n);
		g->size += (uint64_t)n;
	}
}

static void describe_tls_error(struct get *g)
{
	unsigned long e = g->bev ? bufferevent_get_openssl_error(g->bev) : 0;
	if (e) {
		char tls[256];
		ERR_error_string_n(e, tls, sizeof(tls));
		fail(g, -EPROTO, "TLS: %s", tls);
	}
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct get *g = arg;
	describe_tls_error(g);
	fail(g, e == EVREQ_HTTP_TIMEOUT ? -ETIMEDOUT : -EIO, "%s",
	     e == EVREQ_HTTP_TIMEOUT	      ? "timed out"
	     : e == EVREQ_HTTP_EOF	      ? "the connection closed before the end"
	     : e == EVREQ_HTTP_INVALID_HEADER ? "an invalid response header"
					      : "the request failed");
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct get *g = arg;
	if (!req) {
		describe_tls_error(g);
		fail(g, -ECONNREFUSED, "no response (connection refused or reset)");
	} else if (g->status == 0) {
		g->status = evhttp_request_get_response_code(req);
	}
	event_base_loopexit(g->base, NULL);
}

static SSL_CTX *client_tls(struct get *g)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		fail(g, -EPROTO, "TLS: no client context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

static struct bufferevent *connect_bev(struct get *g, SSL_CTX *ctx, const char *host)
{
	if (!ctx)
		return bufferevent_socket_new(g->base, -1, BEV_OPT_CLOSE_ON_FREE);
	SSL *ssl = SSL_new(ctx);
	/* An address is checked against the certificate's IP names, and sent no SNI (RFC 6066). */
	unsigned char addr[16];
	bool literal = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	bool named = ssl && (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
				     : SSL_set_tlsext_host_name(ssl, host) == 1 &&
					       SSL_set1_host(ssl, host) == 1);
	if (!named) {
		SSL_free(ssl);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		g->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* One GET of uri; its status in g->status, a redirect's target in g->location. */
static int get_once(struct get *g, const char *uri)
{
	_cleanup_(uri_freep) struct evhttp_uri *u = evhttp_uri_parse(uri);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	if (!scheme || !host || !*host || (strcmp(scheme, "http") && strcmp(scheme, "https")))
		return fail(g, -EINVAL, "not an http(s) URI with a host");
	bool tls = !strcmp(scheme, "https");
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : tls ? 443 : 80;
	char target[LOCATION_MAX];
	const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
	snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/", query ? "?" : "",
		 query ? query : "");
	SSL_CTX *ctx = tls ? client_tls(g) : NULL;
	if (tls && !ctx)
		return g->rc;
	g->bev = connect_bev(g, ctx, host);
	struct evhttp_connection *conn =
		g->bev ? evhttp_connection_base_bufferevent_new(g->base, NULL, g->bev, host,
								(unsigned short)port)
		       : NULL;
	struct evhttp_request *req = conn ? evhttp_request_new(on_done, g) : NULL;
	if (!req) {
		if (conn)
			evhttp_connection_free(conn);
		else if (g->bev)
			bufferevent_free(g->bev);
		SSL_CTX_free(ctx);
		g->bev = NULL;
		return fail(g, -ENOMEM, "setting up the request");
	}
	evhttp_connection_set_timeout(conn, IDLE_TIMEOUT_S);
	evhttp_request_set_header_cb(req, on_headers);
	evhttp_request_set_chunked_cb(req, on_chunk);
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "User-Agent", "acre/" ACRE_VERSION);
	evhttp_add_header(h, "Connection", "close");
	g->status = 0;
	g->location[0] = '\0';
	if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, target) < 0)
		fail(g, -EIO, "sending the request");
	else
		event_base_dispatch(g->base);
	evhttp_connection_free(conn); /* frees the bufferevent, and with it the SSL */
	g->bev = NULL;
	SSL_CTX_free(ctx);
	return g->rc;
}

/* Starts the file and the digest again, for the body that comes after a redirect. */
static int restart_body(struct get *g)
{
	g->size = 0;
	if (ftruncate(g->fd, 0) < 0 || lseek(g->fd, 0, SEEK_SET) < 0)
		return fail(g, -errno, "truncating the download: %s", strerror(errno));
	if (g->md && EVP_DigestInit_ex(g->md, EVP_sha256(), NULL) != 1)
		return fail(g, -EIO, "starting the digest");
	return 0;
}

/* A redirect's Location against the URI it came from: absolute, or a path on the same server. */
static int next_uri(struct get *g, const char *from, char *out, size_t len)
{
	if (!strncmp(g->location, "http://", 7) || !strncmp(g->location, "https://", 8)) {
		snprintf(out, len, "%s", g->location);
		return 0;
	}
	if (g->location[0] != '/')
		return fail(g, -EPROTO, "HTTP %d without a usable Location", g->status);
	const char *host = strstr(from, "://") + 3;
	size_t origin = (size_t)(host - from) + strcspn(host, "/?#");
	if ((size_t)snprintf(out, len, "%.*s%s", (int)origin, from, g->location) >= len)
		return fail(g, -E2BIG, "a redirect too long");
	return 0;
}

int acre_proto_http_get(const char *uri, int fd, void *md, uint64_t *size, char *why, size_t len)
{
	_cleanup_(base_freep) struct event_base *base = event_base_new();
	if (!base)
		return -ENOMEM;
	struct get g = {.base = base, .fd = fd, .md = md, .why = why, .why_len = len};
	char current[LOCATION_MAX], next[LOCATION_MAX];
	snprintf(current, sizeof(current), "%s", uri);
	for (int hop = 0;; hop++) {
		if (restart_body(&g) < 0 || get_once(&g, current) < 0)
			return g.rc;
		if (g.status == 200)
			break;
		bool redirect = g.status == 301 || g.status == 302 || g.status == 303 ||
				g.status == 307 || g.status == 308;
		if (!redirect)
			return fail(&g, -EIO, "HTTP %d", g.status);
		if (hop == MAX_REDIRECTS)
			return fail(&g, -ELOOP, "more than %d redirects", MAX_REDIRECTS);
		if (next_uri(&g, current, next, sizeof(next)) < 0)
			return g.rc;
		snprintf(current, sizeof(current), "%s", next);
	}
	*size = g.size;
	return 0;
}
